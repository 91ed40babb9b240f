import type { Queryable } from '../../lib/db/database.js';

export interface ChargeRow {
  id: string;
  customer_id: string;
  contract_id: string;
  kind: 'PREPAID_BALANCE' | 'SPEND';
  credit_type_id: string;
  amount: string;
  charge_cents: string;
  measured: string;
  commit_starting_at: Date;
  commit_ending_before: Date;
  payment_gate_type: 'NONE' | 'STRIPE';
  status: 'PENDING' | 'RELEASED' | 'FAILED';
  grant_id: string | null;
  stripe_invoice_id: string | null;
  failure: string | null;
  created_at: Date;
  settled_at: Date | null;
}

const COLUMNS =
  'id, customer_id, contract_id, kind, credit_type_id, amount::text AS amount, charge_cents::text AS charge_cents, measured::text AS measured, commit_starting_at, commit_ending_before, payment_gate_type, status, grant_id, stripe_invoice_id, failure, created_at, settled_at';

/**
 * The lock that orders threshold evaluations of one customer, on any process: an evaluation holds
 * it from before it reads the balance until it has committed the commit (or the pending charge)
 * the crossing makes, so concurrent evaluations of one crossing make one charge.
 */
export async function lockCustomer(tx: Queryable, tenantId: string, customerId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('allot.thresholds:' || $1::uuid::text || ':' || $2::uuid::text, 0))`, [tenantId, customerId]);
}

export async function insertCharge(tx: Queryable, tenantId: string, row: ChargeRow): Promise<void> {
  await tx.query(
    `INSERT INTO threshold_charges (tenant_id, id, customer_id, contract_id, kind, credit_type_id, amount, charge_cents, measured, commit_starting_at, commit_ending_before,
                                    payment_gate_type, status, grant_id, stripe_invoice_id, failure, created_at, settled_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
    [
      tenantId,
      row.id,
      row.customer_id,
      row.contract_id,
      row.kind,
      row.credit_type_id,
      row.amount,
      row.charge_cents,
      row.measured,
      row.commit_starting_at,
      row.commit_ending_before,
      row.payment_gate_type,
      row.status,
      row.grant_id,
      row.stripe_invoice_id,
      row.failure,
      row.created_at,
      row.settled_at,
    ],
  );
}

export async function pendingCharges(db: Queryable, tenantId: string, customerId: string): Promise<ChargeRow[]> {
  return db.query<ChargeRow>(`SELECT ${COLUMNS} FROM threshold_charges WHERE tenant_id = $1 AND customer_id = $2 AND status = 'PENDING' ORDER BY id`, [tenantId, customerId]);
}

export async function findCharge(db: Queryable, tenantId: string, id: string): Promise<ChargeRow | undefined> {
  const [row] = await db.query<ChargeRow>(`SELECT ${COLUMNS} FROM threshold_charges WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return row;
}

/** Settles a pending charge: released with its commit, or failed with why. */
export async function settleCharge(
  tx: Queryable,
  tenantId: string,
  { id, status, grantId, stripeInvoiceId, failure, at }: { id: string; status: 'RELEASED' | 'FAILED'; grantId: string | null; stripeInvoiceId: string | null; failure: string | null; at: Date },
): Promise<void> {
  await tx.query(
    `UPDATE threshold_charges SET status = $3, grant_id = $4, stripe_invoice_id = $5, failure = $6, settled_at = $7 WHERE tenant_id = $1 AND id = $2 AND status = 'PENDING'`,
    [tenantId, id, status, grantId, stripeInvoiceId, failure, at],
  );
}
