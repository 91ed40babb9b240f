import type { Queryable } from '../lib/db/database.js';

export interface StoredIdempotencyKey {
  fingerprint: string;
  response_status: number | null;
  response_type: string | null;
  response_body: string | null;
}

/**
 * Claims `key` for the request running in `tx`: true when the key is new or its row has expired
 * (created before `expiredBefore`). On PostgreSQL, while another transaction holds an uncommitted
 * claim on the same key, this waits for it to end — so a duplicate arriving mid-request replays
 * the first one's response instead of running again.
 */
export async function claimKey(
  tx: Queryable,
  row: { tenantId: string; key: string; fingerprint: string; now: Date; expiredBefore: Date },
): Promise<boolean> {
  const claimed = await tx.query(
    `INSERT INTO idempotency_keys AS stored (tenant_id, key, fingerprint, created_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at,
            response_status = NULL, response_type = NULL, response_body = NULL
      WHERE stored.created_at < $5
     RETURNING 1`,
    [row.tenantId, row.key, row.fingerprint, row.now, row.expiredBefore],
  );
  return claimed.length > 0;
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
    `UPDATE idempotency_keys SET response_status = $3, response_type = $4, response_body = $5
      WHERE tenant_id = $1 AND key = $2`,
    [row.tenantId, row.key, row.status, row.type, row.body],
  );
}

export async function purgeKeys(tx: Queryable, createdBefore: Date): Promise<number> {
  const rows = await tx.query('DELETE FROM idempotency_keys WHERE created_at < $1 RETURNING 1', [createdBefore]);
  return rows.length;
}
