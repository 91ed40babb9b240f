import type { Queryable } from '../../lib/db/database.js';

export interface EndpointRow {
  tenant_id: string;
  id: string;
  url: string;
  secret: string;
  event_types: string[] | null;
  description: string | null;
  created_at: Date;
  archived_at: Date | null;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  tenant_id: string;
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  /** Null until an attempt or a retry sets it: the delivering server's configured budget. */
  max_attempts: number | null;
  next_attempt_at: Date | null;
  created_at: Date;
  finished_at: Date | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

/** A delivery a worker has leased and is about to send. */
export interface ClaimedDelivery {
  tenant_id: string;
  id: string;
  endpoint_id: string;
  attempts: number;
  /** Null until an attempt or a retry sets it: the delivering server's configured budget. */
  max_attempts: number | null;
  body: string;
  url: string;
  secret: string;
}

const ENDPOINT_COLUMNS = 'tenant_id, id, url, secret, event_types, description, created_at, archived_at';

export async function insertEndpoint(tx: Queryable, endpoint: EndpointRow): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_endpoints (${ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8)`,
    [endpoint.tenant_id, endpoint.id, endpoint.url, endpoint.secret, endpoint.event_types, endpoint.description, endpoint.created_at, endpoint.archived_at],
  );
}

export async function findEndpoint(tx: Queryable, tenantId: string, id: string, { forUpdate = false } = {}): Promise<EndpointRow | undefined> {
  const rows = await tx.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return rows[0];
}

export async function listEndpoints(
  tx: Queryable,
  tenantId: string,
  { afterId, limit, includeArchived }: { afterId: string | null; limit: number; includeArchived: boolean },
): Promise<EndpointRow[]> {
  return tx.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) AND ($3 OR archived_at IS NULL)
      ORDER BY id LIMIT $4`,
    [tenantId, afterId, includeArchived, limit],
  );
}

export async function archiveEndpoint(tx: Queryable, tenantId: string, id: string, at: Date): Promise<void> {
  await tx.query('UPDATE webhook_endpoints SET archived_at = $3 WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', [tenantId, id, at]);
}

/** Fails every pending delivery to the endpoint (it was archived); returns how many. */
export async function failPendingDeliveries(tx: Queryable, tenantId: string, endpointId: string, at: Date): Promise<number> {
  const rows = await tx.query(
    `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, finished_at = $3
      WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending' RETURNING id`,
    [tenantId, endpointId, at],
  );
  return rows.length;
}

/**
 * Inserts the event unless the tenant already has one with its dedupe key, and in the same
 * statement finds the live endpoints that take its type. `event_id` is null when nothing was inserted.
 * The endpoints are locked FOR SHARE until the transaction ends, so an archive either waits for
 * it (and then fails its deliveries) or commits first (and the endpoint is not picked).
 */
export async function insertEvent(
  tx: Queryable,
  event: { tenant_id: string; id: string; type: string; body: string; dedupe_key: string | null; created_at: Date },
): Promise<{ event_id: string | null; endpoint_ids: string[] }> {
  const rows = await tx.query<{ event_id: string | null; endpoint_ids: string[] }>(
    `WITH inserted AS (
       INSERT INTO webhook_events (tenant_id, id, type, body, dedupe_key, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
       RETURNING id
     )
     SELECT (SELECT id FROM inserted) AS event_id,
            array(SELECT id FROM webhook_endpoints
                   WHERE tenant_id = $1 AND archived_at IS NULL AND (event_types IS NULL OR $3 = ANY(event_types))
                   ORDER BY id FOR SHARE) AS endpoint_ids`,
    [event.tenant_id, event.id, event.type, event.body, event.dedupe_key, event.created_at],
  );
  return rows[0]!;
}

