import { Decimal } from '../../../lib/money.js';
import { periodAt, type Period, type PeriodSchedule } from '../../../lib/periods.js';
import { MAX_QUANTITY, quantitySchedule, type QuantityChange, type QuantityStep } from '../../../lib/quantitySchedule.js';
import { quantityChangesOfSeats, seatSchedule, type SeatChange, type SeatStep } from '../../../lib/seatSchedule.js';
import type * as repo from '../../contracts/repo.js';
import type { RecurringSource } from './balances.js';
import { recurringGrantSchedule, subscriptionSchedule } from '../../../lib/contractSchedules.js';

/** Contracts as stored, with their subscriptions' quantity schedules and the recurring grant sources they define. */

export type Contract = repo.ContractRow;
export type Subscription = repo.SubscriptionRow & {
  schedule: PeriodSchedule;
  changes: QuantityChange[];
  steps: QuantityStep[];
  /** A SEAT_BASED subscription's seat changes and the steps they fold into (its quantity changes are derived from them); null otherwise. */
  seats: SubscriptionSeats | null;
  /** The periods of the recurring grants linked to it that recur on their own frequency, not its billing frequency. */
  ownFrequencyCredits: PeriodSchedule[];
};
export type RecurringGrant = repo.RecurringGrantRow;

export interface SubscriptionSeats {
  groupKey: string;
  changes: SeatChange[];
  steps: SeatStep[];
}

/** A stored seat change as the seat schedule reads it. */
export function toSeatChange(row: repo.SeatChangeRow): SeatChange & { row: repo.SeatChangeRow } {
  return { startingAt: row.starting_at, sequence: row.sequence, action: row.action, seatIds: row.seat_ids, quantity: row.quantity, recordedAt: row.created_at, row };
}

/** The quantity change rows a SEAT_BASED subscription's seat changes make (never stored: derived on every read). */
export function quantityRowsOfSeats(subscriptionId: string, seatChanges: readonly repo.SeatChangeRow[]): repo.QuantityChangeRow[] {
  return quantityChangesOfSeats(seatChanges.map(toSeatChange)).map((change) => ({
    subscription_id: subscriptionId,
    sequence: change.sequence,
    starting_at: change.startingAt,
    quantity: change.quantity ?? 0,
    quantity_delta: null,
    created_at: change.recordedAt ?? change.startingAt,
  }));
}

function seatsOf(row: repo.SubscriptionRow, seatChanges: readonly repo.SeatChangeRow[]): SubscriptionSeats | null {
  if (row.quantity_management_mode !== 'SEAT_BASED') return null;
  const changes = seatChanges.filter((c) => c.subscription_id === row.id).map(toSeatChange);
  const result = seatSchedule(changes);
  // Every change was checked against the schedule before it was written.
  if (!result.ok) throw new Error(`The stored seat schedule of subscription ${row.id} assigns ${result.seatId} twice`);
  return { groupKey: row.seat_group_key ?? '', changes, steps: result.steps };
}

function stepsOf(subscriptionId: string, changes: readonly QuantityChange[]): QuantityStep[] {
  const result = quantitySchedule(changes);
  // Every change was checked against the schedule before it was written.
  if (!result.ok) throw new Error(`The stored quantity schedule of subscription ${subscriptionId} leaves 0..${MAX_QUANTITY} at ${result.change.startingAt.toISOString()}`);
  return result.steps;
}

export interface LoadedContracts {
  contracts: Contract[];
  subscriptions: Subscription[];
  recurring: RecurringGrant[];
  /** Quantity changes: as stored, and those of SEAT_BASED subscriptions derived from their seats. */
  changes: repo.QuantityChangeRow[];
  seatChanges: repo.SeatChangeRow[];
  /** Changes of the recurring grants' amounts, by grant then `effective_from`. */
  amounts: repo.RecurringGrantAmountRow[];
  sources: RecurringSource[];
  /** The contracts' overrides of their rate cards' usage prices, as stored. */
  overrides: repo.ContractOverrideRow[];
}

/** The usage statement periods of a contract. */
export function statementScheduleOf(contract: Contract): PeriodSchedule {
  return { anchor: contract.statement_anchor, frequency: contract.statement_frequency, startingAt: contract.starting_at, endingBefore: contract.ending_before };
}

/** The contract's usage statement period containing `at` (its billing period), if any. */
export function statementPeriodAt(contract: Contract, at: Date): Period | undefined {
  return periodAt(statementScheduleOf(contract), at);
}

/** A stored quantity change as the schedule math reads it. */
export function toQuantityChange(row: repo.QuantityChangeRow): QuantityChange & { row: repo.QuantityChangeRow } {
  return { startingAt: row.starting_at, sequence: row.sequence, quantity: row.quantity, quantityDelta: row.quantity_delta, recordedAt: row.created_at, row };
}

