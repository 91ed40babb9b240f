import { quantityAt, type QuantityStep } from '../../../lib/quantitySchedule.js';

/** What a Stripe subscription event says about the linked price. */
export interface SubscriptionEventFacts {
  type: 'customer.subscription.updated' | 'customer.subscription.deleted';
  /** The event's `created` time. */
  created: Date;
  /** The subscription's items: each price id with its quantity. */
  items: { priceId: string; quantity: number }[];
  /** Stripe left some items out of the event (`items.has_more`). */
  itemsIncomplete?: boolean | undefined;
}

export type SeatDecision =
  | { kind: 'ignore'; reason: string }
  | { kind: 'unchanged'; quantity: number; startingAt: Date; aheadOfClock: boolean }
  | { kind: 'change'; quantity: number; startingAt: Date; aheadOfClock: boolean };

/**
 * What a Stripe subscription event does to the linked Allot subscription. The quantity is that of
 * the item with the linked price (0 when the subscription was deleted or no longer has the price;
 * an event whose embedded items are incomplete and miss the price is ignored).
 * It takes effect at the event's `created` time exactly (quantity changes fall at any instant), but never before the start of
 * the subscription's open period (`quantityChangesOpenFrom` of `lib/contractSchedules.ts`, null when the subscription has ended).
 * An event dated ahead of Allot's clock (`now`; a Stripe event of today reaching a server on a
 * test clock in 2024) takes effect now, and `aheadOfClock` says so: a change is never scheduled
 * in Allot's future, and the instant recorded as applied is the one it took effect at, so later
 * events are compared with that. An event older than the last one applied (`lastAppliedCreated`)
 * is ignored: the newest Stripe state wins. If the quantity in force at that instant already
 * matches, nothing changes.
 *
 * 100 seats, updated to 110 by an event created 2024-04-16T12:30:00Z: 110 from 2024-04-16T12:30:00Z.
 * The same event reaching a server whose clock stands at 2024-04-10: 110 from 2024-04-10.
 */
export function decideSeatChange({
  event,
  stripePriceId,
  lastAppliedCreated,
  openPeriodStart,
  steps,
  now,
}: {
  event: SubscriptionEventFacts;
  now: Date;
  stripePriceId: string;
  lastAppliedCreated: Date | null;
  openPeriodStart: Date | null;
  steps: readonly QuantityStep[];
}): SeatDecision {
  const aheadOfClock = event.created > now;
  const at = aheadOfClock ? now : event.created;
  if (lastAppliedCreated && at < lastAppliedCreated) {
    return { kind: 'ignore', reason: `older than the last event applied (created ${lastAppliedCreated.toISOString()})` };
  }
  if (!openPeriodStart) return { kind: 'ignore', reason: 'the Allot subscription has ended' };
  const item = event.items.find((candidate) => candidate.priceId === stripePriceId);
  // Stripe embeds a page of the items: a price missing from an incomplete page says nothing about it.
  if (event.type !== 'customer.subscription.deleted' && !item && event.itemsIncomplete) {
    return { kind: 'ignore', reason: `the event's items do not include ${stripePriceId} and Stripe left some out (has_more)` };
  }
  const quantity = event.type === 'customer.subscription.deleted' ? 0 : (item?.quantity ?? 0);
  const startingAt = at < openPeriodStart ? openPeriodStart : at;
  if (quantityAt(steps, startingAt) === quantity) return { kind: 'unchanged', quantity, startingAt, aheadOfClock };
  return { kind: 'change', quantity, startingAt, aheadOfClock };
}

/** The unassigned-seat change that brings a SEAT_BASED subscription to Stripe's quantity; `short`: seat ids Stripe's quantity leaves no room for. */
export interface UnassignedSeatChange {
  add: number;
  remove: number;
  /** Seat ids assigned in Allot beyond Stripe's quantity: they stay (only their holder frees a seat id), and the unassigned seats go to 0. */
  short: number;
}

/**
 * A SEAT_BASED subscription's quantity is its assigned seat ids plus its unassigned seats (rule
 * 28); Stripe knows only the total. Stripe's quantity moves the unassigned seats: 3 seat ids and 2
 * unassigned (5) → Stripe says 8: add 3 unassigned; Stripe says 4: remove 1; Stripe says 2: remove
 * both, and 1 seat id is short (Allot never drops an assigned seat on Stripe's word).
 */
export function unassignedSeatChange({ assigned, unassigned, quantity }: { assigned: number; unassigned: number; quantity: number }): UnassignedSeatChange {
  const target = Math.max(quantity - assigned, 0);
  return { add: Math.max(target - unassigned, 0), remove: Math.max(unassigned - target, 0), short: Math.max(assigned - quantity, 0) };
}
