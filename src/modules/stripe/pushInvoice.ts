import type Stripe from 'stripe';
import type { Database } from '../../lib/db/database.js';
import * as billingProviders from '../billingProviders/service.js';
import { planStripeInvoice, type StripeInvoicePlan } from './compute/invoicePlan.js';
import * as repo from './repo.js';
import type { StripeConfiguration } from './schemas.js';

/** How one attempt at pushing an invoice ended. */
export type PushOutcome =
  | { kind: 'synced'; stripeInvoiceId: string }
  /** The Allot invoice was voided after it was sent: so is the Stripe invoice (a draft is deleted). */
  | { kind: 'voided'; stripeInvoiceId: string }
  | { kind: 'skipped'; reason: string }
  /** `permanent`: retrying cannot help (the Allot invoice itself cannot be billed as it is). */
  | { kind: 'failed'; error: string; permanent: boolean; stripeInvoiceId: string | null; voiding?: boolean }
  /** The worker is stopping: the attempt is not counted, and the invoice is due again at once. */
  | { kind: 'interrupted' };

/**
 * One attempt at pushing a finalised invoice: a draft Stripe invoice (reused when an earlier
 * attempt created it), one invoice item per fiat line attached to it, a check that Stripe's total
 * is Allot's, then finalisation. Every call carries an idempotency key derived from the invoice
 * id (and line index), so an attempt that repeats calls an earlier one made creates nothing new.
 * With `leaveInDraft` the checked draft is left for the tenant to finalise in Stripe. A
 * `send_invoice` invoice is due `net_payment_terms_days` of its contract after it is created, or
 * else the configuration's `days_until_due`, or else the server's default.
 * No database transaction is open while Stripe is called.
 */
export async function pushInvoice({
  db,
  stripe,
  sync,
  daysUntilDue,
  leaveInDraft,
  stopping,
  at,
}: {
  db: Database;
  stripe: Stripe;
  sync: repo.SyncRow;
  daysUntilDue: number;
  /** The customer's `leave_stripe_invoices_in_draft`: the invoice is built and checked in Stripe, and left in draft there. */
  leaveInDraft: boolean;
  stopping: () => boolean;
  at: () => Date;
}): Promise<PushOutcome> {
  const invoice = await repo.findFinalizedInvoice(db, sync.tenant_id, sync.invoice_id);
  if (invoice?.status === 'VOID' && sync.stripe_invoice_id) return voidInStripe({ stripe, stripeInvoiceId: sync.stripe_invoice_id, invoiceId: sync.invoice_id });
  if (!invoice || invoice.status !== 'FINALIZED') return { kind: 'skipped', reason: 'the invoice was voided before it was sent' };
  const configurationRow = await billingProviders.findConfiguration({ db }, { tenantId: sync.tenant_id, configurationId: sync.configuration_id });
  if (!configurationRow) return { kind: 'failed', error: `billing provider configuration ${sync.configuration_id} is gone`, permanent: true, stripeInvoiceId: null };
  const configuration = configurationRow.configuration as StripeConfiguration;
  const plan: StripeInvoicePlan = planStripeInvoice({
    invoice,
    destination: {
      stripeCustomerId: configuration.stripe_customer_id,
      collectionMethod: configuration.stripe_collection_method,
      // The contract's payment terms (Metronome's net_payment_terms_days) before the configuration's.
      daysUntilDue: invoice.net_payment_terms_days ?? configuration.days_until_due ?? daysUntilDue,
    },
  });
  if (plan.kind === 'skip') return { kind: 'skipped', reason: plan.reason };
  if (plan.kind === 'error') return { kind: 'failed', error: plan.message, permanent: true, stripeInvoiceId: null };

  let stripeInvoiceId = sync.stripe_invoice_id;
  try {
    let stripeInvoice: Stripe.Invoice;
    if (stripeInvoiceId) {
      stripeInvoice = await stripe.invoices.retrieve(stripeInvoiceId);
    } else {
      stripeInvoice = await stripe.invoices.create(plan.invoice.params, { idempotencyKey: plan.invoice.idempotencyKey });
      stripeInvoiceId = stripeInvoice.id!;
      await repo.recordStripeInvoiceId(db, { tenantId: sync.tenant_id, invoiceId: sync.invoice_id, stripeInvoiceId, at: at() });
    }
    // Finalised by an earlier attempt whose outcome was never recorded.
    if (stripeInvoice.status !== 'draft') return { kind: 'synced', stripeInvoiceId };

    for (const item of plan.items) {
      if (stopping()) return { kind: 'interrupted' };
      await stripe.invoiceItems.create({ ...item.params, invoice: stripeInvoiceId }, { idempotencyKey: item.idempotencyKey });
    }
    if (stopping()) return { kind: 'interrupted' };
    const drafted = await stripe.invoices.retrieve(stripeInvoiceId);
    if (drafted.total !== plan.totalCents) {
      return {
        kind: 'failed',
        error: `Stripe invoice ${stripeInvoiceId} totals ${drafted.total} cents but the Allot invoice totals ${plan.totalCents}; it was left in draft`,
        permanent: false,
        stripeInvoiceId,
      };
    }
    if (leaveInDraft) return { kind: 'synced', stripeInvoiceId };
    await stripe.invoices.finalizeInvoice(stripeInvoiceId, { auto_advance: true }, { idempotencyKey: plan.finalizeIdempotencyKey });
    return { kind: 'synced', stripeInvoiceId };
  } catch (error) {
    return { kind: 'failed', error: describeStripeError(error), permanent: false, stripeInvoiceId };
  }
}

/**
 * Voids the Stripe invoice of an Allot invoice voided after it was sent: an open or
 * uncollectible one is voided, a draft (an attempt that never finalised) is deleted, and a paid
 * one is left to be refunded in Stripe (a permanent failure, reported like any other).
 */
async function voidInStripe({ stripe, stripeInvoiceId, invoiceId }: { stripe: Stripe; stripeInvoiceId: string; invoiceId: string }): Promise<PushOutcome> {
  try {
    const current = await stripe.invoices.retrieve(stripeInvoiceId);
    if (current.status === 'void') return { kind: 'voided', stripeInvoiceId };
    if (current.status === 'draft') {
      await stripe.invoices.del(stripeInvoiceId);
      return { kind: 'voided', stripeInvoiceId };
    }
    if (current.status === 'paid') {
      return { kind: 'failed', error: `Stripe invoice ${stripeInvoiceId} is paid: refund it in Stripe`, permanent: true, stripeInvoiceId, voiding: true };
    }
    await stripe.invoices.voidInvoice(stripeInvoiceId, {}, { idempotencyKey: `allot-invoice-${invoiceId}-void` });
    return { kind: 'voided', stripeInvoiceId };
  } catch (error) {
    return { kind: 'failed', error: describeStripeError(error), permanent: false, stripeInvoiceId, voiding: true };
  }
}

function describeStripeError(error: unknown): string {
  if (error && typeof error === 'object') {
    const { message, statusCode, code } = error as { message?: unknown; statusCode?: unknown; code?: unknown };
    const text = typeof message === 'string' && message !== '' ? message : String(error);
    const details = [typeof statusCode === 'number' ? `status ${statusCode}` : null, typeof code === 'string' ? `code ${code}` : null].filter(Boolean);
    return details.length > 0 ? `${text} (${details.join(', ')})` : text;
  }
  return String(error);
}
