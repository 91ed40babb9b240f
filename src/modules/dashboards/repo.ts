import type { Queryable } from '../../lib/db/database.js';

export interface SessionRow {
  tenant_id: string;
  tenant_name: string;
  api_key_id: string;
  csrf_token: string;
  expires_at: Date;
}

export async function insertSession(
  tx: Queryable,
  row: { token_hash: string; tenant_id: string; api_key_id: string; csrf_token: string; created_at: Date; expires_at: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO dashboard_sessions (token_hash, tenant_id, api_key_id, csrf_token, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [row.token_hash, row.tenant_id, row.api_key_id, row.csrf_token, row.created_at, row.expires_at],
  );
}

/** A live session: not ended, not expired at `now`, and its API key not revoked. */
export async function findLiveSession(tx: Queryable, tokenHash: string, now: Date): Promise<SessionRow | undefined> {
  const rows = await tx.query<SessionRow>(
    `SELECT s.tenant_id, t.name AS tenant_name, s.api_key_id, s.csrf_token, s.expires_at
       FROM dashboard_sessions s
       JOIN api_keys k ON k.tenant_id = s.tenant_id AND k.id = s.api_key_id
       JOIN tenants t ON t.id = s.tenant_id
      WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND k.revoked_at IS NULL`,
    [tokenHash, now],
  );
  return rows[0];
}

export async function endSession(tx: Queryable, tokenHash: string, at: Date): Promise<void> {
  await tx.query(`UPDATE dashboard_sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL`, [tokenHash, at]);
}

/** Forgets sessions that ended or expired before `before`. */
export async function purgeSessions(tx: Queryable, before: Date): Promise<void> {
  await tx.query(`DELETE FROM dashboard_sessions WHERE expires_at < $1 OR ended_at < $1`, [before]);
}

/** The tenant's signing key, made with `secret` if it has none yet (concurrent first uses agree on one). */
export async function signingKey(tx: Queryable, tenantId: string, secret: string, at: Date): Promise<string> {
  await tx.query(`INSERT INTO dashboard_signing_keys (tenant_id, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING`, [tenantId, secret, at]);
  const rows = await tx.query<{ secret: string }>(`SELECT secret FROM dashboard_signing_keys WHERE tenant_id = $1`, [tenantId]);
  return rows[0]!.secret;
}

export async function findSigningKey(tx: Queryable, tenantId: string): Promise<string | undefined> {
  const rows = await tx.query<{ secret: string }>(`SELECT secret FROM dashboard_signing_keys WHERE tenant_id = $1`, [tenantId]);
  return rows[0]?.secret;
}
