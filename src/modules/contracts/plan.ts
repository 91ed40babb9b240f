import type { ServiceContext } from '../../lib/context.js';
import type { Problems } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { Decimal, toNumericText } from '../../lib/money.js';
import { quantityAt, quantitySchedule } from '../../lib/quantitySchedule.js';
import type { NewGrant } from '../credits/service.js';
import * as pricing from '../pricing/service.js';
import { linkedFrequencyProblem, statementAnchor } from '../../lib/contractSchedules.js';
import type { Frequency } from '../../lib/periods.js';
import { quantityRowsOfSeats, toQuantityChange } from '../account/service.js';
import type { ContractRow, QuantityChangeRow, RecurringGrantRow, SeatChangeRow, SubscriptionRow } from './repo.js';
import { seatGroupKeyProblem } from './seatPlan.js';
import type { CommitInput, CreditInput, RecurringGrantInput, SubscriptionInput } from './schemas.js';

/** What a create or an edit adds to a contract, with the request field each part came from. */
export interface Additions {
  subscriptions?: { field: string; items: SubscriptionInput[] } | undefined;
  recurringCredits?: { field: string; items: RecurringGrantInput[] } | undefined;
  recurringCommits?: { field: string; items: RecurringGrantInput[] } | undefined;
  credits?: { field: string; items: CreditInput[] } | undefined;
  commits?: { field: string; items: CommitInput[] } | undefined;
}

/** The rows an addition writes: validated, with ids, ready to insert in one transaction. */
export interface AdditionPlan {
  subscriptions: SubscriptionRow[];
  changes: QuantityChangeRow[];
  /** The initial seats of SEAT_BASED subscriptions. */
  seatChanges: SeatChangeRow[];
  recurring: RecurringGrantRow[];
  grants: NewGrant[];
}

export function contractStatementAnchor(contract: Pick<ContractRow, 'starting_at' | 'statement_day' | 'statement_frequency'>, billingAnchorDate: Date | null): Date {
  return statementAnchor({ startingAt: contract.starting_at, day: contract.statement_day, frequency: contract.statement_frequency, billingAnchorDate });
}

/** Whether `value` lies from `notBefore` to the contract's end; otherwise a problem naming `field`. */
export function within(problems: Problems, field: string, value: Date, contract: ContractRow, { notBefore }: { notBefore: Date }): boolean {
  if (!problems.check(value >= notBefore, field, `must not be before ${notBefore.toISOString()}`)) return false;
  return problems.check(!contract.ending_before || value <= contract.ending_before, field, () => `must not be after the contract's end, ${contract.ending_before!.toISOString()}`);
}

/** The product `productId` among `products`, live and of `type` when given; otherwise undefined, with a problem naming `field`. */
export function checkProduct(problems: Problems, products: Map<string, pricing.Product>, field: string, productId: string, type?: pricing.ProductType): pricing.Product | undefined {
  const found = products.get(productId);
  if (!problems.check(found !== undefined, field, `no product with id ${productId}`)) return undefined;
  if (!problems.check(!found!.archivedAt, field, `product ${productId} is archived`)) return undefined;
  if (!problems.check(!type || found!.type === type, field, `must be a ${type} product; ${productId} is ${found!.type}`)) return undefined;
  return found;
}

/** Whether `creditTypeId` is among `creditTypes`; otherwise a problem naming `field`. */
export function checkCreditType(problems: Problems, creditTypes: Map<string, pricing.CreditType>, field: string, creditTypeId: string): boolean {
  return problems.check(creditTypes.has(creditTypeId), field, `no pricing unit with id ${creditTypeId}`);
}

