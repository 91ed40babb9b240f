/**
 * A group key (its property names, sorted) or an event's values for it, as `usage_rollups` and
 * `usage_distinct_values` store it: the JSON text of the array, compared byte by byte
 * (`COLLATE "C"`, migration 0021). `[]` → `[]`, `["team", "user_id"]` → `["team","user_id"]`,
 * `['a"b']` → `["a\"b"]`. PostgreSQL's `to_json(text[])::text` gives the same text, so keys
 * written here match the rows the migration converted.
 */
export function keyText(values: readonly string[]): string {
  return JSON.stringify(values);
}

/** The array a stored key text holds. */
export function keyValues(text: string): string[] {
  return JSON.parse(text) as string[];
}
