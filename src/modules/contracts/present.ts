import type * as Shared from '@metronome/sdk/resources/shared';
import type { ServiceContext } from '../../lib/context.js';
import { Decimal, wireNumber } from '../../lib/money.js';
import { toRfc3339 } from '../../lib/time.js';
import type * as account from '../account/service.js';
import * as pricing from '../pricing/service.js';
import { billingPeriodsAround } from '../../lib/contractSchedules.js';
import type { Period } from '../../lib/periods.js';
import type { ContractOverrideRow } from './repo.js';
import type { ContractView, RecurringGrant, Subscription } from './service.js';
import { thresholdFieldsOf } from './thresholds.js';

/**
 * Wire shapes of contracts, subscriptions, credits and commits, typed against the SDK's own
 * response types so that the compiler checks Allot answers what the client expects.
 */

/** Names of the products and pricing units a response mentions, looked up once per response. */
export interface Names {
  products: ReadonlyMap<string, string>;
  creditTypes: ReadonlyMap<string, string>;
}

export async function namesFor(ctx: ServiceContext, tenantId: string, { productIds, creditTypeIds }: { productIds: Iterable<string>; creditTypeIds: Iterable<string> }): Promise<Names> {
  const [products, creditTypes] = await Promise.all([
    pricing.findProducts(ctx, { tenantId, productIds: [...new Set(productIds)] }),
    pricing.findCreditTypes(ctx, { tenantId, creditTypeIds: [...new Set(creditTypeIds)] }),
  ]);
  return {
    products: new Map([...products].map(([id, product]) => [id, product.name])),
    creditTypes: new Map([...creditTypes].map(([id, creditType]) => [id, creditType.name])),
  };
}

export function namesForViews(ctx: ServiceContext, tenantId: string, views: ContractView[], extra: account.Balance[] = []): Promise<Names> {
  const balances = [...views.flatMap((v) => v.balances), ...extra];
  const recurring = views.flatMap((v) => [...v.recurringCredits, ...v.recurringCommits]);
  const overrides = views.flatMap((v) => v.overrides);
  return namesFor(ctx, tenantId, {
    productIds: [
      ...views.flatMap((v) => v.subscriptions.map((s) => s.product_id)),
      ...recurring.map((r) => r.product_id),
      ...balances.map((b) => b.productId),
      ...overrides.flatMap((o) => (o.product_id ? [o.product_id] : [])),
    ],
    creditTypeIds: [...recurring.map((r) => r.credit_type_id), ...balances.map((b) => b.creditTypeId), ...overrides.flatMap((o) => (o.credit_type_id ? [o.credit_type_id] : []))],
  });
}

const window = (period: Period) => ({ starting_at: toRfc3339(period.startingAt), ending_before: toRfc3339(period.endingBefore) });

export function toSubscription(subscription: Subscription, now: Date, names: Names): Shared.ContractV2.Subscription {
  const periods = billingPeriodsAround(subscription.schedule, now);
  // The quantity in force now, then the changes to come.
  const firstShown = Math.max(0, subscription.steps.findLastIndex((step) => step.startingAt <= now));
  const steps = subscription.steps.slice(firstShown);
  return {
    id: subscription.id,
    billing_periods: {
      ...(periods.previous && { previous: window(periods.previous) }),
      ...(periods.current && { current: window(periods.current) }),
      ...(periods.next && { next: window(periods.next) }),
    },
    collection_schedule: subscription.collection_schedule,
    proration: { invoice_behavior: subscription.invoice_behavior, is_prorated: subscription.is_prorated },
    quantity_management_mode: subscription.quantity_management_mode,
    ...(subscription.seat_group_key !== null && { seat_config: { seat_group_key: subscription.seat_group_key } }),
    quantity_schedule: steps.map((step, i) => ({
      quantity: step.quantity,
      starting_at: toRfc3339(step.startingAt),
      ...((steps[i + 1] || subscription.ending_before) && { ending_before: toRfc3339(steps[i + 1]?.startingAt ?? subscription.ending_before!) }),
    })),
    starting_at: toRfc3339(subscription.starting_at),
    ...(subscription.ending_before && { ending_before: toRfc3339(subscription.ending_before) }),
    subscription_rate: {
      billing_frequency: subscription.billing_frequency,
      product: { id: subscription.product_id, name: names.products.get(subscription.product_id) ?? '' },
    },
    billing_cycle_config: { anchor_date: toRfc3339(subscription.billing_anchor), invoice_placement: subscription.invoice_placement },
    custom_fields: subscription.custom_fields,
    ...(subscription.name !== null && { name: subscription.name }),
    ...(subscription.description !== null && { description: subscription.description }),
    fiat_credit_type_id: pricing.USD_CREDIT_TYPE_ID,
  };
}