/** The requests' lists of additions, each with the field it came from (`add_` lists in edits). */
export function additionsFrom(
  lists: {
    subscriptions?: SubscriptionInput[] | undefined;
    recurring_credits?: RecurringGrantInput[] | undefined;
    recurring_commits?: RecurringGrantInput[] | undefined;
    credits?: CreditInput[] | undefined;
    commits?: CommitInput[] | undefined;
  },
  prefix: '' | 'add_',
): Additions {
  const part = <T>(name: string, items: T[] | undefined) => items && { field: `${prefix}${name}`, items };
  return {
    subscriptions: part('subscriptions', lists.subscriptions),
    recurringCredits: part('recurring_credits', lists.recurring_credits),
    recurringCommits: part('recurring_commits', lists.recurring_commits),
    credits: part('credits', lists.credits),
    commits: part('commits', lists.commits),
  };
}

/**
 * Validates what a create or an edit adds and builds its rows. Products, credit types and the
 * rate card are checked against the pricing catalog; `notBefore` is the earliest instant an
 * addition may start (the contract's start on create; the open period's start on edit, so that
 * nothing changes a period already past). A recurring grant's `subscription_config` names a
 * subscription by id (one already on the contract) or by the `temporary_id` of one added with it.
 *
 * Every problem goes to `problems`, those of every item of every list, and the plan is only good
 * to write when there are none. A check that needs an earlier one to pass is skipped when it
 * failed: a subscription's rate is not looked up when its product is refused, nor when the
 * contract's `rate_card_id` is (a problem at `rate_card_id` already in `problems`).
 */
