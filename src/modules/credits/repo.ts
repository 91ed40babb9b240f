import type { Queryable } from '../../lib/db/database.js';

export interface GrantRow {
  id: string;
  customer_id: string;
  contract_id: string | null;
  kind: 'CREDIT' | 'COMMIT';
  product_id: string;
  credit_type_id: string;
  priority: string;
  applicable_product_ids: string[] | null;
  applicable_product_tags: string[] | null;
  applicable_contract_ids: string[] | null;
  rate_type: string;
  name: string | null;
  description: string | null;
  custom_fields: Record<string, string>;
  created_at: Date;
  archived_at: Date | null;
}

export interface GrantSegmentRow {
  id: string;
  grant_id: string;
  position: number;
  starting_at: Date;
  ending_before: Date;
  amount: string;
}

export interface LedgerEntryRow {
  id: string;
  customer_id: string;
  grant_id: string;
  segment_id: string;
  kind: 'MANUAL' | 'AUTOMATED_INVOICE_DEDUCTION';
  amount: string;
  timestamp: Date;
  reason: string | null;
  invoice_id: string | null;
  created_at: Date;
}

export async function insertGrant(tx: Queryable, tenantId: string, grant: GrantRow, segments: Omit<GrantSegmentRow, 'grant_id'>[]): Promise<void> {
  await tx.query(
    `INSERT INTO grants (tenant_id, id, customer_id, contract_id, kind, product_id, credit_type_id, priority,
                         applicable_product_ids, applicable_product_tags, applicable_contract_ids, rate_type,
                         name, description, custom_fields, created_at, archived_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    [
      tenantId,
      grant.id,
      grant.customer_id,
      grant.contract_id,
      grant.kind,
      grant.product_id,
      grant.credit_type_id,
      grant.priority,
      grant.applicable_product_ids,
      grant.applicable_product_tags,
      grant.applicable_contract_ids,
      grant.rate_type,
      grant.name,
      grant.description,
      JSON.stringify(grant.custom_fields),
      grant.created_at,
      grant.archived_at,
    ],
  );
  await tx.query(
    `INSERT INTO grant_segments (tenant_id, id, grant_id, position, starting_at, ending_before, amount)
     SELECT $1, s.id, $2, s.position, s.starting_at, s.ending_before, s.amount
       FROM unnest($3::uuid[], $4::int[], $5::timestamptz[], $6::timestamptz[], $7::numeric[])
            AS s (id, position, starting_at, ending_before, amount)`,
    [
      tenantId,
      grant.id,
      segments.map((s) => s.id),
      segments.map((s) => s.position),
      segments.map((s) => s.starting_at),
      segments.map((s) => s.ending_before),
      segments.map((s) => s.amount),
    ],
  );
}

/** The customer's one-off grants (customer-level and on any contract), with their segments in order. */
export async function listGrants(db: Queryable, tenantId: string, customerId: string): Promise<Array<GrantRow & { segments: GrantSegmentRow[] }>> {
  const grants = await db.query<GrantRow>(
    `SELECT id, customer_id, contract_id, kind, product_id, credit_type_id, priority, applicable_product_ids,
            applicable_product_tags, applicable_contract_ids, rate_type, name, description, custom_fields, created_at, archived_at
       FROM grants WHERE tenant_id = $1 AND customer_id = $2 ORDER BY id`,
    [tenantId, customerId],
  );
  if (grants.length === 0) return [];
  const segments = await db.query<GrantSegmentRow>(
    `SELECT id, grant_id, position, starting_at, ending_before, amount
       FROM grant_segments WHERE tenant_id = $1 AND grant_id = ANY($2::uuid[]) ORDER BY grant_id, position`,
    [tenantId, grants.map((g) => g.id)],
  );
  return grants.map((grant) => ({ ...grant, segments: segments.filter((s) => s.grant_id === grant.id) }));
}

export async function listEntries(db: Queryable, tenantId: string, customerId: string): Promise<LedgerEntryRow[]> {
  return db.query<LedgerEntryRow>(
    `SELECT id, customer_id, grant_id, segment_id, kind, amount, "timestamp", reason, invoice_id, created_at
       FROM ledger_entries WHERE tenant_id = $1 AND customer_id = $2 ORDER BY "timestamp", id`,
    [tenantId, customerId],
  );
}

export async function insertEntry(tx: Queryable, tenantId: string, entry: LedgerEntryRow): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_entries (tenant_id, id, customer_id, grant_id, segment_id, kind, amount, "timestamp", reason, invoice_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [tenantId, entry.id, entry.customer_id, entry.grant_id, entry.segment_id, entry.kind, entry.amount, entry.timestamp, entry.reason, entry.invoice_id, entry.created_at],
  );
}

/** Per invoice among `invoiceIds`, the sum of the invoice deductions recorded for it. */
export async function invoiceDeductionTotals(db: Queryable, tenantId: string, invoiceIds: readonly string[]): Promise<Map<string, string>> {
  if (invoiceIds.length === 0) return new Map();
  const rows = await db.query<{ invoice_id: string; total: string }>(
    `SELECT invoice_id, sum(amount)::text AS total FROM ledger_entries
      WHERE tenant_id = $1 AND invoice_id = ANY($2::uuid[]) AND kind = 'AUTOMATED_INVOICE_DEDUCTION' GROUP BY invoice_id`,
    [tenantId, invoiceIds],
  );
  return new Map(rows.map((row) => [row.invoice_id, row.total]));
}
