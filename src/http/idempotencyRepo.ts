import type { Queryable } from '../lib/db/database.js';

export interface StoredIdempotencyKey {
  fingerprint: string;
  response_status: number | null;
  response_type: string | null;
  response_body: string | null;
}

/**
 * Reserves `key` for a request. It succeeds when the key is new, when the stored row has expired
 * (created before `expiredBefore`), or when the row is a reservation for the same request that
 * was abandoned (locked before `abandonedBefore`: the process handling it died).
 */
export async function reserveKey(
  tx: Queryable,
  row: { tenantId: string; key: string; fingerprint: string; now: Date; expiredBefore: Date; abandonedBefore: Date },
): Promise<boolean> {
  const reserved = await tx.query(
    `INSERT INTO idempotency_keys AS stored (tenant_id, key, fingerprint, created_at, locked_at)
     VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (tenant_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at, locked_at = EXCLUDED.locked_at,
            response_status = NULL, response_type = NULL, response_body = NULL
      WHERE stored.created_at < $5
         OR (stored.response_status IS NULL AND stored.locked_at < $6 AND stored.fingerprint = EXCLUDED.fingerprint)
     RETURNING 1`,
    [row.tenantId, row.key, row.fingerprint, row.now, row.expiredBefore, row.abandonedBefore],
  );
  return reserved.length > 0;
}

export async function findKey(tx: Queryable, tenantId: string, key: string): Promise<StoredIdempotencyKey | undefined> {
  const rows = await tx.query<StoredIdempotencyKey>(
    `SELECT fingerprint, response_status, response_type, response_body
       FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`,
    [tenantId, key],
  );
  return rows[0];
}

export async function storeResponse(
  tx: Queryable,
  row: { tenantId: string; key: string; status: number; type: string | null; body: string },
): Promise<void> {
  await tx.query(
    `UPDATE idempotency_keys SET response_status = $3, response_type = $4, response_body = $5, locked_at = NULL
      WHERE tenant_id = $1 AND key = $2`,
    [row.tenantId, row.key, row.status, row.type, row.body],
  );
}

/** Frees a reservation whose request did not succeed, so the client may try again with the same key. */
export async function releaseKey(tx: Queryable, tenantId: string, key: string): Promise<void> {
  await tx.query('DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND response_status IS NULL', [tenantId, key]);
}

export async function purgeKeys(tx: Queryable, createdBefore: Date): Promise<number> {
  const rows = await tx.query('DELETE FROM idempotency_keys WHERE created_at < $1 RETURNING 1', [createdBefore]);
  return rows.length;
}
