import { announceAccountChange, inTransaction, type ServiceContext } from '../../lib/context.js';
import { newId } from '../../lib/ids.js';
import { Decimal, wireNumber } from '../../lib/money.js';
import { floorToHour, toRfc3339 } from '../../lib/time.js';
import * as accounts from '../account/service.js';
import * as contracts from '../contracts/service.js';
import * as credits from '../credits/service.js';
import * as pricing from '../pricing/service.js';
import * as stripe from '../stripe/service.js';
import * as webhooks from '../webhooks/service.js';
import { chargeCents, rechargeAmount } from './compute/recharge.js';
import * as repo from './repo.js';

export type ThresholdCharge = repo.ChargeRow;

/** How Allot reaches Stripe for a STRIPE payment gate. */
export type GateSettings = Pick<stripe.StripeSettings, 'secretKey' | 'apiBase' | 'timeoutMs'>;

/** A commit made by a threshold on an open-ended contract runs until then. */
const OPEN_ENDED = new Date('9999-01-01T00:00:00.000Z');

/**
 * Looks at a customer's enabled prepaid balance thresholds (docs/rules.md rule 28) and acts on each
 * one crossed: with payment gate `NONE` the commit that recharges the balance is made at once; with
 * `STRIPE` a pending charge is recorded, an invoice is made and paid in Stripe, and the commit is
 * made only once it is paid (a declined payment makes none, turns the configuration off and says why
 * in a `payment_gate.payment_status` webhook). Deciding takes the customer's lock and reads the
 * balance inside that transaction, so any number of concurrent evaluations, on any process, make
 * one charge per crossing. Stripe is called with no transaction open.
 */
export async function evaluateThresholds(ctx: ServiceContext, { tenantId, customerId, gate }: { tenantId: string; customerId: string; gate: GateSettings }): Promise<void> {
  const configurations = await contracts.listThresholdConfigurations(ctx, { tenantId, customerId });
  if (configurations.length === 0) return;
  const toPay = await inTransaction(ctx, async (txContext) => {
    await repo.lockCustomer(txContext.db, tenantId, customerId);
    const started = await startCharges(txContext, { tenantId, customerId });
    webhooks.signalOutboxWritten(txContext, tenantId);
    return [...(await repo.pendingCharges(txContext.db, tenantId, customerId)), ...started].filter((charge, i, all) => all.findIndex((c) => c.id === charge.id) === i);
  });
  for (const charge of toPay) await payCharge(ctx, { tenantId, charge, gate });
}

