import type { Queryable } from '../../lib/db/database.js';

/** A line as stored in `invoices.lines`: amounts as decimal text. */
export interface StoredLine {
  type: string;
  name: string;
  credit_type_id: string;
  total: string;
  quantity: string | null;
  unit_price: string | null;
  product_id: string | null;
  pricing_group_values: Record<string, string> | null;
  applied: { grant_id: string; segment_id: string; kind: 'CREDIT' | 'COMMIT' } | null;
  subscription_id: string | null;
  starting_at: string;
  ending_before: string;
}

export interface InvoiceRow {
  id: string;
  customer_id: string;
  contract_id: string;
  type: 'USAGE' | 'SCHEDULED';
  status: 'FINALIZED' | 'VOID';
  start_timestamp: Date;
  end_timestamp: Date;
  issued_at: Date;
  credit_type_id: string;
  total: string;
  lines: StoredLine[];
  finalized_at: Date;
  voided_at: Date | null;
}

const COLUMNS = 'id, customer_id, contract_id, type, status, start_timestamp, end_timestamp, issued_at, credit_type_id, total, lines, finalized_at, voided_at';

/** Inserts a finalised invoice unless one with its id exists; true when this call inserted it. */
export async function insertInvoice(tx: Queryable, tenantId: string, row: InvoiceRow): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO invoices (tenant_id, ${COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT DO NOTHING RETURNING id`,
    [
      tenantId,
      row.id,
      row.customer_id,
      row.contract_id,
      row.type,
      row.status,
      row.start_timestamp,
      row.end_timestamp,
      row.issued_at,
      row.credit_type_id,
      row.total,
      JSON.stringify(row.lines),
      row.finalized_at,
      row.voided_at,
    ],
  );
  return inserted.length === 1;
}

export async function listCustomerInvoices(db: Queryable, tenantId: string, customerId: string): Promise<InvoiceRow[]> {
  return db.query<InvoiceRow>(`SELECT ${COLUMNS} FROM invoices WHERE tenant_id = $1 AND customer_id = $2 ORDER BY id`, [tenantId, customerId]);
}

export async function findInvoice(db: Queryable, tenantId: string, invoiceId: string): Promise<InvoiceRow | undefined> {
  return (await db.query<InvoiceRow>(`SELECT ${COLUMNS} FROM invoices WHERE tenant_id = $1 AND id = $2`, [tenantId, invoiceId]))[0];
}

/** Invoices of the tenant whose period starts in `[from, to)`, for reports. */
export async function invoicesStartingBetween(db: Queryable, tenantId: string, { from, to }: { from: Date; to: Date }): Promise<InvoiceRow[]> {
  return db.query<InvoiceRow>(`SELECT ${COLUMNS} FROM invoices WHERE tenant_id = $1 AND start_timestamp >= $2 AND start_timestamp < $3 ORDER BY customer_id, id`, [tenantId, from, to]);
}

/** Marks a finalised invoice void; true when it was finalised. */
export async function voidInvoice(tx: Queryable, tenantId: string, invoiceId: string, at: Date): Promise<boolean> {
  const rows = await tx.query(`UPDATE invoices SET status = 'VOID', voided_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'FINALIZED' RETURNING id`, [tenantId, invoiceId, at]);
  return rows.length === 1;
}

/** The end of a contract's latest finalised invoice (USAGE or SCHEDULED), or null when it has none. */
export async function finalizedUntil(db: Queryable, tenantId: string, contractId: string): Promise<Date | null> {
  const [row] = await db.query<{ until: Date | null }>(
    `SELECT max(end_timestamp) AS until FROM invoices WHERE tenant_id = $1 AND contract_id = $2 AND status = 'FINALIZED'`,
    [tenantId, contractId],
  );
  return row?.until ?? null;
}

/** Marks every finalised invoice of a contract void; the ids voided. */
export async function voidContractInvoices(tx: Queryable, tenantId: string, contractId: string, at: Date): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `UPDATE invoices SET status = 'VOID', voided_at = $3 WHERE tenant_id = $1 AND contract_id = $2 AND status = 'FINALIZED' RETURNING id`,
    [tenantId, contractId, at],
  );
  return rows.map((row) => row.id);
}

/** When each contract's latest USAGE invoice ends: where period close resumes. */
export async function closedUntil(db: Queryable, tenantId: string, contractIds: readonly string[]): Promise<Map<string, Date>> {
  const rows = await db.query<{ contract_id: string; until: Date }>(
    `SELECT contract_id, max(end_timestamp) AS until FROM invoices
      WHERE tenant_id = $1 AND contract_id = ANY($2::uuid[]) AND type = 'USAGE' GROUP BY contract_id`,
    [tenantId, contractIds],
  );
  return new Map(rows.map((row) => [row.contract_id, row.until]));
}

/** The SCHEDULED invoices (seat increases billed immediately) of `contractIds`, voided ones included: what they billed stays billed. */
export async function scheduledInvoices(db: Queryable, tenantId: string, contractIds: readonly string[]): Promise<InvoiceRow[]> {
  return db.query<InvoiceRow>(`SELECT ${COLUMNS} FROM invoices WHERE tenant_id = $1 AND contract_id = ANY($2::uuid[]) AND type = 'SCHEDULED' ORDER BY id`, [tenantId, contractIds]);
}

/** Ids among `ids` that exist as invoices. */
export async function existingInvoiceIds(db: Queryable, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.query<{ id: string }>(`SELECT id FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids]);
  return new Set(rows.map((row) => row.id));
}

