import { z } from 'zod';
import { Invalid } from './errors.js';
import { isUuid } from './ids.js';

/**
 * Cursor pagination as the Metronome API does it: a page carries `next_page`, an opaque string the
 * client passes back as `next_page` to continue, or `null` on the last page. Allot's cursor is
 * the base64url of the last id seen; lists are ordered by id (UUIDv7, so by creation).
 */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && 'after' in parsed && typeof parsed.after === 'string' && isUuid(parsed.after)) {
      return parsed.after;
    }
  } catch {
    // fall through to the error below
  }
  throw new Invalid('next_page', 'is not a cursor returned by this API');
}

/**
 * Fetch `limit + 1` rows and pass them here: the extra row only tells whether another page
 * exists, and is dropped.
 */
export function toPage<Row extends { id: string }>(rows: Row[], limit: number): { rows: Row[]; nextPage: string | null } {
  if (rows.length <= limit) return { rows, nextPage: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextPage: encodeCursor(page[page.length - 1]!.id) };
}

/** The query of every list: `limit` (1–100, default 100) and the `next_page` cursor. */
/**
 * One page of a list ordered by id: decodes `nextPage`, asks `fetch` for one row more than
 * `limit` (the extra row only tells whether another page exists), and returns the page with the
 * cursor of the next one.
 */
export async function fetchPage<Row extends { id: string }>(
  { limit, nextPage }: { limit: number; nextPage?: string | undefined },
  fetch: (window: { afterId: string | null; limit: number }) => Promise<Row[]>,
): Promise<{ rows: Row[]; nextPage: string | null }> {
  const rows = await fetch({ afterId: nextPage ? decodeCursor(nextPage) : null, limit: limit + 1 });
  return toPage(rows, limit);
}

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(100),
  next_page: z.string().optional(),
});
