import { inTransaction, signalAfterCommit, type ServiceContext } from '../../lib/context.js';
import { isUniqueViolation } from '../../lib/db/database.js';
import { Conflict, Invalid, NotFound } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { fetchPage } from '../../lib/pagination.js';
import * as billingProviders from '../billingProviders/service.js';
import * as contracts from '../contracts/service.js';
import * as customers from '../customers/service.js';
import * as repo from './repo.js';
import type { SetBillingConfigurationsBody } from './schemas.js';

export { handleSubscriptionEvent, type SubscriptionEventResult } from './seatEvents.js';
export { chargeGate, gateStripeCustomer, recordGateSync, type GatePaymentOutcome } from './gatePayment.js';
export type { StripeSettings } from './settings.js';

export type BillingConfiguration = billingProviders.BillingConfiguration;
export type SubscriptionLink = repo.LinkRow;
export type InvoiceSync = repo.SyncRow;

/**
 * Tells the Stripe push worker, once `ctx`'s changes are committed, that the tenant has newly
 * finalised invoices, so it pushes them now instead of at its next poll. Call it after period
 * close (or anything else) writes FINALIZED invoices; forgetting it only delays the push.
 *
 * ```ts
 * await ctx.db.transaction((tx) => writeFinalizedInvoices(tx, …));
 * stripe.signalInvoicesFinalized(ctx, tenantId);
 * ```
 */
export function signalInvoicesFinalized(ctx: ServiceContext, tenantId: string): void {
  signalAfterCommit(ctx, 'invoicesFinalized', { tenantId });
}

async function requireCustomer(ctx: ServiceContext, tenantId: string, customerId: string, field: string): Promise<void> {
  let customer: customers.Customer;
  try {
    customer = await customers.getCustomer(ctx, { tenantId, customerId });
  } catch (error) {
    if (error instanceof NotFound) throw new Invalid(field, `no customer with id ${customerId}`);
    throw error;
  }
  if (customer.archived_at) throw new Invalid(field, `customer ${customerId} is archived`);
}

/**
 * Creates billing provider configurations, all or none. A customer has at most one live
 * configuration per provider: another one is a 409 until the first is archived.
 */
export async function setBillingConfigurations(
  ctx: ServiceContext,
  { tenantId, body }: { tenantId: string; body: SetBillingConfigurationsBody },
): Promise<BillingConfiguration[]> {
  return inTransaction(ctx, async (txContext) => {
    const rows: BillingConfiguration[] = [];
    for (const [index, entry] of body.data.entries()) {
      await requireCustomer(txContext, tenantId, entry.customer_id, `data.${index}.customer_id`);
      rows.push(...(await billingProviders.addCustomerBillingConfigurations(txContext, { tenantId, customerId: entry.customer_id, configurations: [entry], field: `data.${index}` })));
    }
    return rows;
  });
}

/** A customer's configurations, oldest first; archived ones only when asked for. */
export async function listBillingConfigurations(
  ctx: ServiceContext,
  { tenantId, customerId, includeArchived }: { tenantId: string; customerId: string; includeArchived: boolean },
): Promise<BillingConfiguration[]> {
  await requireCustomer(ctx, tenantId, customerId, 'customer_id').catch((error: unknown) => {
    // Reading an archived customer's configurations is fine.
    if (!(error instanceof Invalid && error.message.includes('archived'))) throw error;
  });
  return billingProviders.listConfigurations(ctx, { tenantId, customerId, includeArchived });
}

/**
 * Archives configurations of one customer, all or none: an id that is not a live configuration of
 * the customer is a 400 naming it. Invoices finalised afterwards are not pushed; pushes already
 * under way finish.
 */
export async function archiveBillingConfigurations(
  ctx: ServiceContext,
  { tenantId, customerId, ids }: { tenantId: string; customerId: string; ids: string[] },
): Promise<void> {
  await inTransaction(ctx, async (txContext) => {
    const live = new Set((await billingProviders.listConfigurations(txContext, { tenantId, customerId, includeArchived: false })).map((row) => row.id));
    for (const [index, configurationId] of ids.entries()) {
      if (!live.has(configurationId)) {
        throw new Invalid(`customer_billing_provider_configuration_ids.${index}`, `no live billing provider configuration ${configurationId} for customer ${customerId}`);
      }
    }
    await billingProviders.archiveConfigurations(txContext, { tenantId, customerId, ids });
  });
}

/**
 * Links an Allot contract subscription to a Stripe subscription's price: from then on, Stripe's
 * `customer.subscription.updated` and `.deleted` events set its quantity. The subscription must
 * be on that contract of that customer; one Allot subscription follows one Stripe price (a second
 * link is a 409).
 */
export async function createSubscriptionLink(
  ctx: ServiceContext,
  {
    tenantId,
    link,
  }: {
    tenantId: string;
    link: { customer_id: string; contract_id: string; subscription_id: string; stripe_subscription_id: string; stripe_price_id: string };
  },
): Promise<SubscriptionLink> {
  await requireCustomer(ctx, tenantId, link.customer_id, 'customer_id');
  let contract: contracts.ContractView;
  try {
    contract = await contracts.getContract(ctx, { tenantId, customerId: link.customer_id, contractId: link.contract_id });
  } catch (error) {
    if (error instanceof NotFound) throw new Invalid('contract_id', `no contract ${link.contract_id} for customer ${link.customer_id}`);
    throw error;
  }
  if (contract.contract.archived_at) throw new Invalid('contract_id', `contract ${link.contract_id} is archived`);
  if (!contract.subscriptions.some((subscription) => subscription.id === link.subscription_id)) {
    throw new Invalid('subscription_id', `no subscription ${link.subscription_id} on contract ${link.contract_id}`);
  }
  const row: SubscriptionLink = {
    tenant_id: tenantId,
    id: newId(),
    ...link,
    last_event_id: null,
    last_event_created: null,
    created_at: ctx.clock.now(),
  };
  try {
    await repo.insertLink(ctx.db, row);
  } catch (error) {
    if (isUniqueViolation(error, 'stripe_subscription_links_subscription')) {
      throw new Conflict(`subscription_id: subscription ${link.subscription_id} is already linked to a Stripe subscription`);
    }
    throw error;
  }
  return row;
}

/** A page of the tenant's links, oldest first, optionally of one customer. */
export async function listSubscriptionLinks(
  { db }: ServiceContext,
  { tenantId, limit, nextPage, customerId }: { tenantId: string; limit: number; nextPage?: string | undefined; customerId?: string | undefined },
): Promise<{ links: SubscriptionLink[]; nextPage: string | null }> {
  const page = await fetchPage({ limit, nextPage }, (window) => repo.listLinks(db, tenantId, { ...window, customerId: customerId ?? null }));
  return { links: page.rows, nextPage: page.nextPage };
}

/** Where the push of a finalised invoice to Stripe stands; a 404 until the worker has taken it on. */
export async function getInvoiceSync({ db }: ServiceContext, { tenantId, invoiceId }: { tenantId: string; invoiceId: string }): Promise<InvoiceSync> {
  const found = isUuid(invoiceId) ? await repo.findSync(db, tenantId, invoiceId) : undefined;
  if (!found) throw new NotFound(`Invoice ${invoiceId} has not been taken on for Stripe (not finalised, or its customer has no Stripe configuration)`);
  return found;
}
