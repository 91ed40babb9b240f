import type { RollupAdded } from '../../../lib/context.js';
import type { SliceRollupRow } from '../sliceRepo.js';
import { laterOf } from './foldRollups.js';
import { ExactDecimal } from './propertyValues.js';

/**
 * A customer's rollups of one bucket (an hour, or a UTC day: `bucketMs`) and slice as a read per
 * bucket returns them (`sliceRollups`), once `added` (a row of an hour in it) is in them: what the
 * upsert makes of a stored row and a commit's row, and the read of the hours it sums — counts and
 * sums add, the greatest maximum stays, the latest value is the one with the greatest (timestamp,
 * transaction id). `row` undefined: the bucket had no row yet.
 */
export function rowWithRollup(row: SliceRollupRow | undefined, added: RollupAdded, slice: number, bucketMs: number): SliceRollupRow {
  const max = (a: string | null, b: RollupAdded['valueMax']) => {
    if (b === null) return a;
    if (a === null) return b.toFixed();
    return new ExactDecimal(a).gte(b) ? a : b.toFixed();
  };
  const stored = row?.latest_value != null && row.latest_at ? { value: new ExactDecimal(row.latest_value), atMs: row.latest_at.getTime(), transactionId: row.latest_transaction_id ?? '' } : null;
  const latest = laterOf(stored, added.latest);
  const latestColumns =
    latest === stored
      ? { latest_value: row?.latest_value ?? null, latest_at: row?.latest_at ?? null, latest_transaction_id: row?.latest_transaction_id ?? null }
      : { latest_value: latest!.value.toFixed(), latest_at: new Date(latest!.atMs), latest_transaction_id: latest!.transactionId };
  return {
    metric_id: added.metricId,
    group_key: row?.group_key ?? [...added.groupKey],
    group_values: row?.group_values ?? [...added.groupValues],
    slice,
    event_count: String(BigInt(row?.event_count ?? 0) + BigInt(added.eventCount)),
    value_sum: (row ? new ExactDecimal(row.value_sum).plus(added.valueSum) : added.valueSum).toFixed(),
    value_max: max(row?.value_max ?? null, added.valueMax),
    ...latestColumns,
    day: row?.day ?? new Date(bucketMs),
  };
}
