import { Decimal } from '../../../lib/money.js';
import { DAY_MS, floorToDay, floorToHour } from '../../../lib/time.js';
import type { FirstSeenRow, RollupSelection, SliceRollupRow } from '../../usage/sliceRepo.js';
import { combine, emptyAggregate, type SliceAggregate } from './cumulative.js';

/** What the rollups hold for a usage window (`usage` module's `sliceRollups` and `firstSeenValues`). */
export interface PeriodUsage {
  /** The rows read; with `settled`, those of the buckets from the last re-read's start on. */
  rows: readonly SliceRollupRow[];
  /**
   * Rows of the buckets before the last re-read's start (`mergeUsage`): carried from the usage it
   * was merged from by reference, not copied on every re-read. The usage's rows are these, then `rows`.
   */
  settled?: readonly SliceRollupRow[] | undefined;
  firstSeen: readonly FirstSeenRow[];
  /** Read per bucket (`day`): the instant from which the buckets are hours (the UTC day of the read); before it, UTC days. */
  hourlyFrom?: Date | undefined;
}

/** One group of a product's usage: its pricing group values, its values of the split properties, and its aggregate per slice. */
export interface UsageGroup {
  groupValues: Record<string, string> | null;
  splitValues: string[] | undefined;
  slices: SliceAggregate[];
}

/** How a product's rows fold into groups: the rows of `selection`, grouped by `pricingKey` and `splitBy`, over `sliceCount` slices. */
export interface FoldSpec {
  selection: RollupSelection;
  pricingKey: readonly string[] | null;
  splitBy: readonly string[] | undefined;
  sliceCount: number;
  /** The slices' starts: a fold is kept only for the same slices. */
  sliceKey: string;
}

/** The values of `pricingKey` among a row's group values (stored in the order of its sorted `groupKey`). */
function project(groupKey: readonly string[], groupValues: readonly string[], pricingKey: readonly string[]): Record<string, string> {
  return Object.fromEntries(pricingKey.map((property) => [property, groupValues[groupKey.indexOf(property)] ?? '']));
}

export const sameSelection = (a: RollupSelection, metricId: string, groupKey: readonly string[]) =>
  a.metricId === metricId && a.groupKey.length === groupKey.length && a.groupKey.every((property, i) => property === groupKey[i]);

/** A row's aggregate, its decimals parsed. */
function aggregateOf(row: SliceRollupRow): SliceAggregate {
  return {
    count: new Decimal(row.event_count),
    sum: new Decimal(row.value_sum),
    max: row.value_max === null ? null : new Decimal(row.value_max),
    latest: row.latest_value === null || !row.latest_at ? null : { value: new Decimal(row.latest_value), at: row.latest_at, transactionId: row.latest_transaction_id ?? '' },
    newDistinct: new Decimal(0),
  };
}

/** Groups being folded into: new ones are added; ones taken from a kept fold are copied before their first change, so a kept fold never changes. */
export class Folding {
  readonly groups: Map<string, UsageGroup>;
  readonly #own = new Set<UsageGroup>();

  constructor(
    readonly spec: FoldSpec,
    from?: ReadonlyMap<string, UsageGroup>,
  ) {
    this.groups = new Map(from);
  }

  /** The key of the group a row of `groupKey` with `groupValues` folds into. */
  keyOf(groupKey: readonly string[], groupValues: readonly string[]): string {
    return this.#identify(groupKey, groupValues).key;
  }

  /** Puts the group under `key` back as `base` holds it (gone when `base` has none), to fold rows into again. */
  restore(key: string, base: ReadonlyMap<string, UsageGroup>): void {
    const group = base.get(key);
    if (group) this.groups.set(key, group);
    else this.groups.delete(key);
  }

  groupOf(groupKey: readonly string[], groupValues: readonly string[]): UsageGroup {
    const { values, splitValues, key } = this.#identify(groupKey, groupValues);
    let group = this.groups.get(key);
    if (!group) {
      group = { groupValues: values, splitValues, slices: Array.from({ length: this.spec.sliceCount }, emptyAggregate) };
      this.#own.add(group);
      this.groups.set(key, group);
    } else if (!this.#own.has(group)) {
      group = { ...group, slices: [...group.slices] };
      this.#own.add(group);
      this.groups.set(key, group);
    }
    return group;
  }

  /** A row's pricing group values and values of the split properties, and the key of their group. */
  #identify(groupKey: readonly string[], groupValues: readonly string[]) {
    const { pricingKey, splitBy } = this.spec;
    const values = pricingKey ? project(groupKey, groupValues, pricingKey) : null;
    const splitValues = splitBy?.map((property) => groupValues[groupKey.indexOf(property)] ?? '');
    return { values, splitValues, key: JSON.stringify([values, splitValues ?? null]) };
  }

  add(row: SliceRollupRow): void {
    const group = this.groupOf(row.group_key, row.group_values);
    group.slices[row.slice] = combine(group.slices[row.slice]!, aggregateOf(row));
  }
}