/** The terms of `contracts` as the account reads them: each subscription's quantity schedule, and the recurring grant sources. */
export function contractTerms(
  contracts: Contract[],
  terms: {
    subscriptions: repo.SubscriptionRow[];
    changes: repo.QuantityChangeRow[];
    seatChanges?: repo.SeatChangeRow[];
    recurring: repo.RecurringGrantRow[];
    amounts?: repo.RecurringGrantAmountRow[];
    overrides: repo.ContractOverrideRow[];
  },
): LoadedContracts {
  const amounts = [...(terms.amounts ?? [])].sort((a, b) => a.effective_from.getTime() - b.effective_from.getTime());
  const seatChanges = terms.seatChanges ?? [];
  // A SEAT_BASED subscription's quantity follows its seats: its quantity changes are derived from them.
  const allChanges = [
    ...terms.changes,
    ...terms.subscriptions.filter((row) => row.quantity_management_mode === 'SEAT_BASED').flatMap((row) => quantityRowsOfSeats(row.id, seatChanges.filter((c) => c.subscription_id === row.id))),
  ];
  const subscriptions: Omit<Subscription, 'ownFrequencyCredits'>[] = terms.subscriptions.map((row) => {
    const changes = allChanges.filter((c) => c.subscription_id === row.id).map(toQuantityChange);
    return {
      ...row,
      seats: seatsOf(row, seatChanges),
      schedule: subscriptionSchedule({ billingAnchor: row.billing_anchor, billingFrequency: row.billing_frequency, startingAt: row.starting_at, endingBefore: row.ending_before }),
      changes,
      steps: stepsOf(row.id, changes),
    };
  });
  const contractsById = new Map(contracts.map((c) => [c.id, c]));
  const sources = terms.recurring.map((grant): RecurringSource => {
    const contract = contractsById.get(grant.contract_id)!;
    const subscription = grant.subscription_id ? subscriptions.find((s) => s.id === grant.subscription_id) : undefined;
    return {
      terms: {
        kind: grant.kind,
        customerId: grant.customer_id,
        contractId: grant.contract_id,
        productId: grant.product_id,
        creditTypeId: grant.credit_type_id,
        priority: new Decimal(grant.priority),
        applicableProductIds: grant.applicable_product_ids,
        applicableProductTags: grant.applicable_product_tags,
        applicableContractIds: null,
        rateType: grant.rate_type,
        name: grant.name,
        description: grant.description,
        customFields: {},
        createdAt: grant.created_at,
        archivedAt: contract.archived_at,
        subscriptionConfig: grant.subscription_id
          ? { subscriptionId: grant.subscription_id, allocation: grant.allocation, seatIncreaseProrated: grant.seat_increase_prorated ?? false }
          : null,
      },
      source: {
        id: grant.id,
        terms: {
          unitPrice: new Decimal(grant.unit_price),
          proration: grant.proration,
          seatIncrease: subscription ? { isProrated: grant.seat_increase_prorated ?? false } : null,
        },
        schedule: recurringGrantSchedule({
          grant: { startingAt: grant.starting_at, endingBefore: grant.ending_before, recurrenceFrequency: grant.recurrence_frequency },
          statements: statementScheduleOf(contract),
          contractEndingBefore: contract.ending_before,
          subscription: subscription?.schedule ?? null,
        }),
        fixedQuantity: grant.quantity === null ? null : new Decimal(grant.quantity),
        amountChanges: amounts
          .filter((row) => row.recurring_grant_id === grant.id)
          .map((row) => ({ from: row.effective_from, unitPrice: new Decimal(row.unit_price), quantity: row.quantity === null ? null : new Decimal(row.quantity) })),
        seats: subscription && grant.allocation === 'POOLED' ? { changes: subscription.changes, steps: subscription.steps } : null,
        perSeat: grant.allocation === 'INDIVIDUAL' && subscription?.seats ? { changes: subscription.seats.changes, steps: subscription.seats.steps } : null,
        durationPeriods: grant.duration_periods,
        rolloverFraction: grant.rollover_fraction === null ? null : new Decimal(grant.rollover_fraction),
      },
    };
  });
  const withCredits = subscriptions.map((subscription): Subscription => ({
    ...subscription,
    ownFrequencyCredits: sources
      .filter(({ terms, source }) => terms.subscriptionConfig?.subscriptionId === subscription.id && source.schedule.frequency !== subscription.schedule.frequency)
      .map(({ source }) => source.schedule),
  }));
  return { contracts, subscriptions: withCredits, recurring: terms.recurring, changes: allChanges, seatChanges, amounts, sources, overrides: terms.overrides };
}

/**
 * A recurring grant as it stands after its last amount change: the row with `unit_price` and
 * `quantity` of the latest change (the amount its periods get from then on), or as created.
 */
export function withLatestAmount(grant: repo.RecurringGrantRow, amounts: readonly repo.RecurringGrantAmountRow[]): repo.RecurringGrantRow {
  const latest = amounts.filter((row) => row.recurring_grant_id === grant.id).at(-1);
  return latest ? { ...grant, unit_price: latest.unit_price, quantity: latest.quantity } : grant;
}

export function archivedContracts(contracts: readonly Contract[]): Map<string, Date> {
  return new Map(contracts.flatMap((c) => (c.archived_at ? [[c.id, c.archived_at] as const] : [])));
}

