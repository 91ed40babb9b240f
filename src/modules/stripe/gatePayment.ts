import type { ServiceContext } from '../../lib/context.js';
import * as billingProviders from '../billingProviders/service.js';
import { stripeClient } from './client.js';
import * as repo from './repo.js';
import type { StripeConfiguration } from './schemas.js';
import type { StripeSettings } from './settings.js';

/** How a payment gate's charge through Stripe ended. `retry`: Stripe could not be reached or failed; nothing is decided yet. */
export type GatePaymentOutcome =
  | { kind: 'paid'; stripeInvoiceId: string }
  | { kind: 'failed'; stripeInvoiceId: string | null; reason: string; code: string | null }
  | { kind: 'retry'; error: string };

/**
 * The Stripe customer a contract's payment gate charges: the contract's billing provider
 * configuration when it names one, else the customer's live Stripe configuration; undefined when
 * there is none.
 */
export async function gateStripeCustomer(
  ctx: ServiceContext,
  { tenantId, customerId, configurationId }: { tenantId: string; customerId: string; configurationId: string | null },
): Promise<{ configurationId: string; stripeCustomerId: string } | undefined> {
  const live = (await billingProviders.listConfigurations(ctx, { tenantId, customerId, includeArchived: false })).filter((row) => row.billing_provider === 'stripe');
  const row = configurationId ? live.find((each) => each.id === configurationId) : live[0];
  return row ? { configurationId: row.id, stripeCustomerId: (row.configuration as StripeConfiguration).stripe_customer_id } : undefined;
}

/**
 * Records that an Allot invoice was settled in Stripe by a payment gate (its Stripe invoice paid,
 * or voided after a declined payment), in the caller's transaction, so that the invoice push never
 * sends it a second time.
 */
export async function recordGateSync(ctx: ServiceContext, sync: repo.SettledSync): Promise<void> {
  await repo.insertSettledSync(ctx.db, sync);
}

/**
 * Charges a payment gate (a threshold commit's price) through Stripe: an invoice of one item for
 * `amountCents`, finalised, then paid with the customer's default payment method. Every call
 * carries an idempotency key derived from `key`, so an attempt repeated after a crash creates
 * nothing new and finds the invoice where the last one left it. A declined payment (Stripe's
 * `card_error`, a 402) voids the invoice and is `failed`, with Stripe's message and code; any other
 * error leaves the invoice as it is, to be tried again (`retry`).
 */
export async function chargeGate(
  settings: Pick<StripeSettings, 'secretKey' | 'apiBase' | 'timeoutMs'>,
  {
    key,
    stripeCustomerId,
    amountCents,
    currency,
    description,
    metadata,
  }: { key: string; stripeCustomerId: string; amountCents: number; currency: string; description: string; metadata: Record<string, string> },
): Promise<GatePaymentOutcome> {
  if (!settings.secretKey) return { kind: 'failed', stripeInvoiceId: null, reason: 'Stripe is not configured on this server (ALLOT_STRIPE_SECRET_KEY is unset)', code: null };
  let stripeInvoiceId: string | null = null;
  try {
    const stripe = await stripeClient(settings);
    const created = await stripe.invoices.create(
      { customer: stripeCustomerId, collection_method: 'charge_automatically', auto_advance: false, pending_invoice_items_behavior: 'exclude', currency, description, metadata },
      { idempotencyKey: `${key}-invoice` },
    );
    stripeInvoiceId = created.id!;
    let invoice = await stripe.invoices.retrieve(stripeInvoiceId);
    if (invoice.status === 'draft') {
      await stripe.invoiceItems.create({ customer: stripeCustomerId, invoice: stripeInvoiceId, amount: amountCents, currency, description, metadata }, { idempotencyKey: `${key}-item` });
      invoice = await stripe.invoices.finalizeInvoice(stripeInvoiceId, { auto_advance: false }, { idempotencyKey: `${key}-finalize` });
    }
    if (invoice.status === 'paid') return { kind: 'paid', stripeInvoiceId };
    if (invoice.status === 'void') return { kind: 'failed', stripeInvoiceId, reason: `Stripe invoice ${stripeInvoiceId} was voided`, code: null };
    try {
      await stripe.invoices.pay(stripeInvoiceId, {}, { idempotencyKey: `${key}-pay` });
      return { kind: 'paid', stripeInvoiceId };
    } catch (error) {
      const { type, code, message } = error as { type?: string; code?: string; message?: string };
      if (type !== 'StripeCardError') throw error;
      // The charge was declined: the invoice is voided (as Metronome voids it), and no commit is released.
      await stripe.invoices.voidInvoice(stripeInvoiceId, {}, { idempotencyKey: `${key}-void` }).catch(() => undefined);
      return { kind: 'failed', stripeInvoiceId, reason: message ?? 'the payment was declined', code: code ?? null };
    }
  } catch (error) {
    return { kind: 'retry', error: (error as Error).message ?? String(error) };
  }
}
