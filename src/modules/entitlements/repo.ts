import type { Queryable } from '../../lib/db/database.js';

export interface HoldRow {
  id: string;
  customer_id: string;
  credit_type_id: string;
  transaction_id: string;
  amount: string;
  created_at: Date;
  expires_at: Date;
}

/**
 * The lock that orders reserves of one customer: a reserve holds it from before it sums the open
 * holds until it commits its own, so two reserves never both spend the same remainder, on one
 * process or on several sharing the database.
 */
export async function lockCustomerHolds(tx: Queryable, tenantId: string, customerId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('allot.entitlements:' || $1::uuid::text || ':' || $2::uuid::text, 0))`, [tenantId, customerId]);
}

/**
 * The sum of the customer's open holds in a pricing unit at `now`: not expired, and whose event
 * has not been ingested (once it has, its cost is in the balance and the hold no longer counts).
 */
export async function openHoldsTotal(db: Queryable, tenantId: string, customerId: string, creditTypeId: string, now: Date): Promise<string> {
  const [row] = await db.query<{ total: string }>(
    `SELECT COALESCE(sum(h.amount), 0)::text AS total
       FROM entitlement_holds h
      WHERE h.tenant_id = $1 AND h.customer_id = $2 AND h.credit_type_id = $3 AND h.expires_at > $4
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = h.tenant_id AND e.transaction_id = h.transaction_id)`,
    [tenantId, customerId, creditTypeId, now],
  );
  return row!.total;
}

/** The hold taken for an event, open or not. */
export async function holdFor(db: Queryable, tenantId: string, transactionId: string): Promise<(HoldRow & { consumed: boolean }) | undefined> {
  const [row] = await db.query<HoldRow & { consumed: boolean }>(
    `SELECT h.id, h.customer_id, h.credit_type_id, h.transaction_id, h.amount::text AS amount, h.created_at, h.expires_at,
            EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = h.tenant_id AND e.transaction_id = h.transaction_id) AS consumed
       FROM entitlement_holds h WHERE h.tenant_id = $1 AND h.transaction_id = $2`,
    [tenantId, transactionId],
  );
  return row;
}

/** Whether the tenant has ingested an event with this transaction id. */
export async function eventIngested(db: Queryable, tenantId: string, transactionId: string): Promise<boolean> {
  const rows = await db.query(`SELECT 1 FROM events WHERE tenant_id = $1 AND transaction_id = $2`, [tenantId, transactionId]);
  return rows.length > 0;
}

export async function insertHold(tx: Queryable, tenantId: string, hold: HoldRow): Promise<void> {
  await tx.query(
    `INSERT INTO entitlement_holds (tenant_id, id, customer_id, credit_type_id, transaction_id, amount, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [tenantId, hold.id, hold.customer_id, hold.credit_type_id, hold.transaction_id, hold.amount, hold.created_at, hold.expires_at],
  );
}

/** Forgets the customer's holds that ended before `before` (expired or consumed alike: neither counts any more). */
export async function deleteEndedHolds(tx: Queryable, tenantId: string, customerId: string, before: Date): Promise<void> {
  await tx.query(`DELETE FROM entitlement_holds WHERE tenant_id = $1 AND customer_id = $2 AND expires_at <= $3`, [tenantId, customerId, before]);
}