/** The charges a crossing starts now, in the caller's locked transaction: released ones (gate NONE) with their commits, pending ones (STRIPE) to pay. */
async function startCharges(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<repo.ChargeRow[]> {
  const now = ctx.clock.now();
  const configurations = (await contracts.listThresholdConfigurations(ctx, { tenantId, customerId })).filter((row) => row.is_enabled && row.kind === 'PREPAID_BALANCE');
  if (configurations.length === 0) return [];
  const pending = await repo.pendingCharges(ctx.db, tenantId, customerId);
  const account = await accounts.customerAccount(ctx, { tenantId, customerId });
  const toPay: repo.ChargeRow[] = [];
  let released = false;
  for (const configuration of configurations) {
    const contract = account.loaded.contracts.find((c) => c.id === configuration.contract_id);
    if (!contract || contract.archived_at || contract.starting_at > now || (contract.ending_before && contract.ending_before <= now)) continue;
    if (pending.some((charge) => charge.contract_id === contract.id && charge.kind === configuration.kind)) continue;
    const { threshold_amount: threshold, recharge_to_amount: rechargeTo, custom_credit_type_id: customUnit, payment_gate_config: paymentGate } = configuration.configuration;
    const card = contract.rate_card_id ? await pricing.findRateCard(ctx, { tenantId, rateCardId: contract.rate_card_id }) : undefined;
    const unit = customUnit ?? card?.fiatCreditTypeId ?? pricing.USD_CREDIT_TYPE_ID;
    const balance = accounts.spendableBalance(account.current, unit);
    const amount = rechargeAmount({ balance, threshold: new Decimal(threshold), rechargeTo: new Decimal(rechargeTo!) });
    if (!amount) continue;

    const gated = paymentGate.payment_gate_type === 'STRIPE';
    const conversion = customUnit ? card?.creditTypeConversions.find((c) => c.customCreditTypeId === customUnit) : undefined;
    const charge: repo.ChargeRow = {
      id: newId(),
      customer_id: customerId,
      contract_id: contract.id,
      kind: 'PREPAID_BALANCE',
      credit_type_id: unit,
      amount: amount.toFixed(),
      charge_cents: gated ? chargeCents({ amount, fiatPerUnit: conversion?.fiatPerCustomCredit ?? null }).toFixed() : null,
      measured: balance.toFixed(),
      payment_gate_type: paymentGate.payment_gate_type,
      status: gated ? 'PENDING' : 'RELEASED',
      grant_id: null,
      stripe_invoice_id: null,
      failure: null,
      created_at: now,
      settled_at: gated ? null : now,
    };
    if (!gated) {
      charge.grant_id = await createCommit(ctx, { tenantId, contract, configuration, charge, now });
      released = true;
    }
    await repo.insertCharge(ctx.db, tenantId, charge);
    await webhooks.enqueueWebhookEvent(ctx.db, {
      tenantId,
      type: 'payment_gate.threshold_reached',
      at: now,
      fields: {
        properties: {
          ...chargeProperties(charge, configuration.configuration.payment_gate_config.payment_gate_type),
          threshold_amount: wireNumber(new Decimal(threshold)),
          recharge_to_amount: wireNumber(new Decimal(rechargeTo!)),
          remaining_balance: wireNumber(balance),
          ...(charge.grant_id && { commit_id: charge.grant_id }),
          timestamp: toRfc3339(now),
        },
      },
    });
    if (gated) toPay.push(charge);
  }
  if (released) await announceAccountChange(ctx, { tenantId, customerIds: [customerId], cause: 'balance' });
  return toPay;
}

/** The commit a charge releases: the configuration's product and drawdown terms, from the hour the charge was made until the contract ends. */
async function createCommit(
  ctx: ServiceContext,
  {
    tenantId,
    contract,
    configuration,
    charge,
    now,
  }: { tenantId: string; contract: accounts.Contract; configuration: contracts.ThresholdRow; charge: repo.ChargeRow; now: Date },
): Promise<string> {
  const commit = configuration.configuration.commit;
  return credits.createGrant(ctx, {
    tenantId,
    grant: {
      kind: 'COMMIT',
      customerId: charge.customer_id,
      contractId: contract.id,
      productId: commit.product_id,
      creditTypeId: charge.credit_type_id,
      priority: new Decimal(commit.priority ?? 100),
      applicableProductIds: commit.applicable_product_ids ?? null,
      applicableProductTags: commit.applicable_product_tags ?? null,
      applicableContractIds: null,
      rateType: 'LIST_RATE',
      name: commit.name ?? null,
      description: commit.description ?? null,
      customFields: {},
      // Usage is kept per hour: the commit starts on the hour it was made in, so it funds that hour's usage like any other.
      segments: [{ startingAt: floorToHour(now), endingBefore: contract.ending_before ?? OPEN_ENDED, amount: new Decimal(charge.amount) }],
    },
  });
}

function chargeProperties(charge: repo.ChargeRow, paymentGateType: string): Record<string, unknown> {
  return {
    customer_id: charge.customer_id,
    contract_id: charge.contract_id,
    workflow_id: charge.id,
    threshold_type: charge.kind === 'PREPAID_BALANCE' ? 'prepaid_balance' : 'spend',
    payment_gate_type: paymentGateType,
    credit_type_id: charge.credit_type_id,
    amount: wireNumber(new Decimal(charge.amount)),
    ...(charge.charge_cents !== null && { charge_amount_cents: wireNumber(new Decimal(charge.charge_cents)) }),
  };
}

/**
 * Pays a pending charge through Stripe and settles it under the customer's lock: paid, the commit
 * is made and the charge released; declined, it fails (no commit), the configuration is turned
 * off and the webhook says why. Stripe unreachable: it stays pending and the next evaluation
 * tries again with the same idempotency keys.
 */
async function payCharge(ctx: ServiceContext, { tenantId, charge, gate }: { tenantId: string; charge: repo.ChargeRow; gate: GateSettings }): Promise<void> {
  const contract = (await contracts.listContractRows(ctx, { tenantId, customerId: charge.customer_id, includeArchived: true })).find((c) => c.id === charge.contract_id)!;
  const configuration = (await contracts.listThresholdConfigurations(ctx, { tenantId, customerId: charge.customer_id })).find(
    (row) => row.contract_id === charge.contract_id && row.kind === charge.kind,
  )!;
  const stripeCustomerId = await stripe.gateStripeCustomer(ctx, { tenantId, customerId: charge.customer_id, configurationId: contract.billing_provider_configuration_id });
  const outcome: stripe.GatePaymentOutcome = stripeCustomerId
    ? await stripe.chargeGate(gate, {
        key: `allot-threshold-${charge.id}`,
        stripeCustomerId,
        amountCents: Number(charge.charge_cents),
        currency: 'usd',
        description: configuration.configuration.commit.name ?? (charge.kind === 'PREPAID_BALANCE' ? 'Prepaid balance recharge' : 'Spend threshold charge'),
        metadata: {
          ...configuration.configuration.payment_gate_config.stripe_config?.invoice_metadata,
          allot_contract_id: charge.contract_id,
          allot_threshold_charge_id: charge.id,
        },
      })
    : { kind: 'failed', stripeInvoiceId: null, reason: `customer ${charge.customer_id} has no live Stripe billing provider configuration`, code: null };
  if (outcome.kind === 'retry') return;

  await inTransaction(ctx, async (txContext) => {
    await repo.lockCustomer(txContext.db, tenantId, charge.customer_id);
    const current = await repo.findCharge(txContext.db, tenantId, charge.id);
    if (current?.status !== 'PENDING') return;
    const now = ctx.clock.now();
    let grantId: string | null = null;
    if (outcome.kind === 'paid') {
      const contractNow = (await accounts.customerContracts(txContext, { tenantId, customerId: charge.customer_id })).find((c) => c.id === charge.contract_id) ?? contract;
      grantId = await createCommit(txContext, { tenantId, contract: contractNow, configuration, charge: current, now });
      await repo.settleCharge(txContext.db, tenantId, { id: charge.id, status: 'RELEASED', grantId, stripeInvoiceId: outcome.stripeInvoiceId, failure: null, at: now });
      await announceAccountChange(txContext, { tenantId, customerIds: [charge.customer_id], cause: 'balance' });
    } else {
      await repo.settleCharge(txContext.db, tenantId, { id: charge.id, status: 'FAILED', grantId: null, stripeInvoiceId: outcome.stripeInvoiceId, failure: outcome.reason, at: now });
      // As Metronome does: a failed payment turns the configuration off until it is enabled again.
      await contracts.disableThresholdConfiguration(txContext, { tenantId, contractId: charge.contract_id, kind: charge.kind, at: now });
    }
    await webhooks.enqueueWebhookEvent(txContext.db, {
      tenantId,
      type: 'payment_gate.payment_status',
      at: now,
      fields: {
        properties: {
          ...chargeProperties(current, 'STRIPE'),
          payment_status: outcome.kind,
          ...(outcome.stripeInvoiceId && { stripe_invoice_id: outcome.stripeInvoiceId }),
          ...(grantId && { commit_id: grantId }),
          ...(outcome.kind === 'failed' && { error_message: outcome.reason, ...(outcome.code && { error_code: outcome.code }) }),
          timestamp: toRfc3339(now),
        },
      },
    });
    webhooks.signalOutboxWritten(txContext, tenantId);
  });
}

/** A customer's threshold charges, oldest first: every crossing, what it charged and how it ended. */
export async function listThresholdCharges(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<ThresholdCharge[]> {
  return repo.listCharges(ctx.db, tenantId, customerId);
}