export function toRecurringGrant(grant: RecurringGrant, names: Names): Shared.ContractV2.RecurringCredit & Shared.ContractV2.RecurringCommit {
  return {
    id: grant.id,
    access_amount: {
      credit_type_id: grant.credit_type_id,
      unit_price: wireNumber(new Decimal(grant.unit_price)),
      ...(grant.quantity !== null && { quantity: wireNumber(new Decimal(grant.quantity)) }),
    },
    commit_duration: { value: grant.duration_periods, unit: 'PERIODS' },
    priority: wireNumber(new Decimal(grant.priority)),
    product: { id: grant.product_id, name: names.products.get(grant.product_id) ?? '' },
    rate_type: grant.rate_type as 'LIST_RATE',
    starting_at: toRfc3339(grant.starting_at),
    ...(grant.ending_before && { ending_before: toRfc3339(grant.ending_before) }),
    ...(grant.applicable_product_ids && { applicable_product_ids: grant.applicable_product_ids }),
    ...(grant.applicable_product_tags && { applicable_product_tags: grant.applicable_product_tags }),
    contract: { id: grant.contract_id },
    ...(grant.name !== null && { name: grant.name }),
    ...(grant.description !== null && { description: grant.description }),
    proration: grant.proration,
    ...(grant.recurrence_frequency && { recurrence_frequency: grant.recurrence_frequency }),
    ...(grant.rollover_fraction !== null && { rollover_fraction: wireNumber(new Decimal(grant.rollover_fraction)) }),
    ...(grant.subscription_id && {
      subscription_config: {
        subscription_id: grant.subscription_id,
        allocation: grant.allocation,
        apply_seat_increase_config: { is_prorated: grant.seat_increase_prorated ?? false },
      },
    }),
  };
}

/** An override as v2 contracts show it: as it was given, with the product and pricing unit named. */
export function toOverride(override: ContractOverrideRow, names: Names): Shared.ContractV2.Override {
  const creditType = override.credit_type_id && { id: override.credit_type_id, name: names.creditTypes.get(override.credit_type_id) ?? override.credit_type_id };
  return {
    id: override.id,
    created_at: toRfc3339(override.created_at),
    starting_at: toRfc3339(override.starting_at),
    ...(override.ending_before && { ending_before: toRfc3339(override.ending_before) }),
    type: override.type,
    ...(override.override_specifiers && { override_specifiers: override.override_specifiers }),
    ...(override.product_id && { product: { id: override.product_id, name: names.products.get(override.product_id) ?? '' } }),
    ...(override.applicable_product_tags && { applicable_product_tags: override.applicable_product_tags }),
    ...(override.entitled !== null && { entitled: override.entitled }),
    is_commit_specific: false,
    ...(override.priority !== null && { priority: wireNumber(new Decimal(override.priority)) }),
    ...(override.multiplier !== null && { multiplier: wireNumber(new Decimal(override.multiplier)) }),
    ...(override.rate_type && {
      overwrite_rate: {
        rate_type: override.rate_type,
        ...(creditType && { credit_type: creditType }),
        ...(override.price !== null && { price: wireNumber(new Decimal(override.price)) }),
        ...(override.tiers && {
          tiers: override.tiers.map((tier) => ({ price: wireNumber(new Decimal(tier.price)), ...(tier.size !== null && { size: wireNumber(new Decimal(tier.size)) }) })),
        }),
      },
    }),
  };
}

