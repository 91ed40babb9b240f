import type { RollupAdded } from '../../../lib/context.js';
import { floorToDay, floorToHour } from '../../../lib/time.js';
import type { SliceRollupRow } from '../../usage/sliceRepo.js';
import type { UsageWindow } from './rating.js';
import { mergeUsage, rowsOfBucketsFrom, sameSelection, usageReadFrom, type PeriodUsage } from './usageFold.js';

/** A bucket's row as a read per bucket returns it, with what a commit added to it (the `usage` module's `rowWithRollup`). */
export type RowWithRollup = (row: SliceRollupRow | undefined, added: RollupAdded, slice: number, bucketMs: number) => SliceRollupRow;

/** The index of the slice an hour falls in: the last whose start is at or before it. */
function sliceOf(starts: readonly number[], hourMs: number): number {
  let slice = 0;
  while (slice + 1 < starts.length && starts[slice + 1]! <= hourMs) slice++;
  return slice;
}

/** A bucket's row of one selection, group and slice, as one string (values may hold any character PostgreSQL stores). */
const rowKey = (metricId: string, groupKey: readonly string[], groupValues: readonly string[], slice: number, bucketMs: number) => JSON.stringify([metricId, groupKey, groupValues, slice, bucketMs]);

/**
 * Usage read per bucket (`previous`, over `windows`), with the rows commits added to the
 * customer's rollups (`added`, all of hours from `since` on) put in: exactly what a read of the
 * buckets from where `usageReadFrom` says (`since`'s hour when it is today's, else its UTC day),
 * merged (`mergeUsage`), would give once those commits are in the rollups. Each added row is
 * summed into its bucket's row as the read sums hours — its hour from `today` (the clock's UTC
 * day) on, its UTC day before — in its slice; the buckets before stand. Undefined when only a
 * read can say: the usage was read on an earlier day (a read now would fold its hours into a
 * day), or a window counts distinct values (UNIQUE: their first slice is the read's to find).
 */
export function usageWithRollups({
  previous,
  windows,
  added,
  since,
  today,
  rowWith,
}: {
  previous: readonly PeriodUsage[];
  windows: readonly UsageWindow[];
  added: readonly RollupAdded[];
  since: Date;
  today: Date;
  rowWith: RowWithRollup;
}): PeriodUsage[] | undefined {
  if (previous.length !== windows.length || previous.some((usage) => usage.hourlyFrom?.getTime() !== today.getTime())) return undefined;
  if (windows.some((window) => window.uniqueSelections.length > 0)) return undefined;
  const from = usageReadFrom(previous, floorToHour(since), today);
  const start = from.getTime();
  const bucketOf = (hourMs: number) => (hourMs >= today.getTime() ? hourMs : floorToDay(new Date(hourMs)).getTime());
  if (added.some((row) => bucketOf(row.hourMs) < start)) return undefined;
  // Which kept rows the added ones may fall on: only those are keyed (a customer's buckets may hold thousands of rows, a commit a few).
  const buckets = new Set(added.map((row) => bucketOf(row.hourMs)));
  const firstValues = new Set(added.map((row) => row.groupValues[0] ?? ''));
  const fresh = windows.map((window, i): PeriodUsage => {
    const usage = previous[i]!;
    const rows: SliceRollupRow[] = rowsOfBucketsFrom(usage, start);
    const at = new Map<string, number>();
    rows.forEach((row, j) => {
      if (buckets.has(row.day!.getTime()) && firstValues.has(row.group_values[0] ?? '')) at.set(rowKey(row.metric_id, row.group_key, row.group_values, row.slice, row.day!.getTime()), j);
    });
    const starts = window.slices.map((slice) => slice.startingAt.getTime());
    for (const row of added) {
      if (row.hourMs < window.from.getTime() || row.hourMs >= window.to.getTime()) continue;
      if (!window.selections.some((selection) => sameSelection(selection, row.metricId, row.groupKey))) continue;
      const slice = sliceOf(starts, row.hourMs);
      const bucket = bucketOf(row.hourMs);
      const key = rowKey(row.metricId, row.groupKey, row.groupValues, slice, bucket);
      const j = at.get(key);
      if (j === undefined) {
        at.set(key, rows.length);
        rows.push(rowWith(undefined, row, slice, bucket));
      } else {
        rows[j] = rowWith(rows[j], row, slice, bucket);
      }
    }
    return { rows, firstSeen: [], hourlyFrom: usage.hourlyFrom };
  });
  return mergeUsage(previous, fresh, from);
}
