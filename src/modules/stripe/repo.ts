import type { Queryable } from '../../lib/db/database.js';
import type { FinalizedInvoice } from './compute/invoicePlan.js';

// ---- invoice pushes

export type SyncStatus = 'pending' | 'synced' | 'skipped' | 'failed' | 'voided';

export interface SyncRow {
  tenant_id: string;
  invoice_id: string;
  customer_id: string;
  configuration_id: string;
  status: SyncStatus;
  attempts: number;
  next_attempt_at: Date | null;
  stripe_invoice_id: string | null;
  skip_reason: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

const SYNC_COLUMNS =
  'tenant_id, invoice_id, customer_id, configuration_id, status, attempts, next_attempt_at, stripe_invoice_id, skip_reason, last_error, created_at, updated_at';

/**
 * Takes on finalised invoices of customers with a live Stripe configuration that no sync row
 * holds yet, finalised since the configuration was set: one pending row each, due at `now`.
 * A contract that names its configuration (`billing_provider_configuration` on create) is pushed
 * through that one only: once it is archived, the contract's invoices are not pushed.
 * Returns how many it took on.
 */
export async function discoverFinalizedInvoices(tx: Queryable, { now, limit }: { now: Date; limit: number }): Promise<number> {
  const rows = await tx.query<{ invoice_id: string }>(
    `INSERT INTO stripe_invoice_syncs (tenant_id, invoice_id, customer_id, configuration_id, status, attempts, next_attempt_at, created_at, updated_at)
     SELECT i.tenant_id, i.id, i.customer_id, c.id, 'pending', 0, $1, $1, $1
       FROM invoices i
       JOIN contracts k ON k.tenant_id = i.tenant_id AND k.id = i.contract_id
       JOIN customer_billing_provider_configurations c
         ON c.tenant_id = i.tenant_id AND c.customer_id = i.customer_id AND c.billing_provider = 'stripe' AND c.archived_at IS NULL
        AND (k.billing_provider_configuration_id IS NULL OR k.billing_provider_configuration_id = c.id)
      WHERE i.status = 'FINALIZED' AND i.finalized_at >= c.created_at
        AND NOT EXISTS (SELECT 1 FROM stripe_invoice_syncs s WHERE s.tenant_id = i.tenant_id AND s.invoice_id = i.id)
      ORDER BY i.finalized_at
      LIMIT $2
     ON CONFLICT (tenant_id, invoice_id) DO NOTHING
     RETURNING invoice_id`,
    [now, limit],
  );
  return rows.length;
}

/**
 * Leases up to `limit` due pending rows until `leaseUntil`: other workers skip them meanwhile,
 * and take them again if this one dies before recording an outcome.
 */
/** Synced invoices since voided in Allot: pending again, so that the worker voids their Stripe invoices. */
export async function discoverVoidedInvoices(tx: Queryable, { now }: { now: Date }): Promise<number> {
  const rows = await tx.query<{ invoice_id: string }>(
    `UPDATE stripe_invoice_syncs s SET status = 'pending', attempts = 0, next_attempt_at = $1, last_error = NULL, updated_at = $1
       FROM invoices i
      WHERE i.tenant_id = s.tenant_id AND i.id = s.invoice_id AND i.status = 'VOID' AND s.status = 'synced'
      RETURNING s.invoice_id`,
    [now],
  );
  return rows.length;
}

export async function claimDueSyncs(tx: Queryable, { now, leaseUntil, limit }: { now: Date; leaseUntil: Date; limit: number }): Promise<SyncRow[]> {
  return tx.query<SyncRow>(
    `UPDATE stripe_invoice_syncs SET next_attempt_at = $2
      WHERE (tenant_id, invoice_id) IN (
        SELECT tenant_id, invoice_id FROM stripe_invoice_syncs
         WHERE status = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING ${SYNC_COLUMNS}`,
    [now, leaseUntil, limit],
  );
}

/** The earliest due time of a pending row, to wake for a retry. */
export async function nextDueAt(tx: Queryable): Promise<Date | null> {
  const rows = await tx.query<{ at: Date | null }>(`SELECT min(next_attempt_at) AS at FROM stripe_invoice_syncs WHERE status = 'pending'`);
  return rows[0]?.at ?? null;
}

export async function findSync(tx: Queryable, tenantId: string, invoiceId: string): Promise<SyncRow | undefined> {
  const rows = await tx.query<SyncRow>(`SELECT ${SYNC_COLUMNS} FROM stripe_invoice_syncs WHERE tenant_id = $1 AND invoice_id = $2`, [tenantId, invoiceId]);
  return rows[0];
}

/** An invoice as the push reads it, with its contract's `net_payment_terms_days` (null when the contract has none). */
export type PushedInvoice = FinalizedInvoice & { status: string; net_payment_terms_days: number | null };

export async function findFinalizedInvoice(tx: Queryable, tenantId: string, invoiceId: string): Promise<PushedInvoice | undefined> {
  const rows = await tx.query<PushedInvoice>(
    `SELECT i.id, i.customer_id, i.contract_id, i.status, i.credit_type_id, i.total::text AS total, i.start_timestamp, i.end_timestamp, i.lines,
            c.net_payment_terms_days
       FROM invoices i LEFT JOIN contracts c ON c.tenant_id = i.tenant_id AND c.id = i.contract_id
      WHERE i.tenant_id = $1 AND i.id = $2`,
    [tenantId, invoiceId],
  );
  return rows[0];
}

/**
 * Writes what an attempt learnt, fenced by the attempt count it started from: a worker whose lease
 * ran out and whose row another worker already moved on records nothing. Returns whether it wrote.
 */
export async function updateSync(
  tx: Queryable,
  { tenantId, invoiceId, expectedAttempts }: { tenantId: string; invoiceId: string; expectedAttempts: number },
  change: {
    status: SyncStatus;
    attempts: number;
    nextAttemptAt: Date | null;
    stripeInvoiceId?: string | null | undefined;
    skipReason?: string | null | undefined;
    lastError?: string | null | undefined;
    at: Date;
  },
): Promise<boolean> {
  const rows = await tx.query<{ invoice_id: string }>(
    `UPDATE stripe_invoice_syncs
        SET status = $4, attempts = $5, next_attempt_at = $6,
            stripe_invoice_id = COALESCE($7, stripe_invoice_id), skip_reason = COALESCE($8, skip_reason),
            last_error = CASE WHEN $9::boolean THEN $10 ELSE last_error END, updated_at = $11
      WHERE tenant_id = $1 AND invoice_id = $2 AND attempts = $3 AND status = 'pending'
      RETURNING invoice_id`,
    [
      tenantId,
      invoiceId,
      expectedAttempts,
      change.status,
      change.attempts,
      change.nextAttemptAt,
      change.stripeInvoiceId ?? null,
      change.skipReason ?? null,
      change.lastError !== undefined,
      change.lastError ?? null,
      change.at,
    ],
  );
  return rows.length > 0;
}

/** Notes the Stripe invoice an attempt created (still pending), so later attempts reuse it. */
export async function recordStripeInvoiceId(tx: Queryable, { tenantId, invoiceId, stripeInvoiceId, at }: { tenantId: string; invoiceId: string; stripeInvoiceId: string; at: Date }): Promise<void> {
  await tx.query(`UPDATE stripe_invoice_syncs SET stripe_invoice_id = $3, updated_at = $4 WHERE tenant_id = $1 AND invoice_id = $2 AND status = 'pending'`, [
    tenantId,
    invoiceId,
    stripeInvoiceId,
    at,
  ]);
}

/** Makes a leased row due at once again, its attempt not counted (the worker stopped mid-way). */
export async function releaseSync(tx: Queryable, { tenantId, invoiceId, expectedAttempts, at }: { tenantId: string; invoiceId: string; expectedAttempts: number; at: Date }): Promise<void> {
  await tx.query(`UPDATE stripe_invoice_syncs SET next_attempt_at = $4 WHERE tenant_id = $1 AND invoice_id = $2 AND attempts = $3 AND status = 'pending'`, [
    tenantId,
    invoiceId,
    expectedAttempts,
    at,
  ]);
}

// ---- subscription links

export interface LinkRow {
  tenant_id: string;
  id: string;
  customer_id: string;
  contract_id: string;
  subscription_id: string;
  stripe_subscription_id: string;
  stripe_price_id: string;
  last_event_id: string | null;
  last_event_created: Date | null;
  created_at: Date;
}

const LINK_COLUMNS = 'tenant_id, id, customer_id, contract_id, subscription_id, stripe_subscription_id, stripe_price_id, last_event_id, last_event_created, created_at';

export async function insertLink(tx: Queryable, row: LinkRow): Promise<void> {
  await tx.query(`INSERT INTO stripe_subscription_links (${LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
    row.tenant_id,
    row.id,
    row.customer_id,
    row.contract_id,
    row.subscription_id,
    row.stripe_subscription_id,
    row.stripe_price_id,
    row.last_event_id,
    row.last_event_created,
    row.created_at,
  ]);
}

export async function listLinks(
  tx: Queryable,
  tenantId: string,
  { afterId, limit, customerId }: { afterId: string | null; limit: number; customerId: string | null },
): Promise<LinkRow[]> {
  return tx.query<LinkRow>(
    `SELECT ${LINK_COLUMNS} FROM stripe_subscription_links
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) AND ($3::uuid IS NULL OR customer_id = $3::uuid)
      ORDER BY id LIMIT $4`,
    [tenantId, afterId, customerId, limit],
  );
}

/** Every tenant's links to a Stripe subscription, locked: events for one link apply one at a time. */
export async function lockLinksOfStripeSubscription(tx: Queryable, stripeSubscriptionId: string): Promise<LinkRow[]> {
  return tx.query<LinkRow>(`SELECT ${LINK_COLUMNS} FROM stripe_subscription_links WHERE stripe_subscription_id = $1 ORDER BY tenant_id, id FOR UPDATE`, [
    stripeSubscriptionId,
  ]);
}

export async function recordLinkEvent(tx: Queryable, { tenantId, linkId, eventId, created }: { tenantId: string; linkId: string; eventId: string; created: Date }): Promise<void> {
  await tx.query(`UPDATE stripe_subscription_links SET last_event_id = $3, last_event_created = $4 WHERE tenant_id = $1 AND id = $2`, [tenantId, linkId, eventId, created]);
}

// ---- processed Stripe events

/** Records a Stripe event as handled; false when it already was (a redelivery). */
export async function insertProcessedEvent(
  tx: Queryable,
  row: { event_id: string; type: string; created: Date; outcome: string; processed_at: Date },
): Promise<boolean> {
  const rows = await tx.query<{ event_id: string }>(
    `INSERT INTO stripe_processed_events (event_id, type, created, outcome, processed_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
    [row.event_id, row.type, row.created, row.outcome, row.processed_at],
  );
  return rows.length > 0;
}

export async function setProcessedEventOutcome(tx: Queryable, eventId: string, outcome: string): Promise<void> {
  await tx.query(`UPDATE stripe_processed_events SET outcome = $2 WHERE event_id = $1`, [eventId, outcome]);
}

export async function findProcessedEvent(tx: Queryable, eventId: string): Promise<{ event_id: string; outcome: string } | undefined> {
  const rows = await tx.query<{ event_id: string; outcome: string }>(`SELECT event_id, outcome FROM stripe_processed_events WHERE event_id = $1`, [eventId]);
  return rows[0];
}

/** An invoice settled in Stripe outside the push (a payment gate paid it, or voided it after a declined payment). */
export interface SettledSync {
  tenantId: string;
  invoiceId: string;
  customerId: string;
  configurationId: string;
  stripeInvoiceId: string | null;
  status: 'synced' | 'voided';
  at: Date;
}

/** A sync already settled outside the push: the push skips the invoice. */
export async function insertSettledSync(tx: Queryable, { tenantId, invoiceId, customerId, configurationId, stripeInvoiceId, status, at }: SettledSync): Promise<void> {
  await tx.query(
    `INSERT INTO stripe_invoice_syncs (tenant_id, invoice_id, customer_id, configuration_id, status, attempts, next_attempt_at, stripe_invoice_id, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 1, NULL, $6, $7, $7) ON CONFLICT (tenant_id, invoice_id) DO NOTHING`,
    [tenantId, invoiceId, customerId, configurationId, status, stripeInvoiceId, at],
  );
}
