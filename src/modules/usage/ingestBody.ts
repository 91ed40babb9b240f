import { gunzip } from 'node:zlib';
import { parseJsonBody } from '../../http/jsonBody.js';

/**
 * What a scan of JSON text found: whether `JSON.parse` is sure to give what the lossless parser
 * would (every number literal has at most 15 digits and no exponent, and nesting is shallow), and
 * how many object keys the text holds (the `:` outside strings).
 */
interface Scan {
  nativeIsExact: boolean;
  keys: number;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

/** The most digits a number literal may have for `JSON.parse` to give the number `jsonBody.ts` would. */
const SAFE_DIGITS = 15;
/** Deeper nesting goes to the lossless parser, which is recursive and refuses what overflows its stack. */
const SAFE_DEPTH = 64;

function scan(text: string): Scan {
  let keys = 0;
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      // Jump to the closing quote: the next one not escaped by an odd run of backslashes.
      let end = text.indexOf('"', i + 1);
      while (end !== -1) {
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
        if (backslashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) return { nativeIsExact: true, keys }; // malformed: JSON.parse says so
      i = end;
    } else if (code === COLON) {
      keys++;
    } else if (code === 91 || code === 123) {
      if (++depth > SAFE_DEPTH) return { nativeIsExact: false, keys }; // [ {
    } else if (code === 93 || code === 125) {
      depth--; // ] }
    } else if ((code >= ZERO && code <= NINE) || code === MINUS) {
      let digits = 0;
      for (; i < length; i++) {
        const c = text.charCodeAt(i);
        if (c >= ZERO && c <= NINE) digits++;
        else if (c === 101 || c === 69) return { nativeIsExact: false, keys }; // e, E
        else if (c !== 46 && c !== MINUS && c !== 43) break; // . - +
      }
      if (digits > SAFE_DIGITS) return { nativeIsExact: false, keys };
      i--;
    }
  }
  return { nativeIsExact: true, keys };
}

/**
 * A JSON number literal that a double does not hold exactly (`1e400`, `0.1000000000000000055`),
 * as the ingest parser hands it over: its digits, marked as a number so that the body's schema
 * applies the number bound to it (a string of the same digits is only text) before storing it as
 * its digits.
 */
export class NumberLiteral {
  constructor(readonly digits: string) {}
}

const numberLiteral = (digits: string) => new NumberLiteral(digits);

function countKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let keys = 0;
  if (Array.isArray(value)) {
    for (const item of value) keys += countKeys(item);
    return keys;
  }
  for (const key in value) {
    keys += 1 + countKeys((value as Record<string, unknown>)[key]);
  }
  return keys;
}

/**
 * Parses an ingest body to what `parseJsonBody` (the lossless parser every route uses) returns,
 * except that a number a double does not hold exactly is a `NumberLiteral` rather than a string;
 * with the native `JSON.parse` whenever that is sure to give the same value, which is
 * several times faster. That holds when every number literal has at most 15 digits and no exponent
 * (a double then holds it exactly, so the lossless parser would hand over the same number), arrays
 * and objects nest at most 64 deep, and no
 * object repeats a key (the lossless parser refuses a key repeated with another value, where
 * `JSON.parse` would keep the last): the keys `JSON.parse` produced are counted against the `:`
 * in the text. Anything else, malformed text included, goes to the lossless parser, so errors
 * read the same as on every other route.
 */
export function parseIngestJson(text: string): unknown {
  const found = scan(text);
  if (found.nativeIsExact) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return parseJsonBody(text, numberLiteral);
    }
    if (countKeys(value) === found.keys) return value;
  }
  return parseJsonBody(text, numberLiteral);
}

/** The body decompressed is over the limit: a 413, so that a small gzip bomb cannot exhaust memory. */
class DecompressedTooLarge extends Error {
  readonly statusCode = 413;
}

/** The body is not gzip: a 400. */
class MalformedGzip extends Error {
  readonly statusCode = 400;
}

/**
 * The text of an ingest body: as sent, or gunzipped when `Content-Encoding: gzip`, never more
 * than `limit` bytes once decompressed (zlib stops at the limit rather than inflating the rest).
 */
export async function ingestBodyText(body: Buffer, encoding: string | undefined, limit: number): Promise<string> {
  if (!encoding || encoding.toLowerCase() === 'identity') return body.toString('utf8');
  const inflated = await new Promise<Buffer>((resolve, reject) => {
    gunzip(body, { maxOutputLength: limit }, (error, result) => {
      if (!error) return resolve(result);
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return reject(new DecompressedTooLarge(`Request body is larger than the limit of ${limit} bytes once decompressed`));
      }
      reject(new MalformedGzip(`Body is not valid gzip: ${error.message}`));
    });
  });
  return inflated.toString('utf8');
}

/** Whether `parseIngestJson` may hand `text` to the native parser (before counting keys). */
export function nativeParseIsExact(text: string): boolean {
  return scan(text).nativeIsExact;
}
