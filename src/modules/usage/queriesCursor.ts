import { Invalid } from '../../lib/errors.js';

/**
 * The `next_page` cursor of a usage query: the position of the last item of the page, as
 * base64url JSON. Usage items have no id of their own (they are a customer, a metric, a window
 * and a group), so the position is a tuple of strings rather than the one id of `lib/pagination`.
 */
export function encodePosition(position: readonly (string | readonly string[])[]): string {
  return Buffer.from(JSON.stringify({ after: position })).toString('base64url');
}

/** The position `cursor` holds, checked by `isPosition`; a cursor this API did not make is a 400 naming `next_page`. */
export function decodePosition<Position>(cursor: string, isPosition: (value: unknown[]) => value is unknown[] & Position): Position {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && 'after' in parsed && Array.isArray(parsed.after) && isPosition(parsed.after)) return parsed.after;
  } catch {
    // fall through to the error below
  }
  throw new Invalid('next_page', 'is not a cursor returned by this API');
}

/** Compares strings by UTF-16 code units, the order every usage list uses for ids and group values. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareTexts(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const order = compareText(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}
