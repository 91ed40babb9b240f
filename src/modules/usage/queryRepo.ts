import type { Queryable } from '../../lib/db/database.js';
import type { UsageWindow } from './queriesWindows.js';
import { keyText, keyValues } from './compute/keyText.js';

export type Aggregation = 'COUNT' | 'SUM' | 'MAX' | 'UNIQUE' | 'LATEST';

/** One metric's value for one customer, window and group (numbers as text; null when nothing has a value). */
export interface WindowValueRow {
  customer_id: string;
  /** 0-based index into the windows passed in. */
  window_index: number;
  group_values: string[];
  value: string | null;
}

/** Keeps the rows whose value of the group key's property at `position` (1-based) is one of `values`. */
export interface GroupValueFilter {
  position: number;
  values: string[];
}

// Fixed SQL per aggregation over usage_rollups (alias r); UNIQUE reads usage_distinct_values instead.
const ROLLUP_VALUE: Record<Exclude<Aggregation, 'UNIQUE'>, string> = {
  COUNT: 'sum(r.event_count)::text',
  SUM: 'sum(r.value_sum)::text',
  MAX: 'max(r.value_max)::text',
  // The latest value by event time, then by transaction id compared byte by byte, so the pick
  // does not depend on the database's collation.
  LATEST: `(array_agg(r.latest_value::text ORDER BY r.latest_at DESC, r.latest_transaction_id COLLATE "C" DESC)
             FILTER (WHERE r.latest_at IS NOT NULL AND r.latest_value IS NOT NULL))[1]`,
};

/**
 * A metric's value per customer, window and group value, from the hourly rollups (never the raw
 * events): the rows of `groupKey` (`[]` for the totals, else the key's properties sorted) whose
 * hour falls in each window. COUNT adds `event_count`, SUM adds `value_sum`, MAX takes the
 * greatest `value_max`, LATEST the `latest_value` with the greatest `(latest_at,
 * latest_transaction_id)`, UNIQUE counts the distinct values of the window's hours. Only groups
 * with usage in a window have a row for it. `windows` must not overlap.
 */
export async function windowValues(
  db: Queryable,
  tenantId: string,
  {
    metricId,
    aggregation,
    customerIds,
    groupKey,
    windows,
    filters = [],
  }: { metricId: string; aggregation: Aggregation; customerIds: string[]; groupKey: string[]; windows: UsageWindow[]; filters?: GroupValueFilter[] },
): Promise<WindowValueRow[]> {
  if (customerIds.length === 0 || windows.length === 0) return [];
  const [table, value] = aggregation === 'UNIQUE' ? ['usage_distinct_values', 'count(DISTINCT r.value)::text'] : ['usage_rollups', ROLLUP_VALUE[aggregation]];
  const params: unknown[] = [
    tenantId,
    customerIds,
    metricId,
    keyText(groupKey),
    windows.map((w) => w.startingOn),
    windows.map((w) => w.endingBefore),
  ];
  const filterSql = filters
    .map((filter) => {
      params.push(filter.position, filter.values);
      return `AND (r.group_values::jsonb ->> ($${params.length - 1}::int - 1)) = ANY($${params.length}::text[])`;
    })
    .join(' ');
  const rows = await db.query<Omit<WindowValueRow, 'group_values'> & { group_values: string }>(
    `SELECT r.customer_id, (w.ordinal - 1)::int AS window_index, r.group_values, ${value} AS value
       FROM unnest($5::timestamptz[], $6::timestamptz[]) WITH ORDINALITY AS w (starting_on, ending_before, ordinal)
       JOIN ${table} r
         ON r.tenant_id = $1 AND r.customer_id = ANY($2::uuid[]) AND r.metric_id = $3 AND r.group_key = $4
        AND r.hour >= w.starting_on AND r.hour < w.ending_before
      WHERE true ${filterSql}
      GROUP BY r.customer_id, w.ordinal, r.group_values`,
    params,
  );
  return rows.map((row) => ({ ...row, group_values: keyValues(row.group_values) }));
}

export interface EventRow {
  transaction_id: string;
  customer_ref: string;
  customer_id: string | null;
  event_type: string;
  timestamp: Date;
  properties: Record<string, unknown>;
  received_at: Date;
}

/** The stored events with these transaction ids (each id at most once: a repeat was never stored). */
export async function findEvents(db: Queryable, tenantId: string, transactionIds: string[]): Promise<EventRow[]> {
  if (transactionIds.length === 0) return [];
  return db.query<EventRow>(
    `SELECT transaction_id, customer_ref, customer_id, event_type, "timestamp", properties, received_at
       FROM events WHERE tenant_id = $1 AND transaction_id = ANY($2::text[])`,
    [tenantId, transactionIds],
  );
}

/** For one window: how many of the customer's events dated in it were received after `after`, and when the first and last came. */
export interface LateEventsRow {
  window_index: number;
  events: string;
  first_received_at: Date;
  last_received_at: Date;
}

/**
 * Per window (a customer, `[from, to)` of event time, and an instant), the customer's events dated
 * in the window and received after the instant; windows with none are absent. One range scan of
 * `events_customer_time` per window.
 */
export async function eventsReceivedAfter(
  db: Queryable,
  tenantId: string,
  windows: readonly { customerId: string; from: Date; to: Date; after: Date }[],
): Promise<LateEventsRow[]> {
  if (windows.length === 0) return [];
  return db.query<LateEventsRow>(
    `SELECT (w.ordinal - 1)::int AS window_index, count(*)::text AS events, min(e.received_at) AS first_received_at, max(e.received_at) AS last_received_at
       FROM unnest($2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[]) WITH ORDINALITY AS w (customer_id, from_at, to_at, after_at, ordinal)
       JOIN events e ON e.tenant_id = $1 AND e.customer_id = w.customer_id AND e."timestamp" >= w.from_at AND e."timestamp" < w.to_at AND e.received_at > w.after_at
      GROUP BY w.ordinal`,
    [tenantId, windows.map((w) => w.customerId), windows.map((w) => w.from), windows.map((w) => w.to), windows.map((w) => w.after)],
  );
}
