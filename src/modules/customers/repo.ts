import type { Queryable } from '../../lib/db/database.js';

export interface CustomerRow {
  id: string;
  name: string;
  custom_fields: Record<string, string>;
  ingest_aliases: string[];
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
  /** `leave_stripe_invoices_in_draft` (v1.customers.updateConfig); null when unset. */
  leave_stripe_invoices_in_draft: boolean | null;
}

/**
 * Customers with their aliases, for the customers `chosen` selects (a query over `customers`
 * that filters and limits first), so that aliases are gathered only for the rows returned: a
 * page costs the same whatever the tenant's size.
 */
function withAliases(chosen: string): string {
  return `
  SELECT c.id, c.name, c.custom_fields, c.created_at, c.updated_at, c.archived_at, c.leave_stripe_invoices_in_draft,
         COALESCE(aliases.list, '{}'::text[]) AS ingest_aliases
    FROM (${chosen}) c
    LEFT JOIN LATERAL (
      SELECT array_agg(a.alias ORDER BY a.position) AS list
        FROM customer_ingest_aliases a
       WHERE a.tenant_id = c.tenant_id AND a.customer_id = c.id
    ) aliases ON true
   ORDER BY c.id`;
}

export async function insertCustomer(tx: Queryable, tenantId: string, row: Omit<CustomerRow, 'ingest_aliases' | 'leave_stripe_invoices_in_draft'>): Promise<void> {
  await tx.query(
    `INSERT INTO customers (tenant_id, id, name, custom_fields, created_at, updated_at, archived_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [tenantId, row.id, row.name, JSON.stringify(row.custom_fields), row.created_at, row.updated_at, row.archived_at],
  );
}

/** Replaces the customer's aliases with `aliases`, in that order. */
export async function replaceAliases(tx: Queryable, tenantId: string, customerId: string, aliases: string[]): Promise<void> {
  await tx.query('DELETE FROM customer_ingest_aliases WHERE tenant_id = $1 AND customer_id = $2', [tenantId, customerId]);
  if (aliases.length === 0) return;
  // Inserted in alias order, one lock order for every writer, so that two customers claiming the
  // same aliases in different orders cannot deadlock; `position` keeps the order the client sent.
  await tx.query(
    `INSERT INTO customer_ingest_aliases (tenant_id, customer_id, alias, position)
     SELECT $1, $2, alias, position FROM unnest($3::text[]) WITH ORDINALITY AS t (alias, position)
      ORDER BY alias`,
    [tenantId, customerId, aliases],
  );
}

/** Which of `aliases` a customer other than `exceptCustomerId` (archived or not) already holds, and who. */
export async function findAliasOwners(
  tx: Queryable,
  tenantId: string,
  aliases: string[],
  exceptCustomerId: string | null,
): Promise<Array<{ alias: string; customer_id: string }>> {
  return tx.query(
    `SELECT alias, customer_id FROM customer_ingest_aliases
      WHERE tenant_id = $1 AND alias = ANY($2::text[]) AND ($3::uuid IS NULL OR customer_id <> $3::uuid)
      ORDER BY alias`,
    [tenantId, aliases, exceptCustomerId],
  );
}

export async function findCustomer(
  tx: Queryable,
  tenantId: string,
  id: string,
  { forUpdate = false }: { forUpdate?: boolean } = {},
): Promise<CustomerRow | undefined> {
  if (forUpdate) {
    // Locks the customer row so that concurrent alias changes and archiving of it serialise.
    const locked = await tx.query('SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [tenantId, id]);
    if (locked.length === 0) return undefined;
  }
  const rows = await tx.query<CustomerRow>(withAliases('SELECT * FROM customers WHERE tenant_id = $1 AND id = $2'), [tenantId, id]);
  return rows[0];
}

export interface CustomerFilter {
  archived: boolean;
  afterId: string | null;
  ingestAlias: string | null;
  customerIds: string[] | null;
  /** A LIKE pattern matched, case-insensitively, against the name, the id and the ingest aliases. */
  searchPattern?: string | null | undefined;
  limit: number;
}

export async function listCustomers(tx: Queryable, tenantId: string, filter: CustomerFilter): Promise<CustomerRow[]> {
  // An alias is unique within a tenant, so the alias filter is one index lookup, not a scan.
  return tx.query<CustomerRow>(
    withAliases(`
      SELECT * FROM customers
       WHERE tenant_id = $1
         AND (archived_at IS NOT NULL) = $2
         AND ($3::uuid IS NULL OR id > $3::uuid)
         AND ($4::text IS NULL OR id = (
               SELECT customer_id FROM customer_ingest_aliases WHERE tenant_id = $1 AND alias = $4::text))
         AND ($5::uuid[] IS NULL OR id = ANY($5::uuid[]))
         AND ($7::text IS NULL OR name ILIKE $7 OR id::text ILIKE $7 OR EXISTS (
               SELECT 1 FROM customer_ingest_aliases a
                WHERE a.tenant_id = customers.tenant_id AND a.customer_id = customers.id AND a.alias ILIKE $7))
       ORDER BY id
       LIMIT $6`),
    [tenantId, filter.archived, filter.afterId, filter.ingestAlias, filter.customerIds, filter.limit, filter.searchPattern ?? null],
  );
}

export async function setName(tx: Queryable, tenantId: string, id: string, name: string, at: Date): Promise<boolean> {
  const rows = await tx.query('UPDATE customers SET name = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 RETURNING 1', [
    tenantId,
    id,
    name,
    at,
  ]);
  return rows.length > 0;
}

/** Sets `leave_stripe_invoices_in_draft` (null: unset). */
export async function setLeaveStripeInvoicesInDraft(tx: Queryable, tenantId: string, id: string, value: boolean | null, at: Date): Promise<void> {
  await tx.query('UPDATE customers SET leave_stripe_invoices_in_draft = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2', [tenantId, id, value, at]);
}

export async function touch(tx: Queryable, tenantId: string, id: string, at: Date): Promise<void> {
  await tx.query('UPDATE customers SET updated_at = $3 WHERE tenant_id = $1 AND id = $2', [tenantId, id, at]);
}

/** Archives a live customer; false when it was already archived. */
export async function archiveCustomer(tx: Queryable, tenantId: string, id: string, at: Date): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE customers SET archived_at = $3, updated_at = $3
      WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING 1`,
    [tenantId, id, at],
  );
  return rows.length > 0;
}
