import { z } from 'zod';

/**
 * Text as the API accepts it: any string PostgreSQL can store. PostgreSQL cannot store the NUL
 * character in `text` or `jsonb`, so it is refused here with a 400 naming the field, instead of
 * failing in the database.
 */
export const text = () => z.string().refine((value) => !value.includes('\u0000'), 'must not contain the NUL character (\\u0000)');

/** The first `length` characters of `value`, counted in code points so that no emoji is cut in half. */
export function truncate(value: string, length: number): string {
  const characters = Array.from(value);
  return characters.length <= length ? value : characters.slice(0, length).join('');
}
