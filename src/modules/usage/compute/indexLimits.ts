import { keyText } from './keyText.js';
import { groupValuesOf, type Match } from './matchMetric.js';

/**
 * How many bytes (UTF-8) a group key's property names and the event's values for them, plus a
 * UNIQUE metric's value, may take together. They are part of the primary key of
 * `usage_rollups` and `usage_distinct_values`, and a PostgreSQL index entry holds at most about
 * 2,700 bytes; 2,000 leaves room for the other key columns.
 */
export const GROUP_BYTES_LIMIT = 2000;

/**
 * How many bytes the same may take as stored: names and values as JSON texts (`keyText`), where a
 * `"` or `\` takes 2 bytes and a control character up to 6, plus the quotes and commas. Only text
 * made of such characters, or a group key of very many names, comes near it within the 2,000.
 */
export const STORED_BYTES_LIMIT = 2400;

/** The rule both limits make, as error messages state it. */
export const GROUP_BYTES_RULE = `a group key's names and values may take at most ${GROUP_BYTES_LIMIT} bytes, and ${STORED_BYTES_LIMIT} once escaped as JSON`;

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The property whose value makes one of the rows `match` adds to the metric's rollups too large to
 * index, or undefined when every row fits: the longest value among the offending group key's
 * properties (and the aggregation key, for UNIQUE). `{user_id: <3,000 characters>}` grouped by
 * `["user_id"]` → `user_id`.
 */
export function oversizedProperty(match: Match): string | undefined {
  const { metric } = match;
  const distinct = match.distinct ?? '';
  // Most events are far below the limits: six bytes per UTF-16 unit (a control character's escape),
  // three for the quotes and comma of each text and four for two pairs of brackets bound both lengths.
  let bound = distinct.length * 6 + 4;
  for (const value of match.groupTexts) bound += value.length * 6 + 3;
  for (const name of metric.groupNames) bound += name.length * 6 + 3;
  if (bound <= GROUP_BYTES_LIMIT) return undefined;

  const distinctBytes = byteLength(distinct);
  if (distinctBytes > GROUP_BYTES_LIMIT) return metric.aggregationKey ?? undefined;
  for (const [index, groupKey] of metric.groupKeys.entries()) {
    const values = groupValuesOf(match, index);
    let bytes = distinctBytes;
    let longest = { name: metric.aggregationKey ?? '', bytes: distinctBytes };
    groupKey.names.forEach((name, position) => {
      const valueBytes = byteLength(values[position]!);
      bytes += byteLength(name) + valueBytes;
      if (valueBytes > longest.bytes) longest = { name, bytes: valueBytes };
    });
    if (bytes > GROUP_BYTES_LIMIT) return longest.name || groupKey.names[0];
    if (distinctBytes + byteLength(keyText(groupKey.names)) + byteLength(keyText(values)) > STORED_BYTES_LIMIT) {
      // Within the bytes, beyond them as stored: the value that grows most when escaped.
      let widest = { name: groupKey.names[0]!, bytes: -1 };
      groupKey.names.forEach((name, position) => {
        const storedBytes = byteLength(JSON.stringify(values[position]!));
        if (storedBytes > widest.bytes) widest = { name, bytes: storedBytes };
      });
      return widest.name;
    }
  }
  return undefined;
}