/** v1 shows an overwrite's rate both as `overwrite_rate` and flat on the override. */
function toOverrideV1(override: Shared.ContractV2.Override): Shared.Override {
  const rate = override.overwrite_rate;
  return {
    ...override,
    ...(rate && {
      rate_type: rate.rate_type,
      ...(rate.credit_type && { credit_type: rate.credit_type }),
      ...(rate.price !== undefined && { price: rate.price }),
      ...(rate.tiers && { tiers: rate.tiers }),
    }),
  };
}

type LedgerEntry = NonNullable<Shared.Credit['ledger']>[number] | NonNullable<Shared.Commit['ledger']>[number];

export function toLedgerEntry(balance: account.Balance, segmentId: string, entry: account.Balance['segments'][number]['ledger']['entries'][number]): LedgerEntry {
  const prefix = balance.kind === 'CREDIT' ? 'CREDIT' : 'PREPAID_COMMIT';
  const base = { amount: wireNumber(entry.amount), segment_id: segmentId, timestamp: toRfc3339(entry.timestamp) };
  switch (entry.kind) {
    case 'MANUAL':
      return { ...base, type: `${prefix}_MANUAL`, reason: entry.reason ?? '' } as LedgerEntry;
    case 'AUTOMATED_INVOICE_DEDUCTION':
      return { ...base, type: `${prefix}_AUTOMATED_INVOICE_DEDUCTION`, invoice_id: entry.invoiceId ?? '' } as LedgerEntry;
    case 'ROLLOVER':
      return { ...base, type: `${prefix}_ROLLOVER`, new_contract_id: balance.contractId ?? '' } as LedgerEntry;
    default:
      return { ...base, type: `${prefix}_${entry.kind}` } as LedgerEntry;
  }
}

/** A credit or commit as `listBalances`, contracts and the customer credit and commit lists show it. */
export function toBalance(balance: account.Balance, names: Names, { includeBalance, includeLedgers }: { includeBalance: boolean; includeLedgers: boolean }): Shared.Credit & Shared.Commit {
  const isCredit = balance.kind === 'CREDIT';
  return {
    id: balance.id,
    type: (isCredit ? 'CREDIT' : 'PREPAID') as never,
    product: { id: balance.productId, name: names.products.get(balance.productId) ?? '' },
    created_at: toRfc3339(balance.createdAt),
    access_schedule: {
      credit_type: { id: balance.creditTypeId, name: names.creditTypes.get(balance.creditTypeId) ?? balance.creditTypeId },
      schedule_items: balance.segments.map((segment) => ({
        id: segment.id,
        amount: wireNumber(segment.amount),
        starting_at: toRfc3339(segment.startingAt),
        ending_before: toRfc3339(segment.endingBefore),
      })),
    },
    priority: wireNumber(balance.priority),
    rate_type: balance.rateType as 'LIST_RATE',
    custom_fields: balance.customFields,
    ...(balance.applicableProductIds && { applicable_product_ids: balance.applicableProductIds }),
    ...(balance.applicableProductTags && { applicable_product_tags: balance.applicableProductTags }),
    ...(balance.applicableContractIds && { applicable_contract_ids: balance.applicableContractIds }),
    ...(balance.contractId && { contract: { id: balance.contractId } }),
    ...(balance.name !== null && { name: balance.name }),
    ...(balance.description !== null && { description: balance.description }),
    ...(balance.archivedAt && { archived_at: toRfc3339(balance.archivedAt) }),
    ...(balance.recurringId && (isCredit ? { recurring_credit_id: balance.recurringId } : { recurring_commit_id: balance.recurringId })),
    ...(balance.rolledOverFrom && {
      rolled_over_from: isCredit
        ? { contract_id: balance.rolledOverFrom.contractId ?? '', credit_id: balance.rolledOverFrom.grantId }
        : { contract_id: balance.rolledOverFrom.contractId ?? '', commit_id: balance.rolledOverFrom.grantId },
    }),
    ...(balance.subscriptionConfig && {
      subscription_config: {
        subscription_id: balance.subscriptionConfig.subscriptionId,
        allocation: balance.subscriptionConfig.allocation,
        apply_seat_increase_config: { is_prorated: balance.subscriptionConfig.seatIncreaseProrated },
      },
    }),
    // Not in the SDK's shape: which seat a seat's own credit belongs to (docs/rules.md rule 29).
    ...(balance.seatId !== undefined && { seat_id: balance.seatId }),
    ...(includeBalance && { balance: wireNumber(balance.balance) }),
    ...(includeLedgers && { ledger: balance.segments.flatMap((segment) => segment.ledger.entries.map((entry) => toLedgerEntry(balance, segment.id, entry))) as never }),
  } as Shared.Credit & Shared.Commit;
}

