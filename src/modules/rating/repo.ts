import type { Queryable } from '../../lib/db/database.js';

/** What one customer's rollups hold for one metric, group and slice of a period (numbers as text). */
export interface SliceRollupRow {
  metric_id: string;
  group_key: string[];
  group_values: string[];
  /** 0-based index of the slice whose start is the greatest at or before the hour. */
  slice: number;
  event_count: string;
  value_sum: string;
  value_max: string | null;
  latest_value: string | null;
  latest_at: Date | null;
  latest_transaction_id: string | null;
}

export interface RollupSelection {
  metricId: string;
  /** The group key whose rows to read, its properties sorted; [] for the metric's totals. */
  groupKey: string[];
}

/**
 * A customer's rollups over `[from, to)`, summed per metric, group and slice (slices start at
 * `sliceStarts`, ascending, the first being `from`). Reads only the rows of the selected group
 * keys, through the primary key, so its cost follows hours × groups, never the number of events.
 */
export async function sliceRollups(
  db: Queryable,
  tenantId: string,
  { customerId, selections, from, to, sliceStarts }: { customerId: string; selections: RollupSelection[]; from: Date; to: Date; sliceStarts: Date[] },
): Promise<SliceRollupRow[]> {
  if (selections.length === 0) return [];
  return db.query<SliceRollupRow>(
    `SELECT r.metric_id, r.group_key, r.group_values, width_bucket(r.hour, $6::timestamptz[]) - 1 AS slice,
            sum(r.event_count)::text AS event_count, sum(r.value_sum)::text AS value_sum, max(r.value_max)::text AS value_max,
            (array_agg(r.latest_value::text ORDER BY r.latest_at DESC NULLS LAST, r.latest_transaction_id COLLATE "C" DESC))[1] AS latest_value,
            (array_agg(r.latest_at ORDER BY r.latest_at DESC NULLS LAST, r.latest_transaction_id COLLATE "C" DESC))[1] AS latest_at,
            (array_agg(r.latest_transaction_id ORDER BY r.latest_at DESC NULLS LAST, r.latest_transaction_id COLLATE "C" DESC))[1] AS latest_transaction_id
       FROM unnest($3::uuid[], $4::text[]) AS k (metric_id, group_key)
       JOIN usage_rollups r
         ON r.tenant_id = $1 AND r.customer_id = $2 AND r.metric_id = k.metric_id
        AND r.group_key = ARRAY(SELECT jsonb_array_elements_text(k.group_key::jsonb))
        AND r.hour >= $5 AND r.hour < $7
      GROUP BY r.metric_id, r.group_key, r.group_values, slice`,
    [
      tenantId,
      customerId,
      selections.map((s) => s.metricId),
      selections.map((s) => JSON.stringify(s.groupKey)),
      from,
      sliceStarts,
      to,
    ],
  );
}

export interface FirstSeenRow {
  metric_id: string;
  group_key: string[];
  group_values: string[];
  value: string;
  /** The slice in which the value was first seen in `[from, to)`. */
  slice: number;
}

/** For UNIQUE metrics: each distinct value of `[from, to)` per group, with the slice it was first seen in. */
export async function firstSeenValues(
  db: Queryable,
  tenantId: string,
  { customerId, selections, from, to, sliceStarts }: { customerId: string; selections: RollupSelection[]; from: Date; to: Date; sliceStarts: Date[] },
): Promise<FirstSeenRow[]> {
  if (selections.length === 0) return [];
  return db.query<FirstSeenRow>(
    `SELECT d.metric_id, d.group_key, d.group_values, d.value, width_bucket(min(d.hour), $6::timestamptz[]) - 1 AS slice
       FROM unnest($3::uuid[], $4::text[]) AS k (metric_id, group_key)
       JOIN usage_distinct_values d
         ON d.tenant_id = $1 AND d.customer_id = $2 AND d.metric_id = k.metric_id
        AND d.group_key = ARRAY(SELECT jsonb_array_elements_text(k.group_key::jsonb))
        AND d.hour >= $5 AND d.hour < $7
      GROUP BY d.metric_id, d.group_key, d.group_values, d.value`,
    [
      tenantId,
      customerId,
      selections.map((s) => s.metricId),
      selections.map((s) => JSON.stringify(s.groupKey)),
      from,
      sliceStarts,
      to,
    ],
  );
}
