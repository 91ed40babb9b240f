import type { Queryable } from '../../lib/db/database.js';

export type ThresholdKind = 'PREPAID_BALANCE' | 'SPEND';

/** A threshold configuration as stored: the SDK's fields, amounts as decimal text. */
export interface StoredThreshold {
  commit: {
    product_id: string;
    name?: string;
    description?: string;
    priority?: string;
    applicable_product_ids?: string[];
    applicable_product_tags?: string[];
  };
  payment_gate_config: {
    payment_gate_type: 'NONE' | 'STRIPE';
    stripe_config?: { payment_type: 'INVOICE'; invoice_metadata?: Record<string, string> };
    tax_type?: 'NONE';
  };
  threshold_amount: string;
  /** Prepaid balance thresholds only. */
  recharge_to_amount?: string;
  /** Prepaid balance thresholds only: the pricing unit of the amounts (else the contract's fiat unit). */
  custom_credit_type_id?: string;
}

export interface ThresholdRow {
  contract_id: string;
  customer_id: string;
  kind: ThresholdKind;
  is_enabled: boolean;
  configuration: StoredThreshold;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'contract_id, customer_id, kind, is_enabled, configuration, created_at, updated_at';

export async function upsertThreshold(tx: Queryable, tenantId: string, row: ThresholdRow): Promise<void> {
  await tx.query(
    `INSERT INTO contract_threshold_configurations (tenant_id, ${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant_id, contract_id, kind) DO UPDATE SET is_enabled = EXCLUDED.is_enabled, configuration = EXCLUDED.configuration, updated_at = EXCLUDED.updated_at`,
    [tenantId, row.contract_id, row.customer_id, row.kind, row.is_enabled, JSON.stringify(row.configuration), row.created_at, row.updated_at],
  );
}

export async function listThresholds(db: Queryable, tenantId: string, customerId: string): Promise<ThresholdRow[]> {
  return db.query<ThresholdRow>(`SELECT ${COLUMNS} FROM contract_threshold_configurations WHERE tenant_id = $1 AND customer_id = $2 ORDER BY contract_id, kind`, [
    tenantId,
    customerId,
  ]);
}

/** Turns a configuration off (a failed payment does, as Metronome does); true when it was on. */
export async function disableThreshold(tx: Queryable, tenantId: string, contractId: string, kind: ThresholdKind, at: Date): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE contract_threshold_configurations SET is_enabled = false, updated_at = $4 WHERE tenant_id = $1 AND contract_id = $2 AND kind = $3 AND is_enabled RETURNING 1`,
    [tenantId, contractId, kind, at],
  );
  return rows.length > 0;
}

/** The customers with an enabled configuration: of one tenant, or of every tenant. */
export async function customersWithEnabledThresholds(db: Queryable, tenantId?: string): Promise<{ tenant_id: string; customer_id: string }[]> {
  return db.query<{ tenant_id: string; customer_id: string }>(
    `SELECT DISTINCT tenant_id, customer_id FROM contract_threshold_configurations WHERE is_enabled AND ($1::uuid IS NULL OR tenant_id = $1) ORDER BY tenant_id, customer_id`,
    [tenantId ?? null],
  );
}