export async function planAdditions(
  ctx: ServiceContext,
  {
    tenantId,
    contract,
    existingSubscriptions,
    additions,
    notBefore,
    existingChanges = [],
    problems,
  }: {
    tenantId: string;
    contract: ContractRow;
    existingSubscriptions: readonly SubscriptionRow[];
    /** The quantity changes of `existingSubscriptions`, those an edit makes included. */
    existingChanges?: readonly QuantityChangeRow[];
    additions: Additions;
    notBefore: Date;
    problems: Problems;
  },
): Promise<AdditionPlan> {
  const now = ctx.clock.now();
  const plan: AdditionPlan = { subscriptions: [], changes: [], seatChanges: [], recurring: [], grants: [] };
  const productIds = new Set<string>();
  for (const sub of additions.subscriptions?.items ?? []) productIds.add(sub.subscription_rate.product_id);
  for (const group of [additions.recurringCredits, additions.recurringCommits, additions.credits, additions.commits]) {
    for (const item of group?.items ?? []) {
      productIds.add(item.product_id);
      for (const applicable of item.applicable_product_ids ?? []) productIds.add(applicable);
    }
  }
  const creditTypeIds = [
    ...[...(additions.recurringCredits?.items ?? []), ...(additions.recurringCommits?.items ?? [])].map((item) => item.access_amount.credit_type_id),
    ...[...(additions.credits?.items ?? []), ...(additions.commits?.items ?? [])].map((item) => item.access_schedule.credit_type_id ?? pricing.USD_CREDIT_TYPE_ID),
  ];
  const [products, creditTypes] = await Promise.all([
    pricing.findProducts(ctx, { tenantId, productIds: [...productIds] }),
    pricing.findCreditTypes(ctx, { tenantId, creditTypeIds: [...new Set(creditTypeIds)] }),
  ]);
  const product = (field: string, productId: string, type?: pricing.ProductType) => checkProduct(problems, products, field, productId, type);

  // Subscriptions first: recurring grants may name them by temporary_id.
  const byReference = new Map<string, SubscriptionRow>(existingSubscriptions.map((s) => [s.id, s]));
  for (const [index, input] of (additions.subscriptions?.items ?? []).entries()) {
    const field = `${additions.subscriptions!.field}.${index}`;
    const rate = input.subscription_rate;
    const subscriptionProduct = product(`${field}.subscription_rate.product_id`, rate.product_id, 'SUBSCRIPTION');
    const startingAt = input.starting_at ?? contract.starting_at;
    const endingBefore = input.ending_before ?? contract.ending_before;
    const startFits =
      problems.check(
        input.starting_at !== undefined || startingAt >= notBefore,
        `${field}.starting_at`,
        `is required here: it defaults to the contract's start, which is before ${notBefore.toISOString()}`,
      ) && within(problems, `${field}.starting_at`, startingAt, contract, { notBefore });
    if (problems.check(!endingBefore || endingBefore > startingAt, `${field}.ending_before`, 'must be after starting_at') && input.ending_before) {
      within(problems, `${field}.ending_before`, input.ending_before, contract, { notBefore: startingAt });
    }
    const rateCardId = contract.rate_card_id;
    if (problems.check(rateCardId !== null, `${field}.subscription_rate`, 'a subscription needs the contract to have a rate_card_id') && subscriptionProduct && startFits && !problems.has('rate_card_id')) {
      const rates = await pricing.ratesInForce(ctx, { tenantId, rateCardId: rateCardId!, at: startingAt, productIds: [rate.product_id] });
      problems.check(
        rates.some((r) => pricing.isSeatRate(r) && r.billingFrequency === rate.billing_frequency),
        `${field}.subscription_rate.billing_frequency`,
        `the rate card has no ${rate.billing_frequency} rate for subscription product ${rate.product_id} at ${startingAt.toISOString()}`,
      );
    }
    problems.check(!input.temporary_id || !byReference.has(input.temporary_id), `${field}.temporary_id`, 'is used twice');
    const seatConfig = input.quantity_management_mode === 'SEAT_BASED' ? input.seat_config : undefined;
    if (seatConfig) {
      const keyProblem = seatGroupKeyProblem(seatConfig.seat_group_key, [...byReference.values()]);
      if (keyProblem) problems.add(`${field}.seat_config.seat_group_key`, keyProblem);
    }
    const row: SubscriptionRow = {
      id: newId(),
      contract_id: contract.id,
      customer_id: contract.customer_id,
      product_id: rate.product_id,
      billing_frequency: rate.billing_frequency,
      collection_schedule: input.collection_schedule,
      is_prorated: input.proration.is_prorated ?? true,
      invoice_behavior: input.proration.invoice_behavior ?? 'BILL_ON_NEXT_COLLECTION_DATE',
      billing_anchor: input.billing_cycle_config?.anchor_date ?? contract.statement_anchor,
      invoice_placement: input.billing_cycle_config?.invoice_placement ?? 'ON_USAGE_INVOICE',
      starting_at: startingAt,
      ending_before: endingBefore,
      name: input.name ?? null,
      description: input.description ?? null,
      custom_fields: input.custom_fields ?? {},
      created_at: now,
      quantity_management_mode: seatConfig ? 'SEAT_BASED' : 'QUANTITY_ONLY',
      seat_group_key: seatConfig?.seat_group_key ?? null,
    };
    plan.subscriptions.push(row);
    if (seatConfig) {
      // The initial seats: ids first, then unassigned seats, so the quantity is their sum.
      plan.seatChanges.push({ subscription_id: row.id, sequence: 0, starting_at: startingAt, action: 'ADD_SEATS', seat_ids: seatConfig.initial_seat_ids, quantity: null, created_at: now });
      if (seatConfig.initial_unassigned_seats) {
        plan.seatChanges.push({ subscription_id: row.id, sequence: 1, starting_at: startingAt, action: 'ADD_UNASSIGNED', seat_ids: null, quantity: seatConfig.initial_unassigned_seats, created_at: now });
      }
    } else {
      plan.changes.push({ subscription_id: row.id, sequence: 0, starting_at: startingAt, quantity: input.initial_quantity ?? 0, quantity_delta: null, created_at: now });
    }
    byReference.set(row.id, row);
    if (input.temporary_id) byReference.set(input.temporary_id, row);
  }

  for (const [kind, group] of [
    ['CREDIT', additions.recurringCredits],
    ['COMMIT', additions.recurringCommits],
  ] as const) {
    for (const [index, input] of (group?.items ?? []).entries()) {
      const field = `${group!.field}.${index}`;
      product(`${field}.product_id`, input.product_id, 'FIXED');
      (input.applicable_product_ids ?? []).forEach((id, i) => product(`${field}.applicable_product_ids.${i}`, id));
      checkCreditType(problems, creditTypes, `${field}.access_amount.credit_type_id`, input.access_amount.credit_type_id);
      within(problems, `${field}.starting_at`, input.starting_at, contract, { notBefore });
      if (input.ending_before) within(problems, `${field}.ending_before`, input.ending_before, contract, { notBefore: input.starting_at });
      let subscription: SubscriptionRow | null = null;
      if (input.subscription_config) {
        const reference = input.subscription_config.subscription_id;
        subscription = byReference.get(reference) ?? null;
        problems.check(subscription !== null, `${field}.subscription_config.subscription_id`, `no subscription with id or temporary_id ${reference} on this contract`);
      }
      if (subscription) {
        const problem = input.recurrence_frequency
          ? linkedFrequencyProblem({ credit: input.recurrence_frequency as Frequency, subscription: subscription.billing_frequency })
          : null;
        if (problem) problems.add(`${field}.recurrence_frequency`, problem);
        const individual = input.subscription_config?.allocation === 'INDIVIDUAL';
        if (individual) {
          problems.check(
            subscription.quantity_management_mode === 'SEAT_BASED',
            `${field}.subscription_config.allocation`,
            `INDIVIDUAL needs a SEAT_BASED subscription (one credit per seat id); ${subscription.id} is QUANTITY_ONLY`,
          );
          problems.check(input.access_amount.quantity === undefined, `${field}.access_amount.quantity`, 'must be left out for INDIVIDUAL allocation: each seat gets unit_price');
        }
        // The seats are read from the quantity changes, which are only settled once those of the edit passed.
        if (input.access_amount.quantity !== undefined && !individual && !problems.has('update_subscriptions')) {
          const linked = subscription.id;
          const seatRows = quantityRowsOfSeats(linked, plan.seatChanges.filter((change) => change.subscription_id === linked));
          const schedule = quantitySchedule([...existingChanges, ...plan.changes, ...seatRows].filter((change) => change.subscription_id === linked).map(toQuantityChange));
          const seats = schedule.ok ? quantityAt(schedule.steps, input.starting_at) : 0;
          problems.check(
            input.access_amount.quantity.eq(seats),
            `${field}.access_amount.quantity`,
            `must be ${seats}, the linked subscription's quantity at starting_at, or be left out: the subscription's quantity sets the pool`,
          );
        }
      }
      plan.recurring.push({
        id: newId(),
        contract_id: contract.id,
        customer_id: contract.customer_id,
        kind,
        product_id: input.product_id,
        credit_type_id: input.access_amount.credit_type_id,
        unit_price: toNumericText(input.access_amount.unit_price),
        // A linked grant's quantity is the subscription's: the one sent only had to agree with it.
        quantity: input.access_amount.quantity && !subscription ? toNumericText(input.access_amount.quantity) : null,
        priority: toNumericText(input.priority),
        applicable_product_ids: input.applicable_product_ids ?? null,
        applicable_product_tags: input.applicable_product_tags ?? null,
        starting_at: input.starting_at,
        ending_before: input.ending_before ?? null,
        // A linked grant without its own frequency recurs on the subscription's.
        recurrence_frequency: (input.recurrence_frequency as RecurringGrantRow['recurrence_frequency']) ?? subscription?.billing_frequency ?? null,
        proration: input.proration ?? 'FIRST_AND_LAST',
        rollover_fraction: input.rollover_fraction ? toNumericText(input.rollover_fraction) : null,
        duration_periods: input.commit_duration.value,
        subscription_id: subscription?.id ?? null,
        seat_increase_prorated: input.subscription_config ? input.subscription_config.apply_seat_increase_config.is_prorated : null,
        allocation: input.subscription_config?.allocation ?? 'POOLED',
        rate_type: input.rate_type ?? 'LIST_RATE',
        name: input.name ?? null,
        description: input.description ?? null,
        created_at: now,
      });
    }
  }

  for (const [kind, group] of [
    ['CREDIT', additions.credits],
    ['COMMIT', additions.commits],
  ] as const) {
    for (const [index, input] of (group?.items ?? []).entries()) {
      const field = `${group!.field}.${index}`;
      plan.grants.push(
        await planOneOffGrant(ctx, {
          tenantId,
          field,
          kind,
          input,
          customerId: contract.customer_id,
          contractId: contract.id,
          applicableContractIds: null,
          products,
          creditTypes,
          window: { contract, notBefore },
          problems,
        }),
      );
    }
  }
  return plan;
}

