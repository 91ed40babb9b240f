import { Decimal } from '../../../lib/money.js';

/**
 * A spend alert's `group_values` (rule 20): up to 3 entries, each a group key with a value (only
 * usage with that value counts) or alone (each value seen is its own state).
 *
 * A state of the alert is one combination of values of the entries given alone, named by a
 * string: the value itself when one entry is alone (`"u1"`, as single-key alerts have always been
 * stored), the values as a JSON list in the entries' order when several are (`["u1","t1"]`).
 * With no entry alone, the alert has only the customer's state.
 */
export interface GroupEntry {
  key: string;
  value?: string | undefined;
}

/** Metronome's limit on `group_values` entries. */
export const MAX_GROUP_VALUES = 3;

/** True when some entry is given by key alone: the alert keeps a state per combination. */
export const splitsPerCombination = (entries: readonly GroupEntry[]): boolean => entries.some((entry) => entry.value === undefined);

function nameOf(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : JSON.stringify(values);
}

/**
 * The combination a usage line counts toward, from its values of the entries' keys (in the
 * entries' order); undefined when it differs from an entry's value (it counts toward nothing).
 * `[{user_id}, {team: 't1'}]` with `['u1', 't1']` → `'u1'`; with `['u1', 't2']` → undefined.
 */
export function combinationOf(entries: readonly GroupEntry[], values: readonly string[]): string | undefined {
  const alone: string[] = [];
  for (const [i, entry] of entries.entries()) {
    const value = values[i] ?? '';
    if (entry.value === undefined) alone.push(value);
    else if (entry.value !== value) return undefined;
  }
  return nameOf(alone);
}

/** The alert's `group_values` with every entry's value for one combination (null: the customer's state), as webhooks name it. */
export function groupValuesOf(entries: readonly GroupEntry[], combination: string | null): { key: string; value: string | undefined }[] {
  const aloneCount = entries.filter((entry) => entry.value === undefined).length;
  const alone = combination === null ? [] : aloneCount === 1 ? [combination] : (JSON.parse(combination) as string[]);
  let next = 0;
  return entries.map((entry) => ({ key: entry.key, value: entry.value ?? alone[next++] }));
}

/** A combination as people read it: `u1`, or `u1 / t1` for several values. */
export function combinationLabel(entries: readonly GroupEntry[], combination: string): string {
  return groupValuesOf(entries, combination)
    .filter((_, i) => entries[i]!.value === undefined)
    .map((entry) => entry.value)
    .join(' / ');
}

/**
 * What each combination spent in one pricing unit, from lines rated split by the entries' keys
 * (in their order): lines of another unit, not split, or not matching an entry's value count
 * toward nothing.
 */
export function spentPerCombination(
  entries: readonly GroupEntry[],
  creditTypeId: string,
  lines: readonly { creditTypeId: string; splitValues?: readonly string[] | undefined; total: Decimal }[],
): Map<string, Decimal> {
  const spent = new Map<string, Decimal>();
  for (const line of lines) {
    if (line.creditTypeId !== creditTypeId || line.splitValues === undefined) continue;
    const combination = combinationOf(entries, line.splitValues);
    if (combination === undefined) continue;
    spent.set(combination, (spent.get(combination) ?? new Decimal(0)).add(line.total));
  }
  return spent;
}

/** A refusal naming its field, as a value: the service turns it into a 400. */
export interface Refusal {
  field: string;
  message: string;
}

/**
 * Checks entries given to create an alert against the metrics' group keys: no key twice, and all
 * the keys held by one group key of some metric, so that rollups can be split by them together.
 * Names the first entry that breaks a rule: a repeated key, a key no group key holds, or the first
 * key no group key holds together with the keys before it.
 */
export function checkGroupEntries(entries: readonly GroupEntry[], groupKeys: readonly (readonly string[])[]): Refusal | undefined {
  for (const [i, entry] of entries.entries()) {
    const first = entries.findIndex((other) => other.key === entry.key);
    if (first !== i) return { field: `group_values.${i}`, message: `repeats the key "${entry.key}" of group_values.${first}` };
  }
  for (const [i, entry] of entries.entries()) {
    if (!groupKeys.some((groupKey) => groupKey.includes(entry.key))) return { field: `group_values.${i}.key`, message: `"${entry.key}" is not a group key of any billable metric` };
    const together = entries.slice(0, i + 1).map((each) => each.key);
    if (!groupKeys.some((groupKey) => together.every((key) => groupKey.includes(key)))) {
      const others = together.slice(0, -1).map((key) => `"${key}"`);
      return { field: `group_values.${i}.key`, message: `no billable metric has a group key holding "${entry.key}" together with ${others.join(', ')}` };
    }
  }
  return undefined;
}

/**
 * The combination a retrieve asks for (`customers.alerts.retrieve` with `group_values`): every key
 * of the alert named once, with a value, in any order; an entry with a value must be asked with it.
 * Returns the combination's name, or null when the alert has no entry alone (the customer's
 * state), or the refusal.
 */
export function askedCombination(entries: readonly GroupEntry[], asked: readonly { key: string; value: string }[]): { combination: string | null } | Refusal {
  const keys = entries.map((entry) => entry.key);
  for (const [i, each] of asked.entries()) {
    const entry = entries.find((candidate) => candidate.key === each.key);
    if (!entry) {
      const watched = keys.map((key) => `"${key}"`).join(', ');
      return { field: `group_values.${i}.key`, message: keys.length === 1 ? `this alert watches the group key ${watched}` : `this alert watches the group keys ${watched}` };
    }
    if (asked.findIndex((other) => other.key === each.key) !== i) return { field: `group_values.${i}`, message: `names the key "${each.key}" again` };
    if (entry.value !== undefined && each.value !== entry.value) return { field: `group_values.${i}.value`, message: `this alert watches only the value "${entry.value}"` };
  }
  const missing = keys.filter((key) => !asked.some((each) => each.key === key));
  if (missing.length > 0) return { field: 'group_values', message: `must name every key the alert watches, each with its value (missing ${missing.map((key) => `"${key}"`).join(', ')})` };
  if (!splitsPerCombination(entries)) return { combination: null };
  return { combination: combinationOf(entries, keys.map((key) => asked.find((each) => each.key === key)!.value))! };
}