/**
 * A fold of the rows of the buckets before `upTo` (ms), per fold spec, and the fold of those with
 * the bucket `upTo` added (`latest`, with that bucket's rows as they were folded); kept with the
 * usage it was made from.
 */
interface KeptFold {
  upTo: number;
  groups: ReadonlyMap<string, UsageGroup>;
  latest: { rows: ReadonlyMap<string, SliceRollupRow>; groups: ReadonlyMap<string, UsageGroup> } | undefined;
}

/** A row of one selection within one bucket: its slice and group values. */
const rowKeyOf = (row: SliceRollupRow) => `${row.slice}\u0000${row.group_values.join('\u0000')}\u0000${row.group_values.length}`;

const sameAggregate = (a: SliceRollupRow, b: SliceRollupRow) =>
  a.event_count === b.event_count &&
  a.value_sum === b.value_sum &&
  a.value_max === b.value_max &&
  a.latest_value === b.latest_value &&
  a.latest_at?.getTime() === b.latest_at?.getTime() &&
  a.latest_transaction_id === b.latest_transaction_id;

const keptFolds = new WeakMap<PeriodUsage, Map<string, KeptFold>>();

/** Per usage, whether every row was read per day, and its rows of the days from some day on: what the last fold asked for, as every product of a window asks for the same. */
const dayRows = new WeakMap<PeriodUsage, { byDay: boolean; from: number; rows: readonly SliceRollupRow[] }>();

function readByDay(usage: PeriodUsage): boolean {
  let known = dayRows.get(usage);
  if (!known) {
    const byDay = usage.rows.every((row) => row.day !== undefined) && (usage.settled ?? []).every((row) => row.day !== undefined);
    dayRows.set(usage, (known = { byDay, from: -Infinity, rows: allRowsOf(usage) }));
  }
  return known.byDay;
}

/** Every row of `usage`: its settled rows, then the rest (a copy when it has settled rows). */
export function allRowsOf(usage: PeriodUsage): readonly SliceRollupRow[] {
  return usage.settled?.length ? [...usage.settled, ...usage.rows] : usage.rows;
}

/** The rows of `usage` of the buckets from `from` (ms) on (read per bucket): its settled ones are looked at only when some may be. */
export function rowsOfBucketsFrom(usage: PeriodUsage, from: number): SliceRollupRow[] {
  const inBuckets = (row: SliceRollupRow) => row.day !== undefined && row.day.getTime() >= from;
  const settled = (settledBefore.get(usage) ?? Infinity) <= from ? [] : (usage.settled ?? []).filter(inBuckets);
  return [...settled, ...usage.rows.filter(inBuckets)];
}

/** The rows of the days from `from` (ms) on (read per day). */
function rowsFrom(usage: PeriodUsage, from: number): readonly SliceRollupRow[] {
  const known = dayRows.get(usage)!;
  if (known.from !== from) {
    known.rows = rowsOfBucketsFrom(usage, from);
    known.from = from;
  }
  return known.rows;
}

const specKey = ({ selection, pricingKey, splitBy, sliceKey }: FoldSpec) => JSON.stringify([selection.metricId, selection.groupKey, pricingKey, splitBy ?? null, sliceKey]);

/**
 * The rows of `spec.selection` folded into groups, each with its aggregate per slice (UNIQUE's
 * first-seen values are added by the caller). Rows read per UTC day (`day`) fold incrementally:
 * the fold of the days before the latest one is kept with `usage`, and carried to the usage that
 * `mergeUsage` makes from it while those days stand, so that after new usage of today only
 * today's rows are folded again — whatever the number of days and groups (seats) before.
 * The result is the same as folding every row: a kept fold is of exactly the rows it stands for.
 */
