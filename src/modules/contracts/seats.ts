import type { ServiceContext } from '../../lib/context.js';
import { NotFound, Invalid } from '../../lib/errors.js';
import { loadContracts, quantityRowsOfSeats, type LoadedContracts } from '../account/service.js';
import { findCustomerContract } from './lookup.js';
import type { QuantityChangeRow, SeatChangeRow } from './repo.js';

/**
 * The quantity changes of a contract's subscriptions once `newSeatChanges` are made: a SEAT_BASED
 * subscription's quantity follows its seats, so its derived changes are derived again.
 */
export function quantityChangesAfterSeatUpdates(loaded: Pick<LoadedContracts, 'changes' | 'seatChanges'>, newSeatChanges: readonly SeatChangeRow[]): QuantityChangeRow[] {
  const touched = new Set(newSeatChanges.map((change) => change.subscription_id));
  if (touched.size === 0) return loaded.changes;
  const all = [...loaded.seatChanges, ...newSeatChanges];
  return [
    ...loaded.changes.filter((change) => !touched.has(change.subscription_id)),
    ...[...touched].flatMap((subscriptionId) => quantityRowsOfSeats(subscriptionId, all.filter((change) => change.subscription_id === subscriptionId))),
  ];
}

export interface SeatsHistoryEntry {
  startingAt: Date;
  endingBefore: Date | null;
  assignedSeatIds: string[];
  totalQuantity: number;
}

/**
 * `v1.contracts.getSubscriptionSeatsHistory`: a SEAT_BASED subscription's seats over time, one
 * entry per instant they changed, each until the next (the last until the subscription's end,
 * null when it has none), in time order. `coveringDate` keeps the entry in force then; a range
 * keeps the entries active at some instant of `[startingAt, endingBefore]`. Pages of `limit`
 * (at most 10), the cursor being the position of the next entry.
 */
export async function subscriptionSeatsHistory(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    contractId,
    subscriptionId,
    coveringDate,
    startingAt,
    endingBefore,
    limit = 10,
    cursor,
  }: {
    tenantId: string;
    customerId: string;
    contractId: string;
    subscriptionId: string;
    coveringDate?: Date | null | undefined;
    startingAt?: Date | null | undefined;
    endingBefore?: Date | null | undefined;
    limit?: number | null | undefined;
    cursor?: string | null | undefined;
  },
): Promise<{ entries: SeatsHistoryEntry[]; nextPage: string | null }> {
  const contract = await findCustomerContract(ctx, tenantId, customerId, contractId);
  const loaded = await loadContracts(ctx, tenantId, [contract]);
  const subscription = loaded.subscriptions.find((s) => s.id === subscriptionId);
  if (!subscription) throw new NotFound(`No subscription ${subscriptionId} on contract ${contractId}`);
  if (!subscription.seats) throw new Invalid('subscription_id', `subscription ${subscriptionId} is QUANTITY_ONLY; its quantity history is getSubscriptionQuantityHistory`);
  const steps = subscription.seats.steps;
  const all = steps.map((step, i): SeatsHistoryEntry => ({
    startingAt: step.startingAt,
    endingBefore: steps[i + 1]?.startingAt ?? subscription.ending_before,
    assignedSeatIds: step.assigned,
    totalQuantity: step.quantity,
  }));
  const active = (entry: SeatsHistoryEntry, from: Date, to: Date) => entry.startingAt <= to && (!entry.endingBefore || entry.endingBefore > from);
  const kept = coveringDate
    ? all.filter((entry) => entry.startingAt <= coveringDate && (!entry.endingBefore || entry.endingBefore > coveringDate))
    : all.filter((entry) => active(entry, startingAt ?? new Date(-8.64e15), endingBefore ?? new Date(8.64e15)));
  const from = cursor ? Number(cursor) : 0;
  if (!Number.isInteger(from) || from < 0) throw new Invalid('cursor', 'is not a cursor this endpoint returned');
  const size = limit ?? 10;
  return { entries: kept.slice(from, from + size), nextPage: from + size < kept.length ? String(from + size) : null };
}
