import type { RollupAdded } from '../../../lib/context.js';
import { floorToHour } from '../../../lib/time.js';
import type { SliceRollupRow } from '../../usage/sliceRepo.js';
import type { UsageWindow } from './rating.js';
import { mergeUsage, rowsOfBucketsFrom, sameSelection, usageReadFrom, type PeriodUsage } from './usageFold.js';

/** A row of `usage_rollups` as a read per hour returns it, with what a commit added to it (the `usage` module's `rowWithRollup`). */
export type RowWithRollup = (row: SliceRollupRow | undefined, added: RollupAdded, slice: number) => SliceRollupRow;

/** The index of the slice an hour falls in: the last whose start is at or before it. */
function sliceOf(starts: readonly number[], hourMs: number): number {
  let slice = 0;
  while (slice + 1 < starts.length && starts[slice + 1]! <= hourMs) slice++;
  return slice;
}

const rowKey = (metricId: string, groupKey: readonly string[], groupValues: readonly string[], hourMs: number) =>
  `${metricId}\u0000${groupKey.join('\u0001')}\u0000${groupValues.join('\u0001')}\u0000${groupValues.length}\u0000${hourMs}`;

/**
 * Usage read per bucket (`previous`, over `windows`), with the rows one commit added to the
 * customer's rollups (`added`, all of hours from `since` on) put in: exactly what a read of the
 * buckets from `since`'s hour on, merged (`mergeUsage`), would give once that commit is in the
 * rollups — the buckets from that hour are rebuilt from the kept rows and the added ones, the
 * ones before stand. Undefined when only a read can say: `since`'s hour is not a bucket of its own
 * (it is not today's, as the clock's UTC day `today` says, or the usage was read on an earlier
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
  const from = floorToHour(since);
  if (previous.length !== windows.length || usageReadFrom(previous, from, today).getTime() !== from.getTime()) return undefined;
  if (windows.some((window) => window.uniqueSelections.length > 0)) return undefined;
  const start = from.getTime();
  if (added.some((row) => row.hourMs < start)) return undefined;
  // Which kept rows the added ones may fall on: only those are keyed (a customer's hour may hold hundreds of rows, a commit a few).
  const hours = new Set(added.map((row) => row.hourMs));
  const firstValues = new Set(added.map((row) => row.groupValues[0] ?? ''));
  const fresh = windows.map((window, i): PeriodUsage => {
    const usage = previous[i]!;
    const rows: SliceRollupRow[] = rowsOfBucketsFrom(usage, start);
    const at = new Map<string, number>();
    rows.forEach((row, j) => {
      if (hours.has(row.day!.getTime()) && firstValues.has(row.group_values[0] ?? '')) at.set(rowKey(row.metric_id, row.group_key, row.group_values, row.day!.getTime()), j);
    });
    const starts = window.slices.map((slice) => slice.startingAt.getTime());
    for (const row of added) {
      if (row.hourMs < window.from.getTime() || row.hourMs >= window.to.getTime()) continue;
      if (!window.selections.some((selection) => sameSelection(selection, row.metricId, row.groupKey))) continue;
      const key = rowKey(row.metricId, row.groupKey, row.groupValues, row.hourMs);
      const j = at.get(key);
      if (j === undefined) {
        at.set(key, rows.length);
        rows.push(rowWith(undefined, row, sliceOf(starts, row.hourMs)));
      } else {
        rows[j] = rowWith(rows[j], row, rows[j]!.slice);
      }
    }
    return { rows, firstSeen: [], hourlyFrom: usage.hourlyFrom };
  });
  return mergeUsage(previous, fresh, from);
}
