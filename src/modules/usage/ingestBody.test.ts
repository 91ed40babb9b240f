import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../http/jsonBody.js';
import { ingestBodyText, nativeParseIsExact, NumberLiteral, parseIngestJson } from './ingestBody.js';

/** The value with every `NumberLiteral` as its digits: what the lossless parser gives. */
const asDigits = (value: unknown): unknown => {
  if (value instanceof NumberLiteral) return value.digits;
  if (Array.isArray(value)) return value.map(asDigits);
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) Object.defineProperty(copy, key, { value: asDigits((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
  return copy;
};
const ingestParse = (text: string) => asDigits(parseIngestJson(text));

const outcome = (parse: (text: string) => unknown, text: string) => {
  try {
    return { value: parse(text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

/** JSON text with number literals of any length and form, repeated keys, and strings full of quotes, backslashes and colons. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.stringMatching(/^-?(0|[1-9]\d{0,24})(\.\d{1,24})?([eE][+-]?\d{1,3})?$/),
    fc.string({ unit: 'grapheme' }).map((text) => JSON.stringify(text)),
    fc.constantFrom('true', 'false', 'null', '"a\\"b:c"', '"\\\\"', '"12345678901234567890"'),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`),
    fc
      .array(fc.tuple(fc.constantFrom('a', 'b', 'tokens', '__proto__', 'x:y'), tie('value')), { maxLength: 4 })
      .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}: ${value}`).join(', ')}}`),
  ),
})).value;

describe('parseIngestJson', () => {
  it('gives exactly what the lossless parser gives, numbers a double cannot hold marked as such, for any JSON text (or the same error)', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        expect(outcome(ingestParse, text)).toEqual(outcome(parseJsonBody, text));
      }),
      { numRuns: 3000 },
    );
    for (const text of ['', '  ', '[1,', '{"a":1,"a":2}', '{"a":1,"a":1}', '[12345678901234567890, 0.1000000000000000055, 1e400, 1.5e-7]', `${'['.repeat(100)}${']'.repeat(100)}`, `${'['.repeat(100_000)}${']'.repeat(100_000)}`]) {
      expect(outcome(ingestParse, text), text).toEqual(outcome(parseJsonBody, text));
    }
    expect(parseIngestJson('[1e400, "1e400", 0.1000000000000000055, 12]')).toEqual([new NumberLiteral('1e400'), '1e400', new NumberLiteral('0.1000000000000000055'), 12]);
  });

  it('takes the native parser for typical ingest bodies, and the lossless one when a number could round', () => {
    const event = (properties: string) =>
      `{"transaction_id":"0190c6b5-8e9d-7e4e-9f3b-2c1d0e9f8a7b","customer_id":"acme-ai","event_type":"chat","timestamp":"2024-05-10T10:00:00.123Z","properties":${properties}}`;
    expect(nativeParseIsExact(`[${event('{"user_id":"user-12345678901234567890","tokens":1532,"cost":0.000125}')}]`)).toBe(true);
    expect(nativeParseIsExact(`[${event('{"tokens":123456789012345}')}]`)).toBe(true);
    expect(nativeParseIsExact(`[${event('{"tokens":1234567890123456}')}]`)).toBe(false);
    expect(nativeParseIsExact(`[${event('{"tokens":12345678.12345678}')}]`)).toBe(false);
    expect(nativeParseIsExact(`[${event('{"tokens":1e3}')}]`)).toBe(false);
    expect(parseIngestJson(`[${event('{"tokens":123456789012345.123456789012345}')}]`)).toEqual([
      expect.objectContaining({ properties: { tokens: new NumberLiteral('123456789012345.123456789012345') } }),
    ]);
  });
});

describe('ingestBodyText', () => {
  it('gunzips, stops at the limit, and refuses what is not gzip', async () => {
    expect(await ingestBodyText(gzipSync('[1]'), 'gzip', 100)).toBe('[1]');
    expect(await ingestBodyText(Buffer.from('[1]'), undefined, 100)).toBe('[1]');
    await expect(ingestBodyText(gzipSync(Buffer.alloc(1000, ' ')), 'GZIP', 999)).rejects.toMatchObject({
      statusCode: 413,
      message: 'Request body is larger than the limit of 999 bytes once decompressed',
    });
    await expect(ingestBodyText(Buffer.from('plain'), 'gzip', 100)).rejects.toMatchObject({ statusCode: 400 });
  });
});
