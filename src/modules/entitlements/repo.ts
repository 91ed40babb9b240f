import type { Queryable } from '../../lib/db/database.js';

/** A group of a customer's usage: the value of one group property (`user_id` = `ada`). */
export interface GroupValue {
  key: string;
  value: string;
}

export interface HoldRow {
  id: string;
  customer_id: string;
  credit_type_id: string;
  transaction_id: string;
  amount: string;
  group_values: GroupValue[];
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
 * The customer's open holds in a pricing unit at `now` (amount and groups): not expired, and whose
 * event has not been ingested (once it has, its cost is in the balance and the hold no longer counts).
 */
export async function openHolds(
  db: Queryable,
  tenantId: string,
  customerId: string,
  creditTypeId: string,
  now: Date,
  notice?: { channel: string; payload: string },
): Promise<Array<{ amount: string; group_values: GroupValue[] }>> {
  const holds = `SELECT h.amount::text AS amount, h.group_values, false AS notice
       FROM entitlement_holds h
      WHERE h.tenant_id = $1 AND h.customer_id = $2 AND h.credit_type_id = $3 AND h.expires_at > $4
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = h.tenant_id AND e.transaction_id = h.transaction_id)`;
  if (!notice) return db.query<{ amount: string; group_values: GroupValue[] }>(holds, [tenantId, customerId, creditTypeId, now]);
  // The change feed's barrier in the same statement: sent when it commits, after the holds' snapshot (`accountAfter`).
  const rows = await db.query<{ amount: string; group_values: GroupValue[]; notice: boolean }>(
    `SELECT NULL::text AS amount, NULL::jsonb AS group_values, true AS notice FROM pg_notify($5, $6)
     UNION ALL ${holds}`,
    [tenantId, customerId, creditTypeId, now, notice.channel, notice.payload],
  );
  return rows.filter((row) => !row.notice).map(({ amount, group_values }) => ({ amount, group_values }));
}

/** The hold taken for an event, open or not. */
export async function holdFor(db: Queryable, tenantId: string, transactionId: string): Promise<(HoldRow & { consumed: boolean }) | undefined> {
  const [row] = await db.query<HoldRow & { consumed: boolean }>(
    `SELECT h.id, h.customer_id, h.credit_type_id, h.transaction_id, h.amount::text AS amount, h.group_values, h.created_at, h.expires_at,
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
    `INSERT INTO entitlement_holds (tenant_id, id, customer_id, credit_type_id, transaction_id, amount, group_values, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [tenantId, hold.id, hold.customer_id, hold.credit_type_id, hold.transaction_id, hold.amount, JSON.stringify(hold.group_values), hold.created_at, hold.expires_at],
  );
}

/** Forgets the customer's holds that ended before `before` (expired or consumed alike: neither counts any more). */
export async function deleteEndedHolds(tx: Queryable, tenantId: string, customerId: string, before: Date): Promise<void> {
  await tx.query(`DELETE FROM entitlement_holds WHERE tenant_id = $1 AND customer_id = $2 AND expires_at <= $3`, [tenantId, customerId, before]);
}

export interface CapRow {
  customer_id: string;
  credit_type_id: string;
  group_key: string;
  group_value: string;
  amount: string;
  updated_at: Date;
}

const CAP_COLUMNS = 'customer_id, credit_type_id, group_key, group_value, amount::text AS amount, updated_at';

/** The customer's caps in a unit on any of `groups`. */
export async function capsOn(db: Queryable, tenantId: string, customerId: string, creditTypeId: string, groups: readonly GroupValue[]): Promise<CapRow[]> {
  if (groups.length === 0) return [];
  return db.query<CapRow>(
    `SELECT ${CAP_COLUMNS} FROM entitlement_caps
      WHERE tenant_id = $1 AND customer_id = $2 AND credit_type_id = $3
        AND (group_key, group_value) IN (SELECT * FROM unnest($4::text[], $5::text[]))`,
    [tenantId, customerId, creditTypeId, groups.map((group) => group.key), groups.map((group) => group.value)],
  );
}

/** Sets a cap (a new one, or a new amount for the same customer, unit and group). */
export async function upsertCap(db: Queryable, tenantId: string, cap: CapRow): Promise<CapRow> {
  const [row] = await db.query<CapRow>(
    `INSERT INTO entitlement_caps (tenant_id, customer_id, credit_type_id, group_key, group_value, amount, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, customer_id, credit_type_id, group_key, group_value) DO UPDATE SET amount = EXCLUDED.amount, updated_at = EXCLUDED.updated_at
     RETURNING ${CAP_COLUMNS}`,
    [tenantId, cap.customer_id, cap.credit_type_id, cap.group_key, cap.group_value, cap.amount, cap.updated_at],
  );
  return row!;
}

/** The customer's caps, by unit, group key and value. */
export async function listCaps(db: Queryable, tenantId: string, customerId: string): Promise<CapRow[]> {
  return db.query<CapRow>(
    `SELECT ${CAP_COLUMNS} FROM entitlement_caps WHERE tenant_id = $1 AND customer_id = $2
      ORDER BY credit_type_id, group_key COLLATE "C", group_value COLLATE "C"`,
    [tenantId, customerId],
  );
}

/** Removes a cap; whether there was one. */
export async function deleteCap(db: Queryable, tenantId: string, cap: Pick<CapRow, 'customer_id' | 'credit_type_id' | 'group_key' | 'group_value'>): Promise<boolean> {
  const rows = await db.query(
    `DELETE FROM entitlement_caps WHERE tenant_id = $1 AND customer_id = $2 AND credit_type_id = $3 AND group_key = $4 AND group_value = $5 RETURNING 1`,
    [tenantId, cap.customer_id, cap.credit_type_id, cap.group_key, cap.group_value],
  );
  return rows.length > 0;
}
