import { isSafeNumber, parse } from 'lossless-json';

/** A malformed body: a 400 with Fastify's wording, mapped like Fastify's own client errors. */
class MalformedBody extends Error {
  readonly statusCode = 400;
}

/**
 * Parses a JSON request body without passing numbers through a lossy conversion: a number that a
 * JS `number` holds exactly (`12`, `0.1`, `1.10`) becomes one, and any other (`0.1000000000000000055`,
 * `12345678901234567890`) stays the string of its digits, which decimal fields read exactly and
 * integer fields refuse by name. `__proto__` keys become plain keys (refused as unknown fields),
 * never prototypes; a key repeated with different values is malformed. An empty body is no body,
 * so a route whose body is optional (the SDK sends an empty JSON body for some lists) accepts it
 * and one whose body is required says so. `unsafeNumber` decides what the other numbers become
 * (their digits by default).
 */
export function parseJsonBody(text: string, unsafeNumber: (digits: string) => unknown = (digits) => digits): unknown {
  if (text.trim() === '') return undefined;
  try {
    return parse(text, null, (digits) => (isSafeNumber(digits) ? Number(digits) : unsafeNumber(digits)));
  } catch (error) {
    throw new MalformedBody(`Body is not valid JSON but content-type is set to 'application/json': ${(error as Error).message}`);
  }
}