export async function insertDeliveries(
  tx: Queryable,
  { tenantId, eventId, ids, endpointIds, at }: { tenantId: string; eventId: string; ids: string[]; endpointIds: string[]; at: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, status, attempts, max_attempts, next_attempt_at, created_at)
     SELECT $1, d.id, d.endpoint_id, $2, 'pending', 0, NULL, $5, $5
       FROM unnest($3::uuid[], $4::uuid[]) AS d(id, endpoint_id)`,
    [tenantId, eventId, ids, endpointIds, at],
  );
}

const DELIVERY_SELECT = `
  SELECT d.tenant_id, d.id, d.endpoint_id, d.event_id, e.type AS event_type, e.body, d.status, d.attempts, d.max_attempts,
         d.next_attempt_at, d.created_at, d.finished_at
    FROM webhook_deliveries d JOIN webhook_events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id`;

/** The endpoint's deliveries, newest first: `beforeId` continues after the last one of the previous page. */
export async function listDeliveries(
  tx: Queryable,
  tenantId: string,
  endpointId: string,
  { beforeId, limit, status }: { beforeId: string | null; limit: number; status: DeliveryStatus | null },
): Promise<DeliveryRow[]> {
  return tx.query<DeliveryRow>(
    `${DELIVERY_SELECT}
      WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND ($3::uuid IS NULL OR d.id < $3::uuid) AND ($4::text IS NULL OR d.status = $4::text)
      ORDER BY d.id DESC LIMIT $5`,
    [tenantId, endpointId, beforeId, status, limit],
  );
}

export async function findDelivery(tx: Queryable, tenantId: string, endpointId: string, id: string, { forUpdate = false } = {}): Promise<DeliveryRow | undefined> {
  const rows = await tx.query<DeliveryRow>(
    `${DELIVERY_SELECT} WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.id = $3${forUpdate ? ' FOR UPDATE OF d' : ''}`,
    [tenantId, endpointId, id],
  );
  return rows[0];
}

export async function listAttempts(tx: Queryable, tenantId: string, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return tx.query<AttemptRow>(
    `SELECT delivery_id, attempt, started_at, duration_ms, status_code, error FROM webhook_attempts
      WHERE tenant_id = $1 AND delivery_id = ANY($2::uuid[]) ORDER BY delivery_id, attempt`,
    [tenantId, deliveryIds],
  );
}

/** Puts a finished delivery back in the queue, due at `at`, with `maxAttempts` as its new budget. */
export async function requeueDelivery(tx: Queryable, tenantId: string, id: string, { at, maxAttempts }: { at: Date; maxAttempts: number }): Promise<void> {
  await tx.query(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, finished_at = NULL, max_attempts = $4
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, at, maxAttempts],
  );
}

/**
 * Leases up to `limit` due deliveries (every tenant's) until `leaseUntil`: they stay pending, but
 * are not due again before the lease runs out, so another worker on the same database skips
 * them; rows another worker is claiming at this very moment are skipped too (SKIP LOCKED).
 */
export async function claimDueDeliveries(
  db: Queryable,
  { now, leaseUntil, limit, busyEndpointIds = [] }: { now: Date; leaseUntil: Date; limit: number; busyEndpointIds?: readonly string[] },
): Promise<ClaimedDelivery[]> {
  return db.query<ClaimedDelivery>(
    `UPDATE webhook_deliveries d SET next_attempt_at = $2
       FROM webhook_events e, webhook_endpoints ep
      WHERE (d.tenant_id, d.id) IN (
              SELECT tenant_id, id FROM webhook_deliveries
               WHERE status = 'pending' AND next_attempt_at <= $1 AND endpoint_id <> ALL($4::uuid[])
               ORDER BY next_attempt_at LIMIT $3
               FOR UPDATE SKIP LOCKED)
        AND e.tenant_id = d.tenant_id AND e.id = d.event_id
        AND ep.tenant_id = d.tenant_id AND ep.id = d.endpoint_id
      RETURNING d.tenant_id, d.id, d.endpoint_id, d.attempts, d.max_attempts, e.body, ep.url, ep.secret`,
    [now, leaseUntil, limit, busyEndpointIds],
  );
}

/** Ends the lease of deliveries claimed but never sent (the worker is stopping): they are due at `at`. */
export async function releaseDeliveries(db: Queryable, deliveries: Array<{ tenant_id: string; id: string; attempts: number }>, at: Date): Promise<void> {
  if (deliveries.length === 0) return;
  await db.query(
    `UPDATE webhook_deliveries d SET next_attempt_at = $4
       FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS c(tenant_id, id, attempts)
      WHERE d.tenant_id = c.tenant_id AND d.id = c.id AND d.attempts = c.attempts AND d.status = 'pending'`,
    [deliveries.map((d) => d.tenant_id), deliveries.map((d) => d.id), deliveries.map((d) => d.attempts), at],
  );
}

/**
 * Records attempt number `attempt` and moves the delivery on, in one transaction. The attempt
 * number is the fence: when another worker has recorded that attempt already (this one's lease
 * ran out meanwhile), nothing is written and false is returned. A delivery that stopped being
 * pending meanwhile (its endpoint was archived) keeps its status unless this attempt delivered it.
 */
export async function recordAttempt(
  tx: Queryable,
  {
    tenantId,
    deliveryId,
    attempt,
    startedAt,
    durationMs,
    statusCode,
    error,
    status,
    maxAttempts,
    nextAttemptAt,
    finishedAt,
  }: {
    tenantId: string;
    deliveryId: string;
    attempt: number;
    startedAt: Date;
    durationMs: number;
    statusCode: number | null;
    error: string | null;
    status: DeliveryStatus;
    maxAttempts: number;
    nextAttemptAt: Date | null;
    finishedAt: Date | null;
  },
): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO webhook_attempts (tenant_id, delivery_id, attempt, started_at, duration_ms, status_code, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING attempt`,
    [tenantId, deliveryId, attempt, startedAt, durationMs, statusCode, error],
  );
  if (inserted.length === 0) return false;
  await tx.query(
    `UPDATE webhook_deliveries SET
       attempts = $3,
       max_attempts = GREATEST(max_attempts, $4),
       status = CASE WHEN status = 'pending' OR $5::text = 'delivered' THEN $5::text ELSE status END,
       next_attempt_at = CASE WHEN status = 'pending' OR $5::text = 'delivered' THEN $6::timestamptz ELSE next_attempt_at END,
       finished_at = CASE WHEN status = 'pending' OR $5::text = 'delivered' THEN $7::timestamptz ELSE finished_at END
     WHERE tenant_id = $1 AND id = $2 AND attempts = $3 - 1`,
    [tenantId, deliveryId, attempt, maxAttempts, status, nextAttemptAt, finishedAt],
  );
  return true;
}

