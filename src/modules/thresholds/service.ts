import { announceAccountChange, inTransaction, type ServiceContext } from '../../lib/context.js';
import { newId } from '../../lib/ids.js';
import { Decimal, wireNumber } from '../../lib/money.js';
import { floorToHour, toRfc3339 } from '../../lib/time.js';
import * as accounts from '../account/service.js';
import * as contracts from '../contracts/service.js';
import * as credits from '../credits/service.js';
import * as invoices from '../invoices/service.js';
import * as pricing from '../pricing/service.js';
import * as stripe from '../stripe/service.js';
import * as webhooks from '../webhooks/service.js';
import { chargeCents, rechargeAmount, thresholdBillingAmount } from './compute/recharge.js';
import * as repo from './repo.js';

export type ThresholdCharge = repo.ChargeRow;

/** How Allot reaches Stripe for a STRIPE payment gate. */
export type GateSettings = Pick<stripe.StripeSettings, 'secretKey' | 'apiBase' | 'timeoutMs'>;

/** A commit made by a threshold on an open-ended contract runs until then. */
const OPEN_ENDED = new Date('9999-01-01T00:00:00.000Z');

/**
 * Looks at a customer's enabled threshold configurations — prepaid balance thresholds (auto top-up,
 * docs/rules.md rule 30) and spend thresholds (threshold billing, rule 31) — and acts on each one
 * crossed: with payment gate `NONE` the commit (that recharges the balance, or pays the period's
 * spend) and its SCHEDULED invoice are made at once; with `STRIPE` a pending charge is recorded, an
 * invoice is made and paid in Stripe, and the commit is made only once it is paid (a declined
 * payment makes none, voids the invoice, turns the configuration off and says why in a
 * `payment_gate.payment_status` webhook). Deciding takes the customer's lock and reads the
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

/** A threshold crossed now: the charge's amount and unit, what was measured, and the commit's window. */
interface Crossing {
  unit: string;
  amount: Decimal;
  measured: Decimal;
  fiatPerUnit: Decimal | null;
  window: { startingAt: Date; endingBefore: Date };
  webhook: Record<string, unknown>;
}

/** Whether `configuration` is crossed now on `contract`, as `account` stands. */
async function crossingOf(
  ctx: ServiceContext,
  { tenantId, contract, configuration, account, now }: { tenantId: string; contract: accounts.Contract; configuration: contracts.ThresholdRow; account: accounts.CustomerAccount; now: Date },
): Promise<Crossing | null> {
  const { threshold_amount: threshold, recharge_to_amount: rechargeTo, custom_credit_type_id: customUnit } = configuration.configuration;
  if (configuration.kind === 'SPEND') {
    // The open period's draft: what it bills in fiat now, after every credit and commit (earlier threshold commits included).
    const draft = account.drafts.find((each) => each.contractId === contract.id && each.period.startingAt <= now && now < each.period.endingBefore);
    if (!draft) return null;
    const spend = invoices.draftInvoice(draft).total;
    const amount = thresholdBillingAmount({ spend, threshold: new Decimal(threshold) });
    if (!amount) return null;
    return {
      unit: draft.rateCard.fiatCreditTypeId,
      amount,
      measured: spend,
      fiatPerUnit: null,
      // The commit pays the period's spend so far: it covers the whole period, as its usage does.
      window: { startingAt: draft.period.startingAt, endingBefore: draft.period.endingBefore },
      webhook: { threshold_amount: wireNumber(new Decimal(threshold)), current_spend: wireNumber(spend) },
    };
  }
  const card = contract.rate_card_id ? await pricing.findRateCard(ctx, { tenantId, rateCardId: contract.rate_card_id }) : undefined;
  const unit = customUnit ?? card?.fiatCreditTypeId ?? pricing.USD_CREDIT_TYPE_ID;
  const balance = accounts.spendableBalance(account.current, unit);
  const amount = rechargeAmount({ balance, threshold: new Decimal(threshold), rechargeTo: new Decimal(rechargeTo!) });
  if (!amount) return null;
  return {
    unit,
    amount,
    measured: balance,
    fiatPerUnit: customUnit ? (card?.creditTypeConversions.find((c) => c.customCreditTypeId === customUnit)?.fiatPerCustomCredit ?? null) : null,
    // Usage is kept per hour: the commit starts on the hour it was made in, so it funds that hour like any other segment.
    window: { startingAt: floorToHour(now), endingBefore: contract.ending_before ?? OPEN_ENDED },
    webhook: { threshold_amount: wireNumber(new Decimal(threshold)), recharge_to_amount: wireNumber(new Decimal(rechargeTo!)), remaining_balance: wireNumber(balance) },
  };
}