export function foldUsage(usage: PeriodUsage, spec: FoldSpec, { keep }: { keep: boolean }): Folding {
  const { selection } = spec;
  const selected = (row: SliceRollupRow) => sameSelection(selection, row.metric_id, row.group_key);
  if (!keep || !readByDay(usage)) {
    const folding = new Folding(spec);
    for (const row of usage.settled ?? []) if (selected(row)) folding.add(row);
    for (const row of usage.rows) if (selected(row)) folding.add(row);
    return folding;
  }
  const key = specKey(spec);
  const kept = keptFolds.get(usage)?.get(key);
  const upTo = kept?.upTo ?? -Infinity;
  const fresh = rowsFrom(usage, upTo).filter(selected);
  const latestDay = fresh.reduce((latest, row) => Math.max(latest, row.day!.getTime()), upTo);
  // The buckets before the latest one: folded once and kept, as new usage mostly falls in the latest one.
  const earlier = new Folding(spec, kept?.groups);
  for (const row of fresh) if (row.day!.getTime() < latestDay) earlier.add(row);
  const latestRows = fresh.filter((row) => row.day!.getTime() >= latestDay);
  let all: Folding;
  const previous = latestDay === upTo ? kept?.latest : undefined;
  if (previous) {
    // The latest bucket folded before, on the same earlier fold: only the groups with a row that
    // changed (or came or went) fold again; the others stand as they were, the same objects.
    all = new Folding(spec, previous.groups);
    const changed = new Set<string>();
    const present = new Set<string>();
    for (const row of latestRows) {
      const rowKey = rowKeyOf(row);
      present.add(rowKey);
      const before = previous.rows.get(rowKey);
      if (!before || !sameAggregate(before, row)) changed.add(all.keyOf(row.group_key, row.group_values));
    }
    for (const [rowKey, row] of previous.rows) if (!present.has(rowKey)) changed.add(all.keyOf(row.group_key, row.group_values));
    for (const groupKey of changed) all.restore(groupKey, earlier.groups);
    for (const row of latestRows) if (changed.has(all.keyOf(row.group_key, row.group_values))) all.add(row);
  } else {
    all = new Folding(spec, earlier.groups);
    for (const row of latestRows) all.add(row);
  }
  let folds = keptFolds.get(usage);
  if (!folds) keptFolds.set(usage, (folds = new Map()));
  folds.set(key, { upTo: latestDay, groups: earlier.groups, latest: { rows: new Map(latestRows.map((row) => [rowKeyOf(row), row])), groups: all.groups } });
  return all;
}

/**
 * From which instant a read per bucket made at `today` (the UTC day of the clock) from `readFrom`
 * sums hours rather than days: today; or `readFrom` itself when it is an hour of an earlier day
 * (the clock turned a day since it was chosen), so that no bucket starts before `readFrom`.
 */
export function hourlyFromFor(today: Date, readFrom: Date | undefined): Date {
  return readFrom && readFrom < today && readFrom.getTime() % DAY_MS !== 0 ? readFrom : today;
}

/**
 * Where usage read per bucket (`previous`) must be read again from, now that it changed from
 * `staleFrom` on: from that hour when it is today's (`today`, the UTC day of the clock) and every
 * window of `previous` was read today, so its day buckets all end before it; else from the start
 * of the UTC day (or of the hours read on an earlier day, the first read of a new day folding
 * yesterday's hours into a day).
 */
export function usageReadFrom(previous: readonly PeriodUsage[], staleFrom: Date, today: Date): Date {
  const hour = floorToHour(staleFrom).getTime();
  const day = floorToDay(staleFrom).getTime();
  if (hour >= today.getTime() && previous.every((usage) => usage.hourlyFrom?.getTime() === today.getTime())) return new Date(hour);
  // On a day: buckets never straddle one, so the read that starts there folds every hour since into days again
  // (also hours from an hour of an earlier day, when the clock turned a day during a read). Usage read without hours holds days only.
  return new Date(Math.min(day, ...previous.map((usage) => (usage.hourlyFrom ? floorToDay(usage.hourlyFrom).getTime() : day))));
}

/**
 * Usage read per slice and bucket (`byDay`) before, brought up to date by a read of the buckets from
 * `readFrom` on (`usageReadFrom`): what was read of earlier buckets stands, the rest is replaced.
 * Window by window. The folds kept with the earlier usage of buckets before `readFrom` go with it (`foldUsage`).
 */
export function mergeUsage(previous: readonly PeriodUsage[], fresh: readonly PeriodUsage[], readFrom: Date): PeriodUsage[] {
  const from = readFrom.getTime();
  const before = (row: { day?: Date | undefined }) => row.day !== undefined && row.day.getTime() < from;
  return fresh.map((usage, i) => {
    const earlier = previous[i];
    // The settled rows of an earlier merge all stand when this read starts no earlier: they are
    // carried as they are (the same array), and only the earlier fresh rows are looked at.
    let kept: readonly SliceRollupRow[] = [];
    if (earlier) {
      const settled = (settledBefore.get(earlier) ?? Infinity) <= from ? (earlier.settled ?? []) : (earlier.settled ?? []).filter(before);
      const more = earlier.rows.filter(before);
      kept = more.length === 0 ? settled : [...settled, ...more];
    }
    const merged: PeriodUsage = {
      rows: usage.rows,
      settled: kept,
      firstSeen: [...(earlier?.firstSeen ?? []).filter(before), ...usage.firstSeen],
      hourlyFrom: usage.hourlyFrom,
    };
    settledBefore.set(merged, from);
    // What the folds will ask for: every row is read per bucket, and those from `readFrom` on are the fresh ones.
    if (readByDay(usage) && (!earlier || readByDay(earlier))) dayRows.set(merged, { byDay: true, from, rows: usage.rows });
    const folds = earlier && keptFolds.get(earlier);
    const standing = folds && [...folds].filter(([, fold]) => fold.upTo <= from);
    if (standing?.length) keptFolds.set(merged, new Map(standing));
    return merged;
  });
}

/** Per merged usage, the start (ms) of the read that made it: its settled rows are all of buckets before it. */
const settledBefore = new WeakMap<PeriodUsage, number>();
