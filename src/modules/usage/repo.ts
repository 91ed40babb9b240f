import type { Queryable } from '../../lib/db/database.js';
import type { MetricDefinition } from './compute/matchMetric.js';
import type { DistinctValue, Rollup } from './compute/foldRollups.js';
import { plainArray, textArray } from './pgArrays.js';

/**
 * The advisory lock that orders ingest and metric creation within a tenant: ingest batches hold
 * it shared, the creation of a billable metric (with its backfill) exclusively. Its key is a
 * 64-bit hash of the tenant id under a name no other lock uses.
 */
const METRICS_LOCK = `hashtextextended('allot.usage.metrics:' || tenant_id, 0)`;

/** Takes the shared metric lock of each tenant, in tenant order, until the transaction ends. */
export async function lockMetricsShared(tx: Queryable, tenantIds: readonly string[]): Promise<void> {
  await tx.query(
    `SELECT pg_advisory_xact_lock_shared(${METRICS_LOCK}) FROM unnest($1::text[]) AS t (tenant_id)`,
    [[...tenantIds].sort()],
    { prepare: 'allot_ingest_lock_metrics' },
  );
}

/** Takes the tenant's metric lock exclusively until the transaction ends: no ingest batch of the tenant runs meanwhile. */
export async function lockMetricsExclusive(tx: Queryable, tenantId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${METRICS_LOCK}) FROM (SELECT $1::text AS tenant_id) t`, [tenantId]);
}

export interface LiveMetricRow extends MetricDefinition {
  tenant_id: string;
}

/** The live (not archived) billable metrics of the tenants. */
export async function liveMetrics(tx: Queryable, tenantIds: readonly string[]): Promise<LiveMetricRow[]> {
  return tx.query<LiveMetricRow>(
    `SELECT tenant_id, id, aggregation_type, aggregation_key, event_type_filter, property_filters, group_keys
       FROM billable_metrics
      WHERE tenant_id = ANY($1::uuid[]) AND archived_at IS NULL
      ORDER BY tenant_id, id`,
    [tenantIds],
    { prepare: 'allot_ingest_live_metrics' },
  );
}

/** Events to insert, one array per column, rows in (tenant, transaction id) order. */
export interface EventColumns {
  tenantIds: string[];
  transactionIds: string[];
  customerRefs: string[];
  eventTypes: string[];
  timestamps: string[];
  /** Each event's properties, sent as one JSON array. */
  properties: Array<Record<string, unknown>>;
  receivedAt: string[];
}

/** The distinct customer references of the batch, per tenant, with the id each would be if it is one. */
export interface CustomerRefColumns {
  tenantIds: string[];
  refs: string[];
  /** The ref when it is a UUID, else null (so that it can be compared with `customers.id`). */
  refIds: Array<string | null>;
}

export interface InsertedEvent {
  tenant_id: string;
  transaction_id: string;
  customer_id: string | null;
}

/**
 * Inserts the events whose transaction id the tenant has not stored yet, each with the customer
 * its reference names (by id, else by ingest alias; NULL for none), and returns only those: a
 * repeated transaction id is ignored, also when a concurrent transaction inserts it at the same
 * moment (the second waits for the first and then skips it). One statement for the whole batch.
 */
export async function insertNewEvents(tx: Queryable, events: EventColumns, refs: CustomerRefColumns): Promise<InsertedEvent[]> {
  return tx.query<InsertedEvent>(
    `WITH refs AS (
       SELECT r.tenant_id, r.ref, COALESCE(c.id, a.customer_id) AS customer_id
         FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS r (tenant_id, ref, ref_id)
         LEFT JOIN customers c ON c.tenant_id = r.tenant_id AND c.id = r.ref_id
         LEFT JOIN customer_ingest_aliases a ON a.tenant_id = r.tenant_id AND a.alias = r.ref
     )
     INSERT INTO events (tenant_id, transaction_id, customer_ref, customer_id, event_type, "timestamp", properties, received_at)
     SELECT e.tenant_id, e.transaction_id, e.customer_ref, refs.customer_id, e.event_type, e.at, e.properties, e.received_at
       FROM ROWS FROM (unnest($4::uuid[]), unnest($5::text[]), unnest($6::text[]), unnest($7::text[]), unnest($8::timestamptz[]),
                       jsonb_array_elements($9::jsonb), unnest($10::timestamptz[]))
            WITH ORDINALITY AS e (tenant_id, transaction_id, customer_ref, event_type, at, properties, received_at, position)
       LEFT JOIN refs ON refs.tenant_id = e.tenant_id AND refs.ref = e.customer_ref
      ORDER BY e.position
     ON CONFLICT (tenant_id, transaction_id) DO NOTHING
     RETURNING tenant_id, transaction_id, customer_id`,
    [
      plainArray(refs.tenantIds),
      textArray(refs.refs),
      plainArray(refs.refIds),
      plainArray(events.tenantIds),
      textArray(events.transactionIds),
      textArray(events.customerRefs),
      textArray(events.eventTypes),
      plainArray(events.timestamps),
      JSON.stringify(events.properties),
      plainArray(events.receivedAt),
    ],
  );
}

/**
 * The group keys or values of rows as one JSON parameter, `[["team"],["red"],[]]`, read with
 * `json_array_elements($n::json)::text`: a `json` value keeps its text, so each element is the key
 * as stored (`keyText`, what `JSON.stringify` gives for the row's array). One native call encodes
 * them all, where a `text[]` literal would escape the quotes of every element.
 */
const keyTexts = (keys: ReadonlyArray<readonly string[]>): string => JSON.stringify(keys);

/** An instant's ISO text; rows of a batch share few hours, so each is made once. */
function isoHours(): (ms: number) => string {
  const made = new Map<number, string>();
  return (ms) => {
    let text = made.get(ms);
    if (text === undefined) made.set(ms, (text = new Date(ms).toISOString()));
    return text;
  };
}

// The latest value is replaced by one with a greater (timestamp, transaction id); transaction ids
// compare byte by byte, whatever the database's collation.
const NEWER = `(EXCLUDED.latest_at IS NOT NULL AND (r.latest_at IS NULL OR EXCLUDED.latest_at > r.latest_at
  OR (EXCLUDED.latest_at = r.latest_at AND EXCLUDED.latest_transaction_id COLLATE "C" > r.latest_transaction_id COLLATE "C")))`;

/**
 * Adds `rows` (one per key, in key order) to the stored rollups with one statement: counts and
 * sums add, the maximum is the greater, and the latest value is the one with the greater
 * (timestamp, transaction id). Rows are written in the order given, which every writer shares,
 * so that two transactions touching the same rows never deadlock.
 */
export async function upsertRollups(tx: Queryable, rows: readonly Rollup[]): Promise<void> {
  if (rows.length === 0) return;
  const n = rows.length;
  const tenantIds = new Array<string>(n);
  const customerIds = new Array<string>(n);
  const metricIds = new Array<string>(n);
  const groupKeys = new Array<readonly string[]>(n);
  const hours = new Array<string>(n);
  const groupValues = new Array<readonly string[]>(n);
  const counts = new Array<string>(n);
  const sums = new Array<string>(n);
  const maxes = new Array<string | null>(n);
  const latestValues = new Array<string | null>(n);
  const latestAts = new Array<string | null>(n);
  const latestTransactionIds = new Array<string | null>(n);
  const hour = isoHours();
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    tenantIds[i] = row.tenantId;
    customerIds[i] = row.customerId;
    metricIds[i] = row.metricId;
    groupKeys[i] = row.groupKey;
    hours[i] = hour(row.hourMs);
    groupValues[i] = row.groupValues;
    counts[i] = String(row.eventCount);
    sums[i] = row.valueSum.toFixed();
    maxes[i] = row.valueMax && row.valueMax.toFixed();
    latestValues[i] = row.latest && row.latest.value.toFixed();
    latestAts[i] = row.latest && new Date(row.latest.atMs).toISOString();
    latestTransactionIds[i] = row.latest && row.latest.transactionId;
  }
  await tx.query(
    `INSERT INTO usage_rollups AS r (tenant_id, customer_id, metric_id, group_key, hour, group_values, event_count, value_sum, value_max,
                                     latest_value, latest_at, latest_transaction_id)
     SELECT u.tenant_id, u.customer_id, u.metric_id, u.group_key::text, u.hour, u.group_values::text, u.event_count, u.value_sum, u.value_max,
            u.latest_value, u.latest_at, u.latest_transaction_id
       FROM ROWS FROM (unnest($1::uuid[]), unnest($2::uuid[]), unnest($3::uuid[]), json_array_elements($4::json), unnest($5::timestamptz[]),
                       json_array_elements($6::json), unnest($7::bigint[]), unnest($8::numeric[]), unnest($9::numeric[]), unnest($10::numeric[]),
                       unnest($11::timestamptz[]), unnest($12::text[]))
            WITH ORDINALITY AS u (tenant_id, customer_id, metric_id, group_key, hour, group_values, event_count, value_sum, value_max,
                                  latest_value, latest_at, latest_transaction_id, position)
      ORDER BY u.position
     ON CONFLICT (tenant_id, customer_id, metric_id, group_key, hour, group_values) DO UPDATE SET
       event_count = r.event_count + EXCLUDED.event_count,
       value_sum = r.value_sum + EXCLUDED.value_sum,
       value_max = GREATEST(r.value_max, EXCLUDED.value_max),
       latest_value = CASE WHEN ${NEWER} THEN EXCLUDED.latest_value ELSE r.latest_value END,
       latest_at = CASE WHEN ${NEWER} THEN EXCLUDED.latest_at ELSE r.latest_at END,
       latest_transaction_id = CASE WHEN ${NEWER} THEN EXCLUDED.latest_transaction_id ELSE r.latest_transaction_id END`,
    [
      plainArray(tenantIds),
      plainArray(customerIds),
      plainArray(metricIds),
      keyTexts(groupKeys),
      plainArray(hours),
      keyTexts(groupValues),
      plainArray(counts),
      plainArray(sums),
      plainArray(maxes),
      plainArray(latestValues),
      plainArray(latestAts),
      textArray(latestTransactionIds),
    ],
  );
}

/** Records the distinct values of UNIQUE metrics (one per key, in key order); a value already recorded is left alone. */
export async function insertDistinctValues(tx: Queryable, rows: readonly DistinctValue[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO usage_distinct_values (tenant_id, customer_id, metric_id, group_key, hour, group_values, value)
     SELECT d.tenant_id, d.customer_id, d.metric_id, d.group_key::text, d.hour, d.group_values::text, d.value
       FROM ROWS FROM (unnest($1::uuid[]), unnest($2::uuid[]), unnest($3::uuid[]), json_array_elements($4::json), unnest($5::timestamptz[]),
                       json_array_elements($6::json), unnest($7::text[]))
            WITH ORDINALITY AS d (tenant_id, customer_id, metric_id, group_key, hour, group_values, value, position)
      ORDER BY d.position
     ON CONFLICT DO NOTHING`,
    [
      plainArray(rows.map((row) => row.tenantId)),
      plainArray(rows.map((row) => row.customerId)),
      plainArray(rows.map((row) => row.metricId)),
      keyTexts(rows.map((row) => row.groupKey)),
      plainArray(rows.map(((hour) => (row: DistinctValue) => hour(row.hourMs))(isoHours()))),
      keyTexts(rows.map((row) => row.groupValues)),
      textArray(rows.map((row) => row.value)),
    ],
  );
}

export interface StoredEventRow {
  transaction_id: string;
  customer_id: string;
  event_type: string;
  timestamp: Date;
  properties: Record<string, unknown>;
}

/**
 * A page of the tenant's stored events of known customers, in transaction id order after
 * `afterTransactionId`, restricted to the event types a metric can match (for backfills).
 */
export async function storedEventsPage(
  tx: Queryable,
  tenantId: string,
  {
    afterTransactionId,
    eventTypesIn,
    eventTypesNotIn,
    limit,
  }: { afterTransactionId: string | null; eventTypesIn: readonly string[] | null; eventTypesNotIn: readonly string[] | null; limit: number },
): Promise<StoredEventRow[]> {
  return tx.query<StoredEventRow>(
    `SELECT transaction_id, customer_id, event_type, "timestamp", properties
       FROM events
      WHERE tenant_id = $1 AND ($2::text IS NULL OR transaction_id > $2::text) AND customer_id IS NOT NULL
        AND ($3::text[] IS NULL OR event_type = ANY($3::text[])) AND ($4::text[] IS NULL OR event_type <> ALL($4::text[]))
      ORDER BY transaction_id
      LIMIT $5`,
    [tenantId, afterTransactionId, eventTypesIn, eventTypesNotIn, limit],
  );
}