/** The charges crossings start now, in the caller's locked transaction: released ones (gate NONE) with their commits and invoices, pending ones (STRIPE) to pay. */
async function startCharges(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<repo.ChargeRow[]> {
  const now = ctx.clock.now();
  const configurations = (await contracts.listThresholdConfigurations(ctx, { tenantId, customerId })).filter((row) => row.is_enabled);
  if (configurations.length === 0) return [];
  const pending = await repo.pendingCharges(ctx.db, tenantId, customerId);
  const toPay: repo.ChargeRow[] = [];
  let released = false;
  for (const configuration of configurations) {
    // Read again for each: a commit the one before made moves the balance and the spend.
    const account = await accounts.customerAccount(ctx, { tenantId, customerId });
    const contract = account.loaded.contracts.find((c) => c.id === configuration.contract_id);
    if (!contract || contract.archived_at || contract.starting_at > now || (contract.ending_before && contract.ending_before <= now)) continue;
    if (pending.some((charge) => charge.contract_id === contract.id && charge.kind === configuration.kind)) continue;
    const crossing = await crossingOf(ctx, { tenantId, contract, configuration, account, now });
    if (!crossing) continue;

    const gateType = configuration.configuration.payment_gate_config.payment_gate_type;
    const gated = gateType === 'STRIPE';
    const charge: repo.ChargeRow = {
      id: newId(),
      customer_id: customerId,
      contract_id: contract.id,
      kind: configuration.kind,
      credit_type_id: crossing.unit,
      amount: crossing.amount.toFixed(),
      charge_cents: chargeCents({ amount: crossing.amount, fiatPerUnit: crossing.fiatPerUnit }).toFixed(),
      measured: crossing.measured.toFixed(),
      commit_starting_at: crossing.window.startingAt,
      commit_ending_before: crossing.window.endingBefore,
      payment_gate_type: gateType,
      // Pending until released: at once with gate NONE, once paid with STRIPE.
      status: 'PENDING',
      grant_id: null,
      stripe_invoice_id: null,
      failure: null,
      created_at: now,
      settled_at: null,
    };
    await repo.insertCharge(ctx.db, tenantId, charge);
    if (!gated) {
      charge.grant_id = await release(ctx, { tenantId, contract, configuration, charge, now });
      charge.status = 'RELEASED';
      released = true;
    }
    await webhooks.enqueueWebhookEvent(ctx.db, {
      tenantId,
      type: 'payment_gate.threshold_reached',
      at: now,
      fields: { properties: { ...chargeProperties(charge, gateType), ...crossing.webhook, ...(charge.grant_id && { commit_id: charge.grant_id }), timestamp: toRfc3339(now) } },
    });
    if (gated) toPay.push(charge);
  }
  if (released) await announceAccountChange(ctx, { tenantId, customerIds: [customerId], cause: 'balance' });
  return toPay;
}

/** Releases a charge, in the caller's transaction: its commit, its SCHEDULED invoice (finalised), and the charge marked released. Returns the commit's id. */
async function release(
  ctx: ServiceContext,
  { tenantId, contract, configuration, charge, now, stripeInvoiceId = null }: { tenantId: string; contract: accounts.Contract; configuration: contracts.ThresholdRow; charge: repo.ChargeRow; now: Date; stripeInvoiceId?: string | null },
): Promise<string> {
  const commit = configuration.configuration.commit;
  const grantId = await credits.createGrant(ctx, {
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
      segments: [{ startingAt: charge.commit_starting_at, endingBefore: charge.commit_ending_before, amount: new Decimal(charge.amount) }],
    },
  });
  await issueInvoice(ctx, { tenantId, configuration, charge, now, status: 'FINALIZED' });
  await repo.settleCharge(ctx.db, tenantId, { id: charge.id, status: 'RELEASED', grantId, stripeInvoiceId, failure: null, at: now });
  return grantId;
}