/** Whether the tenant has a live endpoint that takes any of `types` (one with `event_types` null takes them all). */
export async function hasSubscribers(tx: Queryable, tenantId: string, types: readonly string[]): Promise<boolean> {
  const rows = await tx.query(
    `SELECT 1 FROM webhook_endpoints
      WHERE tenant_id = $1 AND archived_at IS NULL AND (event_types IS NULL OR event_types && $2::text[]) LIMIT 1`,
    [tenantId, types],
  );
  return rows.length > 0;
}

/** Every tenant with a live endpoint that takes any of `types`. */
export async function tenantsSubscribedTo(tx: Queryable, types: readonly string[]): Promise<string[]> {
  const rows = await tx.query<{ tenant_id: string }>(
    `SELECT DISTINCT tenant_id FROM webhook_endpoints WHERE archived_at IS NULL AND (event_types IS NULL OR event_types && $1::text[])`,
    [types],
  );
  return rows.map((row) => row.tenant_id);
}

/** Which of `dedupeKeys` the tenant's outbox holds. */
export async function writtenDedupeKeys(tx: Queryable, tenantId: string, dedupeKeys: readonly string[]): Promise<string[]> {
  const rows = await tx.query<{ dedupe_key: string }>(`SELECT dedupe_key FROM webhook_events WHERE tenant_id = $1 AND dedupe_key = ANY($2::text[])`, [
    tenantId,
    dedupeKeys,
  ]);
  return rows.map((row) => row.dedupe_key);
}
