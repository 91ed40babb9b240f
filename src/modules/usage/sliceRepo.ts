import type { Queryable } from '../../lib/db/database.js';
import { keyText, keyValues } from './compute/keyText.js';

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
  /** With `byDay`: the start of the bucket summed: the UTC day, or the hour for hours from `hourlyFrom` on. */
  day?: Date;
}

/**
 * The selected (metric, group key) pairs as rows, each group key as stored (`keyText`): joined laterally, so
 * every pair is one range scan of the primary key (tenant, customer, metric, group key, hour),
 * never a scan of the customer's other groups (one row per user and hour, say).
 */
const SELECTED = `SELECT u.metric_id, u.group_key FROM unnest($3::uuid[], $4::text[]) AS u (metric_id, group_key) OFFSET 0`;

/**
 * Which of a customer's rollups to read: the selections, over `[from, to)`, cut into slices
 * starting at `sliceStarts`; with `readFrom`, only the hours from then on (slices keep their
 * numbers); with `byDay`, summed per slice and UTC day rather than per slice — and per hour from
 * `hourlyFrom` on (today's hours, so that new usage of this hour re-reads this hour alone).
 * `readFrom` must be on a day, or at or after `hourlyFrom`, so that no bucket starts before it.
 */
export interface RollupWindow {
  customerId: string;
  selections: RollupSelection[];
  from: Date;
  to: Date;
  sliceStarts: Date[];
  readFrom?: Date | undefined;
  byDay?: boolean | undefined;
  /** With `byDay`: hours from this instant on are summed per hour, not per day (default: never). */
  hourlyFrom?: Date | undefined;
}

/** The parameters `$1`–`$8` both reads take (`$8` only with `byDay`). */
/** Where a read begins: `readFrom` when it is later than the window's start. */
const readStart = ({ from, readFrom }: RollupWindow): Date => (readFrom && readFrom > from ? readFrom : from);

function windowParams(tenantId: string, window: RollupWindow): unknown[] {
  const { customerId, selections, to, sliceStarts, byDay, hourlyFrom } = window;
  const params = [tenantId, customerId, selections.map((s) => s.metricId), selections.map((s) => keyText(s.groupKey)), readStart(window), sliceStarts, to];
  return byDay ? [...params, hourlyFrom ?? null] : params;
}

/** The start of the bucket an hour `column` is summed in with `byDay`: its hour from `$8` on, else its UTC day. */
const bucketOf = (column: string) => `CASE WHEN ${column} >= $8::timestamptz THEN ${column} ELSE date_trunc('day', ${column}, 'UTC') END`;

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
  window: RollupWindow,
): Promise<SliceRollupRow[]> {
  if (window.selections.length === 0) return [];
  if (window.byDay && window.hourlyFrom && readStart(window) >= window.hourlyFrom) {
    // Every bucket read is an hour: a rollup row is a bucket of its own (one per metric, group key, values
    // and hour, in one slice), so the rows are the sums, and the read after new usage (this hour) aggregates
    // nothing. Read after every new usage of a customer, it is kept cheap to decode: the selection by its
    // number (its metric id and group key are the caller's), values as JSON, the hour in ms (a whole
    // hour is exact in a float8 on every PostgreSQL); the latest value's instant as the aggregating read returns it.
    const rows = await db.query<HourRollupRow>(
      `SELECT k.i, r.group_values, width_bucket(r.hour, $6::timestamptz[]) - 1 AS slice,
              (extract(epoch FROM r.hour) * 1000)::float8 AS hour_ms,
              r.event_count::text AS event_count, r.value_sum::text AS value_sum, r.value_max::text AS value_max,
              r.latest_value::text AS latest_value, r.latest_at, r.latest_transaction_id
         FROM (SELECT u.i::int AS i, u.metric_id, u.group_key
                 FROM unnest($3::uuid[], $4::text[]) WITH ORDINALITY AS u (metric_id, group_key, i) OFFSET 0) k
        CROSS JOIN LATERAL (
               SELECT * FROM usage_rollups
                WHERE tenant_id = $1 AND customer_id = $2 AND metric_id = k.metric_id AND group_key = k.group_key AND hour >= $5 AND hour < $7 OFFSET 0) r`,
      windowParams(tenantId, window).slice(0, 7),
      { prepare: 'allot_slice_rollups_by_hour' },
    );
    return rows.map(({ i, group_values, hour_ms, ...sums }) => {
      const selection = window.selections[i - 1]!;
      return { metric_id: selection.metricId, group_key: selection.groupKey, group_values: keyValues(group_values), day: new Date(hour_ms), ...sums };
    });
  }
  const rows = await db.query<StoredKeys<SliceRollupRow>>(
    `SELECT r.metric_id, r.group_key, r.group_values, width_bucket(r.hour, $6::timestamptz[]) - 1 AS slice${window.byDay ? `, ${bucketOf('r.hour')} AS day` : ''},
            sum(r.event_count)::text AS event_count, sum(r.value_sum)::text AS value_sum, max(r.value_max)::text AS value_max,
            (array_agg(r.latest_value::text ORDER BY r.latest_at DESC NULLS LAST, r.latest_transaction_id COLLATE "C" DESC))[1] AS latest_value,
            (array_agg(r.latest_at ORDER BY r.latest_at DESC NULLS LAST, r.latest_transaction_id COLLATE "C" DESC))[1] AS latest_at,
            (array_agg(r.latest_transaction_id ORDER BY r.latest_at DESC NULLS LAST, r.latest_transaction_id COLLATE "C" DESC))[1] AS latest_transaction_id
       FROM (${SELECTED}) k
      CROSS JOIN LATERAL (
             SELECT * FROM usage_rollups
              WHERE tenant_id = $1 AND customer_id = $2 AND metric_id = k.metric_id AND group_key = k.group_key AND hour >= $5 AND hour < $7 OFFSET 0) r
      GROUP BY r.metric_id, r.group_key, r.group_values, slice${window.byDay ? ', day' : ''}`,
    windowParams(tenantId, window),
    // Read after every change of a customer's usage: parsed once per connection.
    { prepare: window.byDay ? 'allot_slice_rollups_by_bucket' : 'allot_slice_rollups' },
  );
  return withKeyArrays(rows);
}

