import type { Queryable } from '../../lib/db/database.js';

export interface ConfigurationRow {
  tenant_id: string;
  id: string;
  customer_id: string;
  billing_provider: string;
  delivery_method: string;
  configuration: Record<string, unknown>;
  created_at: Date;
  archived_at: Date | null;
}

const CONFIGURATION_COLUMNS = 'tenant_id, id, customer_id, billing_provider, delivery_method, configuration, created_at, archived_at';

export async function insertConfiguration(tx: Queryable, row: ConfigurationRow): Promise<void> {
  await tx.query(
    `INSERT INTO customer_billing_provider_configurations (${CONFIGURATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
    [row.tenant_id, row.id, row.customer_id, row.billing_provider, row.delivery_method, JSON.stringify(row.configuration), row.created_at, row.archived_at],
  );
}

export async function listConfigurations(tx: Queryable, tenantId: string, customerId: string, { includeArchived }: { includeArchived: boolean }): Promise<ConfigurationRow[]> {
  return tx.query<ConfigurationRow>(
    `SELECT ${CONFIGURATION_COLUMNS} FROM customer_billing_provider_configurations
      WHERE tenant_id = $1 AND customer_id = $2 AND ($3 OR archived_at IS NULL) ORDER BY id`,
    [tenantId, customerId, includeArchived],
  );
}

/** Archives the customer's live configurations among `ids`; returns those it archived. */
export async function archiveConfigurations(tx: Queryable, tenantId: string, customerId: string, ids: readonly string[], at: Date): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `UPDATE customer_billing_provider_configurations SET archived_at = $4
      WHERE tenant_id = $1 AND customer_id = $2 AND id = ANY($3::uuid[]) AND archived_at IS NULL RETURNING id`,
    [tenantId, customerId, ids, at],
  );
  return rows.map((row) => row.id);
}

export async function findConfiguration(tx: Queryable, tenantId: string, id: string): Promise<ConfigurationRow | undefined> {
  const rows = await tx.query<ConfigurationRow>(`SELECT ${CONFIGURATION_COLUMNS} FROM customer_billing_provider_configurations WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return rows[0];
}
