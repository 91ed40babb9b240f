import type { Queryable } from '../../lib/db/database.js';

export interface TenantRow {
  id: string;
  name: string;
  created_at: Date;
}

export interface ApiKeyRow {
  tenant_id: string;
  id: string;
  name: string;
  key_prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}

/** Inserts the tenant unless one with that name exists; returns the row only when it inserted. */
export async function insertTenant(tx: Queryable, tenant: TenantRow): Promise<TenantRow | undefined> {
  const rows = await tx.query<TenantRow>(
    `INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO NOTHING
     RETURNING id, name, created_at`,
    [tenant.id, tenant.name, tenant.created_at],
  );
  return rows[0];
}

export async function findTenantByName(tx: Queryable, name: string): Promise<TenantRow | undefined> {
  const rows = await tx.query<TenantRow>('SELECT id, name, created_at FROM tenants WHERE name = $1', [name]);
  return rows[0];
}

export async function anyTenantExists(tx: Queryable): Promise<boolean> {
  const rows = await tx.query('SELECT 1 FROM tenants LIMIT 1');
  return rows.length > 0;
}

export async function insertApiKey(tx: Queryable, key: ApiKeyRow & { key_hash: string }): Promise<void> {
  await tx.query(
    `INSERT INTO api_keys (tenant_id, id, name, key_hash, key_prefix, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [key.tenant_id, key.id, key.name, key.key_hash, key.key_prefix, key.created_at],
  );
}

export async function findLiveKeyByHash(
  tx: Queryable,
  keyHash: string,
): Promise<{ tenant_id: string; tenant_name: string; key_id: string } | undefined> {
  const rows = await tx.query<{ tenant_id: string; tenant_name: string; key_id: string }>(
    `SELECT k.tenant_id, t.name AS tenant_name, k.id AS key_id
       FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
      WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    [keyHash],
  );
  return rows[0];
}

export async function listApiKeys(tx: Queryable, tenantId: string, { afterId, limit }: { afterId: string | null; limit: number }): Promise<ApiKeyRow[]> {
  return tx.query<ApiKeyRow>(
    `SELECT tenant_id, id, name, key_prefix, created_at, revoked_at
       FROM api_keys WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid)
      ORDER BY id LIMIT $3`,
    [tenantId, afterId, limit],
  );
}

export async function countLiveKeys(tx: Queryable, tenantId: string): Promise<number> {
  // Locks the tenant's live keys so that two concurrent revocations cannot both pass the count.
  const rows = await tx.query<{ id: string }>('SELECT id FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL FOR UPDATE', [tenantId]);
  return rows.length;
}

/** Revokes a live key; returns it, or undefined when the tenant has no such live key. */
export async function revokeApiKey(tx: Queryable, tenantId: string, id: string, at: Date): Promise<ApiKeyRow | undefined> {
  const rows = await tx.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = $3
      WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL
      RETURNING tenant_id, id, name, key_prefix, created_at, revoked_at`,
    [tenantId, id, at],
  );
  return rows[0];
}

export interface TenantSettingsRow {
  tenant_id: string;
  invoice_grace_period_hours: number | null;
}

/** The stored settings of `tenantIds` (tenants that stored none are absent). */
export async function settingsOf(tx: Queryable, tenantIds: readonly string[]): Promise<TenantSettingsRow[]> {
  return tx.query<TenantSettingsRow>('SELECT tenant_id, invoice_grace_period_hours FROM tenant_settings WHERE tenant_id = ANY($1::uuid[])', [tenantIds]);
}

export async function upsertSettings(tx: Queryable, row: TenantSettingsRow & { updated_at: Date }): Promise<void> {
  await tx.query(
    `INSERT INTO tenant_settings (tenant_id, invoice_grace_period_hours, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET invoice_grace_period_hours = EXCLUDED.invoice_grace_period_hours, updated_at = EXCLUDED.updated_at`,
    [row.tenant_id, row.invoice_grace_period_hours, row.updated_at],
  );
}