/** A row with its group key and values as stored: JSON texts (`keyText`). */
type StoredKeys<Row> = Omit<Row, 'group_key' | 'group_values'> & { group_key: string; group_values: string };

/** Rows with their group key and values as arrays; rows of one group key share its array. */
function withKeyArrays<Row extends { group_key: string[]; group_values: string[] }>(rows: StoredKeys<Row>[]): Row[] {
  const groupKeys = new Map<string, string[]>();
  return rows.map((row) => {
    let groupKey = groupKeys.get(row.group_key);
    if (!groupKey) groupKeys.set(row.group_key, (groupKey = keyValues(row.group_key)));
    return { ...row, group_key: groupKey, group_values: keyValues(row.group_values) } as Row;
  });
}

/** A row of the read per hour, as it comes: `i` numbers the selection from 1, `group_values` is JSON, `hour_ms` the hour in ms. */
type HourRollupRow = Omit<SliceRollupRow, 'metric_id' | 'group_key' | 'group_values' | 'day'> & { i: number; group_values: string; hour_ms: number };

export interface FirstSeenRow {
  metric_id: string;
  group_key: string[];
  group_values: string[];
  value: string;
  /** The slice in which the value was first seen in `[from, to)`. */
  slice: number;
  /** With `byDay`: the bucket (UTC day, or hour from `hourlyFrom` on) it was first seen in. */
  day?: Date;
}

/** For UNIQUE metrics: each distinct value of `[from, to)` per group, with the slice it was first seen in. */
export async function firstSeenValues(
  db: Queryable,
  tenantId: string,
  window: RollupWindow,
): Promise<FirstSeenRow[]> {
  if (window.selections.length === 0) return [];
  const rows = await db.query<StoredKeys<FirstSeenRow>>(
    `SELECT d.metric_id, d.group_key, d.group_values, d.value, width_bucket(min(d.hour), $6::timestamptz[]) - 1 AS slice${window.byDay ? `, ${bucketOf('min(d.hour)')} AS day` : ''}
       FROM (${SELECTED}) k
      CROSS JOIN LATERAL (
             SELECT * FROM usage_distinct_values
              WHERE tenant_id = $1 AND customer_id = $2 AND metric_id = k.metric_id AND group_key = k.group_key AND hour >= $5 AND hour < $7 OFFSET 0) d
      GROUP BY d.metric_id, d.group_key, d.group_values, d.value`,
    windowParams(tenantId, window),
  );
  return withKeyArrays(rows);
}