/** A one-off credit or commit, on a contract or on the customer, validated against the catalog. */
export async function planOneOffGrant(
  ctx: ServiceContext,
  {
    tenantId,
    field,
    kind,
    input,
    customerId,
    contractId,
    applicableContractIds,
    products,
    creditTypes,
    window,
    problems,
  }: {
    tenantId: string;
    field: string;
    kind: 'CREDIT' | 'COMMIT';
    input: CreditInput;
    customerId: string;
    contractId: string | null;
    applicableContractIds: string[] | null;
    /** The products the grant names, when the caller has already looked them up. */
    products?: Map<string, pricing.Product> | undefined;
    /** The pricing units it names, when the caller has already looked them up. */
    creditTypes?: Map<string, pricing.CreditType> | undefined;
    /** For a grant on a contract: its segments must lie within the contract, from `notBefore` on. */
    window?: { contract: ContractRow; notBefore: Date } | undefined;
    /** Where each problem of the grant goes; the grant is only good to write when there are none. */
    problems: Problems;
  },
): Promise<NewGrant> {
  const prefix = field ? `${field}.` : '';
  input.access_schedule.schedule_items.forEach((item, i) => {
    if (!window) return;
    const at = `${prefix}access_schedule.schedule_items.${i}`;
    within(problems, `${at}.starting_at`, item.starting_at, window.contract, { notBefore: window.notBefore });
    within(problems, `${at}.ending_before`, item.ending_before, window.contract, { notBefore: window.notBefore });
  });
  const known = products ?? (await pricing.findProducts(ctx, { tenantId, productIds: [input.product_id, ...(input.applicable_product_ids ?? [])] }));
  checkProduct(problems, known, `${prefix}product_id`, input.product_id, 'FIXED');
  (input.applicable_product_ids ?? []).forEach((id, i) => checkProduct(problems, known, `${prefix}applicable_product_ids.${i}`, id));
  const creditTypeId = input.access_schedule.credit_type_id ?? pricing.USD_CREDIT_TYPE_ID;
  checkCreditType(problems, creditTypes ?? (await pricing.findCreditTypes(ctx, { tenantId, creditTypeIds: [creditTypeId] })), `${prefix}access_schedule.credit_type_id`, creditTypeId);
  return {
    kind,
    customerId,
    contractId,
    productId: input.product_id,
    creditTypeId,
    priority: input.priority ?? new Decimal(0),
    applicableProductIds: input.applicable_product_ids ?? null,
    applicableProductTags: input.applicable_product_tags ?? null,
    applicableContractIds,
    rateType: input.rate_type ?? 'LIST_RATE',
    name: input.name ?? null,
    description: input.description ?? null,
    customFields: input.custom_fields ?? {},
    segments: input.access_schedule.schedule_items.map((item) => ({ startingAt: item.starting_at, endingBefore: item.ending_before, amount: item.amount })),
  };
}
