import type { ServiceContext } from '../../lib/context.js';
import { isUniqueViolation } from '../../lib/db/database.js';
import { Conflict, Invalid } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import * as repo from './repo.js';
import type { CustomerBillingConfigurationInput, StripeConfiguration } from './schemas.js';

export {
  archiveBillingConfigurationsBody,
  billingConfiguration,
  createdBillingConfiguration,
  customerBillingConfigurationInput,
  retrieveBillingConfigurationsBody,
  setBillingConfigurationsBody,
  STRIPE_DIRECT_DELIVERY_METHOD_ID,
  type CustomerBillingConfigurationInput,
  type SetBillingConfigurationsBody,
  type StripeConfiguration,
} from './schemas.js';

/**
 * Where a customer's invoices are delivered: its billing provider configurations (Stripe, direct).
 * Customers set them on create, contracts name one, and the Stripe module pushes invoices through
 * them. This module knows nothing of those three; they build on it.
 */

export type BillingConfiguration = repo.ConfigurationRow;

/**
 * Sets a new customer's configurations (`customer_billing_provider_configurations` on
 * `v1.customers.create`), in the transaction that creates it: as `setBillingConfigurations` (Stripe module) does after checking the customer.
 */
export async function addCustomerBillingConfigurations(
  ctx: ServiceContext,
  { tenantId, customerId, configurations, field }: { tenantId: string; customerId: string; configurations: readonly CustomerBillingConfigurationInput[]; field: string },
): Promise<BillingConfiguration[]> {
  const rows: BillingConfiguration[] = [];
  for (const [index, entry] of configurations.entries()) rows.push(await insertConfiguration(ctx, { tenantId, customerId, entry, field: `${field}.${index}` }));
  return rows;
}

async function insertConfiguration(
  ctx: ServiceContext,
  { tenantId, customerId, entry, field }: { tenantId: string; customerId: string; entry: CustomerBillingConfigurationInput; field: string },
): Promise<BillingConfiguration> {
  const row: BillingConfiguration = {
    tenant_id: tenantId,
    id: newId(),
    customer_id: customerId,
    billing_provider: entry.billing_provider,
    // The delivery method id names Allot's one delivery method: direct to Stripe.
    delivery_method: entry.delivery_method ?? 'direct_to_billing_provider',
    configuration: entry.configuration satisfies StripeConfiguration,
    created_at: ctx.clock.now(),
    archived_at: null,
  };
  try {
    await repo.insertConfiguration(ctx.db, row);
  } catch (error) {
    if (isUniqueViolation(error, 'customer_billing_provider_configurations_live')) {
      throw new Conflict(`${field}: customer ${customerId} already has a live ${entry.billing_provider} configuration; archive it first`);
    }
    throw error;
  }
  return row;
}

/**
 * The configuration a new contract's invoices go through (`billing_provider_configuration` on
 * `v1.contracts.create`): the customer's live configuration, named by id or by provider and
 * delivery method. None is a 400 naming the field: the contract would not be billed where asked.
 */
export async function contractBillingConfiguration(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    selection,
  }: { tenantId: string; customerId: string; selection: { billing_provider_configuration_id?: string | undefined; billing_provider?: string | undefined; delivery_method?: string | undefined } },
): Promise<string> {
  const live = await repo.listConfigurations(ctx.db, tenantId, customerId, { includeArchived: false });
  if (selection.billing_provider_configuration_id !== undefined) {
    const found = live.find((row) => row.id === selection.billing_provider_configuration_id);
    if (!found) throw new Invalid('billing_provider_configuration.billing_provider_configuration_id', `no live billing provider configuration ${selection.billing_provider_configuration_id} for customer ${customerId}`);
    return found.id;
  }
  const found = live.find((row) => row.billing_provider === selection.billing_provider && row.delivery_method === selection.delivery_method);
  if (!found) {
    throw new Invalid(
      'billing_provider_configuration',
      `customer ${customerId} has no live ${selection.billing_provider} configuration delivered ${selection.delivery_method}; set one first (customer_billing_provider_configurations on create, or setBillingConfigurations)`,
    );
  }
  return found.id;
}

/** A customer's configurations, oldest first; archived ones only when asked for. The caller knows the customer. */
export async function listConfigurations(ctx: ServiceContext, { tenantId, customerId, includeArchived }: { tenantId: string; customerId: string; includeArchived: boolean }): Promise<BillingConfiguration[]> {
  return repo.listConfigurations(ctx.db, tenantId, customerId, { includeArchived });
}

/** One configuration by id, archived or not. */
export async function findConfiguration({ db }: Pick<ServiceContext, 'db'>, { tenantId, configurationId }: { tenantId: string; configurationId: string }): Promise<BillingConfiguration | undefined> {
  return repo.findConfiguration(db, tenantId, configurationId);
}

/** Archives the customer's live configurations among `ids`; returns those it archived. */
export async function archiveConfigurations(ctx: ServiceContext, { tenantId, customerId, ids }: { tenantId: string; customerId: string; ids: readonly string[] }): Promise<string[]> {
  return repo.archiveConfigurations(ctx.db, tenantId, customerId, ids, ctx.clock.now());
}
