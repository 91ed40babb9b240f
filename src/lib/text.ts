import { z } from 'zod';

/** Why `value` is not text PostgreSQL can store as given, or undefined when it is. */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  // A lone UTF-16 surrogate is not Unicode: jsonb refuses it, and text would store U+FFFD instead.
  if (!value.isWellFormed()) return 'must be valid Unicode (it contains an unpaired surrogate)';
  return undefined;
}

/**
 * Text as the API accepts it: any string PostgreSQL can store exactly. The NUL character and
 * unpaired surrogates are refused here with a 400 naming the field, instead of failing (or being
 * silently altered) in the database.
 */
export const text = () =>
  z.string().superRefine((value, context) => {
    const problem = textProblem(value);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });

/** The first `length` characters of `value`, counted in code points so that no emoji is cut in half. */
export function truncate(value: string, length: number): string {
  const characters = Array.from(value);
  return characters.length <= length ? value : characters.slice(0, length).join('');
}
