/**
 * PostgreSQL array literals for the ingest statements' parameters, built here rather than by `pg`
 * (which escapes every element with two regular expressions and concatenates one element at a
 * time): an ingest transaction sends tens of thousands of elements, and most need no escaping.
 */

/** `{a,b,NULL}` for values that never need quoting: UUIDs, ISO instants, plain decimals. */
export function plainArray(values: ReadonlyArray<string | null>): string {
  // One join builds the literal flat; appending element by element would leave a chain of
  // partial strings for the driver to flatten again.
  return `{${(values.includes(null) ? values.map((value) => value ?? 'NULL') : values).join(',')}}`;
}

const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

/** One element quoted: `a"b` → `"a\"b"`, so that commas, braces, spaces and the word NULL stay text. */
function quoted(value: string): string {
  return NEEDS_ESCAPE.test(value) ? `"${value.replace(ESCAPED, '\\$&')}"` : `"${value}"`;
}

/** `{"a","b,c",NULL}`: any text. */
export function textArray(values: ReadonlyArray<string | null>): string {
  const elements = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    elements[i] = value === null || value === undefined ? 'NULL' : quoted(value);
  }
  return `{${elements.join(',')}}`;
}
