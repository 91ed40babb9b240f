import { describe, expect, it } from 'vitest';
import { Decimal, decimalInput } from '../lib/money.js';
import { parseJsonBody } from './jsonBody.js';

describe('JSON request bodies', () => {
  it('keeps numbers a JS number cannot hold exactly as their digits', () => {
    const body = parseJsonBody('{"price": 0.1, "count": 12, "exact": 0.1000000000000000055511151231257827, "big": 12345678901234567890.25}') as Record<string, unknown>;
    expect(body).toEqual({ price: 0.1, count: 12, exact: '0.1000000000000000055511151231257827', big: '12345678901234567890.25' });
    expect(decimalInput.parse(body.exact)).toEqual(new Decimal('0.1000000000000000055511151231257827'));
    expect(decimalInput.parse(body.big).toFixed()).toBe('12345678901234567890.25');
  });

  it('never sets a prototype from a __proto__ key', () => {
    const body = parseJsonBody('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(Object.keys(body)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads an empty body as no body, and refuses malformed JSON with a 400', () => {
    expect(parseJsonBody('  ')).toBeUndefined();
    expect(() => parseJsonBody('{"a": 1,}')).toThrow(expect.objectContaining({ statusCode: 400, message: expect.stringContaining('not valid JSON') }));
    expect(() => parseJsonBody('{"a": 1, "a": 2}')).toThrow(expect.objectContaining({ statusCode: 400 }));
  });
});