/**
 * Serialises period close for one customer across processes (released when the transaction
 * ends), and lets the transaction commit without waiting for the WAL to reach disk, unless
 * `durable`: a transaction that writes more than derived invoices (a contract edit) keeps its flush.
 */
export async function lockCustomerClose(tx: Queryable, tenantId: string, customerId: string, { durable = false }: { durable?: boolean } = {}): Promise<void> {
  await tx.query(
    `SELECT ${durable ? '' : `set_config('synchronous_commit', 'off', true), `}
            pg_advisory_xact_lock(hashtextextended('allot.invoices.close:' || $1::uuid::text || ':' || $2::uuid::text, 0))`,
    [tenantId, customerId],
  );
}

export interface ClosableContractRow {
  tenant_id: string;
  id: string;
  customer_id: string;
  starting_at: Date;
  ending_before: Date | null;
  statement_frequency: 'MONTHLY' | 'QUARTERLY' | 'ANNUAL' | 'WEEKLY';
  statement_anchor: Date;
  closed_until: Date | null;
  bills_immediately: boolean;
}

/** How far back a run looks for seat changes billed immediately; older ones were billed then, or are by their period's close. */
const RECENT_CHANGE_MS = 35 * 86_400_000;

/**
 * Every live contract with a rate card, in every tenant: where its period close stands (the end
 * of its latest USAGE invoice) and whether a subscription of it that bills seat increases
 * immediately has a change in force by `now` that starts, or was made, in the last 35 days (a
 * quantity change, or a seat change of a SEAT_BASED subscription).
 */
export async function closableContracts(db: Queryable, now: Date): Promise<ClosableContractRow[]> {
  return db.query<ClosableContractRow>(
    `SELECT c.tenant_id, c.id, c.customer_id, c.starting_at, c.ending_before, c.statement_frequency, c.statement_anchor,
            (SELECT max(i.end_timestamp) FROM invoices i
              WHERE i.tenant_id = c.tenant_id AND i.contract_id = c.id AND i.type = 'USAGE') AS closed_until,
            EXISTS (SELECT 1 FROM subscriptions s JOIN subscription_quantity_changes q
                              ON q.tenant_id = s.tenant_id AND q.subscription_id = s.id
                     WHERE s.tenant_id = c.tenant_id AND s.contract_id = c.id
                       AND s.invoice_behavior = 'BILL_IMMEDIATELY' AND s.collection_schedule = 'ADVANCE'
                       AND q.sequence > 0 AND q.starting_at <= $1 AND (q.starting_at > $2 OR q.created_at > $2))
            OR EXISTS (SELECT 1 FROM subscriptions s JOIN subscription_seat_changes q
                              ON q.tenant_id = s.tenant_id AND q.subscription_id = s.id
                     WHERE s.tenant_id = c.tenant_id AND s.contract_id = c.id
                       AND s.invoice_behavior = 'BILL_IMMEDIATELY' AND s.collection_schedule = 'ADVANCE'
                       AND q.sequence > 1 AND q.starting_at <= $1 AND (q.starting_at > $2 OR q.created_at > $2)) AS bills_immediately
       FROM contracts c
      WHERE c.archived_at IS NULL AND c.rate_card_id IS NOT NULL`,
    [now, new Date(now.getTime() - RECENT_CHANGE_MS)],
  );
}
