import { announceAccountChange, type ServiceContext } from '../../lib/context.js';
import { NotFound, type Problems } from '../../lib/errors.js';
import { toRfc3339 } from '../../lib/time.js';
import type { Contract } from '../account/service.js';
import * as credits from '../credits/service.js';
import * as customers from '../customers/service.js';
import * as webhooks from '../webhooks/service.js';
import type { AdditionPlan } from './plan.js';
import * as repo from './repo.js';

/** What creating a contract and editing one both write and announce. */

/** The live customer `customerId`; otherwise undefined, with a problem at `customer_id`. */
export async function liveCustomer(ctx: ServiceContext, tenantId: string, customerId: string, problems: Problems): Promise<customers.Customer | undefined> {
  let customer: customers.Customer;
  try {
    customer = await customers.getCustomer(ctx, { tenantId, customerId });
  } catch (error) {
    if (!(error instanceof NotFound)) throw error;
    problems.add('customer_id', `no customer with id ${customerId}`);
    return undefined;
  }
  return problems.check(!customer.archived_at, 'customer_id', `customer ${customerId} is archived`) ? customer : undefined;
}

/**
 * Writes `contract.create` or `contract.edit` to the webhook outbox, in the transaction of the
 * change, shaped like Metronome's system notifications (flat, no `properties`).
 */
export async function announceContract(
  txContext: ServiceContext,
  { tenantId, type, contract, customer, at }: { tenantId: string; type: 'contract.create' | 'contract.edit'; contract: Contract; customer: customers.Customer; at: Date },
): Promise<void> {
  await webhooks.enqueueWebhookEvent(txContext.db, {
    tenantId,
    type,
    at,
    fields: {
      timestamp: toRfc3339(at),
      environment_type: 'PRODUCTION',
      contract_id: contract.id,
      contract_custom_fields: contract.custom_fields,
      customer_id: customer.id,
      customer_custom_fields: customer.custom_fields,
    },
  });
}

/**
 * In the change's transaction: once it is committed, its webhook can go and the customer's alerts
 * are evaluated again; other processes learn of it when it commits.
 */
export async function signalContractChange(ctx: ServiceContext, tenantId: string, customerId: string): Promise<void> {
  webhooks.signalOutboxWritten(ctx, tenantId);
  await announceAccountChange(ctx, { tenantId, customerIds: [customerId], cause: 'contract' });
}

export async function writePlan(ctx: ServiceContext, tenantId: string, plan: AdditionPlan): Promise<string[]> {
  for (const subscription of plan.subscriptions) await repo.insertSubscription(ctx.db, tenantId, subscription);
  for (const change of plan.changes) await repo.insertQuantityChange(ctx.db, tenantId, change);
  for (const change of plan.seatChanges) await repo.insertSeatChange(ctx.db, tenantId, change);
  for (const grant of plan.recurring) await repo.insertRecurringGrant(ctx.db, tenantId, grant);
  const grantIds: string[] = [];
  for (const grant of plan.grants) grantIds.push(await credits.createGrant(ctx, { tenantId, grant }));
  return grantIds;
}