/** A contract as `v2.contracts.retrieve` and `list` return it. */
export function toContractV2(
  view: ContractView,
  now: Date,
  names: Names,
  options: { includeBalance: boolean; includeLedgers: boolean },
): Shared.ContractV2 {
  const { contract } = view;
  return {
    id: contract.id,
    customer_id: contract.customer_id,
    created_at: toRfc3339(contract.created_at),
    created_by: 'api',
    starting_at: toRfc3339(contract.starting_at),
    ...(contract.ending_before && { ending_before: toRfc3339(contract.ending_before) }),
    ...(contract.name !== null && { name: contract.name }),
    ...(contract.rate_card_id && { rate_card_id: contract.rate_card_id }),
    ...(contract.net_payment_terms_days !== null && { net_payment_terms_days: contract.net_payment_terms_days }),
    ...(contract.uniqueness_key && { uniqueness_key: contract.uniqueness_key }),
    ...(contract.archived_at && { archived_at: toRfc3339(contract.archived_at) }),
    custom_fields: contract.custom_fields,
    usage_statement_schedule: { frequency: contract.statement_frequency, billing_anchor_date: toRfc3339(contract.statement_anchor) },
    subscriptions: view.subscriptions.map((s) => toSubscription(s, now, names)),
    recurring_credits: view.recurringCredits.map((r) => toRecurringGrant(r, names)),
    recurring_commits: view.recurringCommits.map((r) => toRecurringGrant(r, names)),
    credits: view.balances.filter((b) => b.kind === 'CREDIT').map((b) => toBalance(b, names, options)) as Shared.ContractV2.Credit[],
    commits: view.balances.filter((b) => b.kind === 'COMMIT').map((b) => toBalance(b, names, options)) as unknown as Shared.ContractV2.Commit[],
    multiplier_override_prioritization: contract.multiplier_override_prioritization,
    overrides: view.overrides.map((override) => toOverride(override, names)),
    ...(thresholdFieldsOf(view.thresholds) as Pick<Shared.ContractV2, 'prepaid_balance_threshold_configuration' | 'spend_threshold_configuration'>),
    scheduled_charges: [],
    transitions: [],
    usage_filter: [],
  };
}

/** v1's contract: the v2 view as `current`, and as `initial` (Allot keeps no amendments; edits are in getEditHistory). */
export function toContractV1(contract: Shared.ContractV2): Shared.Contract {
  // v1 types usage_filter as an object, not v2's list; Allot has none to show.
  const { id, customer_id, archived_at, custom_fields, uniqueness_key, subscriptions, usage_filter: _usageFilter, overrides, ...rest } = contract;
  const terms = { ...rest, overrides: overrides.map(toOverrideV1) } as unknown as Shared.ContractWithoutAmendments;
  return {
    id,
    customer_id,
    amendments: [],
    current: terms,
    initial: terms,
    ...(archived_at && { archived_at }),
    ...(custom_fields && { custom_fields }),
    ...(uniqueness_key && { uniqueness_key }),
    ...(subscriptions && { subscriptions: subscriptions as unknown as Shared.Subscription[] }),
    // v1 shows the threshold configurations on the contract itself too.
    ...(contract.prepaid_balance_threshold_configuration && { prepaid_balance_threshold_configuration: contract.prepaid_balance_threshold_configuration as Shared.PrepaidBalanceThresholdConfiguration }),
    ...(contract.spend_threshold_configuration && { spend_threshold_configuration: contract.spend_threshold_configuration as Shared.SpendThresholdConfiguration }),
  };
}