/** The charge's SCHEDULED invoice (its id is the charge's), in the fiat unit of the contract. */
async function issueInvoice(
  ctx: ServiceContext,
  { tenantId, configuration, charge, now, status }: { tenantId: string; configuration: contracts.ThresholdRow; charge: repo.ChargeRow; now: Date; status: 'FINALIZED' | 'VOID' },
): Promise<void> {
  const contract = (await accounts.customerContracts(ctx, { tenantId, customerId: charge.customer_id })).find((c) => c.id === charge.contract_id);
  const card = contract?.rate_card_id ? await pricing.findRateCard(ctx, { tenantId, rateCardId: contract.rate_card_id }) : undefined;
  await invoices.issueThresholdInvoice(ctx, {
    tenantId,
    invoiceId: charge.id,
    customerId: charge.customer_id,
    contractId: charge.contract_id,
    productId: configuration.configuration.commit.product_id,
    name: chargeName(configuration, charge),
    creditTypeId: card?.fiatCreditTypeId ?? pricing.USD_CREDIT_TYPE_ID,
    amountCents: new Decimal(charge.charge_cents),
    at: now,
    status,
  });
}

const chargeName = (configuration: contracts.ThresholdRow, charge: repo.ChargeRow) =>
  configuration.configuration.commit.name ?? (charge.kind === 'PREPAID_BALANCE' ? 'Prepaid balance recharge' : 'Spend threshold charge');

function chargeProperties(charge: repo.ChargeRow, paymentGateType: string): Record<string, unknown> {
  return {
    customer_id: charge.customer_id,
    contract_id: charge.contract_id,
    workflow_id: charge.id,
    threshold_type: charge.kind === 'PREPAID_BALANCE' ? 'prepaid_balance' : 'spend',
    payment_gate_type: paymentGateType,
    credit_type_id: charge.credit_type_id,
    amount: wireNumber(new Decimal(charge.amount)),
    charge_amount_cents: wireNumber(new Decimal(charge.charge_cents)),
    invoice_id: charge.id,
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
  const destination = await stripe.gateStripeCustomer(ctx, { tenantId, customerId: charge.customer_id, configurationId: contract.billing_provider_configuration_id });
  const outcome: stripe.GatePaymentOutcome = destination
    ? await stripe.chargeGate(gate, {
        key: `allot-threshold-${charge.id}`,
        stripeCustomerId: destination.stripeCustomerId,
        amountCents: Number(charge.charge_cents),
        currency: 'usd',
        description: chargeName(configuration, charge),
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
      grantId = await release(txContext, { tenantId, contract, configuration, charge: current, now, stripeInvoiceId: outcome.stripeInvoiceId });
      await announceAccountChange(txContext, { tenantId, customerIds: [charge.customer_id], cause: 'balance' });
    } else {
      await issueInvoice(txContext, { tenantId, configuration, charge: current, now, status: 'VOID' });
      await repo.settleCharge(txContext.db, tenantId, { id: charge.id, status: 'FAILED', grantId: null, stripeInvoiceId: outcome.stripeInvoiceId, failure: outcome.reason, at: now });
      // As Metronome does: a failed payment turns the configuration off until it is enabled again.
      await contracts.disableThresholdConfiguration(txContext, { tenantId, contractId: charge.contract_id, kind: charge.kind, at: now });
    }
    // Settled in Stripe here: the invoice push leaves the charge's invoice alone.
    if (destination) {
      await stripe.recordGateSync(txContext, {
        tenantId,
        invoiceId: charge.id,
        customerId: charge.customer_id,
        configurationId: destination.configurationId,
        stripeInvoiceId: outcome.stripeInvoiceId,
        status: outcome.kind === 'paid' ? 'synced' : 'voided',
        at: now,
      });
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
