import { inTransaction, type ServiceContext } from '../../lib/context.js';
import { AppError } from '../../lib/errors.js';
import { quantityChangesOpenFrom } from '../../lib/contractSchedules.js';
import { seatStepAt } from '../../lib/seatSchedule.js';
import * as contracts from '../contracts/service.js';
import { decideSeatChange, unassignedSeatChange, type SubscriptionEventFacts } from './compute/seatChange.js';
import * as repo from './repo.js';

/** The Stripe event types that move seats; every other type is acknowledged and ignored. */
export const SEAT_EVENT_TYPES = ['customer.subscription.updated', 'customer.subscription.deleted'] as const;

export interface SubscriptionEvent {
  id: string;
  type: (typeof SEAT_EVENT_TYPES)[number];
  /** Unix seconds, as Stripe sends it. */
  created: number;
  stripeSubscriptionId: string;
  items: { priceId: string; quantity: number }[];
  /** Stripe left some items out of the event (`items.has_more`). */
  itemsIncomplete?: boolean | undefined;
}

export interface SubscriptionEventResult {
  /** False when the event id was handled before (a redelivery): nothing was done. */
  firstDelivery: boolean;
  /** What happened to each linked subscription, e.g. `…: quantity 110 from 2024-04-16T00:00:00.000Z`. */
  outcome: string;
}

/**
 * Applies a verified Stripe subscription event to every Allot subscription linked to its
 * subscription, in one transaction with the record of the event id, so a redelivered event
 * changes nothing and a failure leaves no trace but the failure's outcome. See the README for
 * the rules (the event's instant, the open period, out-of-order events).
 */
export async function handleSubscriptionEvent(ctx: ServiceContext, event: SubscriptionEvent): Promise<SubscriptionEventResult> {
  const created = new Date(event.created * 1000);
  const facts: SubscriptionEventFacts = { type: event.type, created, items: event.items, itemsIncomplete: event.itemsIncomplete };
  return inTransaction(ctx, async (txContext) => {
    const now = ctx.clock.now();
    const first = await repo.insertProcessedEvent(txContext.db, { event_id: event.id, type: event.type, created, outcome: 'pending', processed_at: now });
    if (!first) {
      const previous = await repo.findProcessedEvent(txContext.db, event.id);
      return { firstDelivery: false, outcome: `already handled: ${previous?.outcome ?? 'unknown'}` };
    }
    const links = await repo.lockLinksOfStripeSubscription(txContext.db, event.stripeSubscriptionId);
    const outcomes: string[] = [];
    if (links.length === 0) outcomes.push(`ignored: no Allot subscription is linked to ${event.stripeSubscriptionId}`);
    for (const link of links) {
      const outcome = await applyToLink(txContext, { link, event, facts, now });
      outcomes.push(`subscription ${link.subscription_id}: ${outcome}`);
    }
    const outcome = outcomes.join('; ');
    await repo.setProcessedEventOutcome(txContext.db, event.id, outcome);
    return { firstDelivery: true, outcome };
  });
}

async function applyToLink(
  ctx: ServiceContext,
  { link, event, facts, now }: { link: repo.LinkRow; event: SubscriptionEvent; facts: SubscriptionEventFacts; now: Date },
): Promise<string> {
  try {
    const subscription = await contracts.findSubscription(ctx, {
      tenantId: link.tenant_id,
      customerId: link.customer_id,
      contractId: link.contract_id,
      subscriptionId: link.subscription_id,
    });
    if (!subscription) return 'ignored: the subscription is no longer on its contract';
    const decision = decideSeatChange({
      event: facts,
      stripePriceId: link.stripe_price_id,
      lastAppliedCreated: link.last_event_created,
      openPeriodStart: quantityChangesOpenFrom({ subscription: subscription.schedule, ownFrequencyCredits: subscription.ownFrequencyCredits, now }),
      steps: subscription.steps,
      now,
    });
    if (decision.kind === 'ignore') return `ignored: ${decision.reason}`;
    let short = 0;
    if (decision.kind === 'change') {
      const edit = { tenantId: link.tenant_id, customerId: link.customer_id, contractId: link.contract_id, uniquenessKey: `stripe:${event.id}:${link.id}` };
      if (subscription.seats) short = await moveUnassignedSeats(ctx, { ...edit, subscription: { id: subscription.id, seats: subscription.seats }, quantity: decision.quantity, startingAt: decision.startingAt });
      else await setQuantity(ctx, { ...edit, subscriptionId: subscription.id, quantity: decision.quantity, startingAt: decision.startingAt });
    }
    // An event dated ahead of the clock is recorded at the instant it took effect: later events are compared with that.
    await repo.recordLinkEvent(ctx.db, { tenantId: link.tenant_id, linkId: link.id, eventId: event.id, created: decision.aheadOfClock ? now : facts.created });
    const at = decision.startingAt.toISOString();
    const ahead = decision.aheadOfClock ? ` (the event was created at ${facts.created.toISOString()}, ahead of Allot's clock: applied now)` : '';
    const kept = short > 0 ? ` (${short} seat id${short === 1 ? '' : 's'} assigned in Allot beyond it kept: unassigned seats set to 0)` : '';
    return (decision.kind === 'change' ? `quantity ${decision.quantity} from ${at}${kept}` : `unchanged: quantity already ${decision.quantity} at ${at}`) + ahead;
  } catch (error) {
    // A refusal (the contract was archived, the subscription ended) will not change on redelivery: it is recorded, not retried.
    if (error instanceof AppError) return `refused: ${error.message}`;
    throw error;
  }
}

interface LinkEdit {
  tenantId: string;
  customerId: string;
  contractId: string;
  /** Makes the edit once, however often the event is delivered. */
  uniquenessKey: string;
}

async function setQuantity(ctx: ServiceContext, edit: LinkEdit & { subscriptionId: string; quantity: number; startingAt: Date }): Promise<void> {
  await contracts.editContract(ctx, {
    tenantId: edit.tenantId,
    body: {
      customer_id: edit.customerId,
      contract_id: edit.contractId,
      update_subscriptions: [{ subscription_id: edit.subscriptionId, quantity_updates: [{ starting_at: edit.startingAt, quantity: edit.quantity }] }],
      uniqueness_key: edit.uniquenessKey,
    },
  });
}

/**
 * A SEAT_BASED subscription follows Stripe's quantity through its unassigned seats (its quantity
 * is derived from its seats: `quantity_updates` are refused there). Returns how many assigned seat
 * ids Stripe's quantity leaves no room for: they are kept.
 */
async function moveUnassignedSeats(
  ctx: ServiceContext,
  edit: LinkEdit & { subscription: { id: string; seats: NonNullable<contracts.Subscription['seats']> }; quantity: number; startingAt: Date },
): Promise<number> {
  const step = seatStepAt(edit.subscription.seats.steps, edit.startingAt);
  const change = unassignedSeatChange({ assigned: step?.assigned.length ?? 0, unassigned: step?.unassigned ?? 0, quantity: edit.quantity });
  const update = (quantity: number) => [{ quantity, starting_at: edit.startingAt }];
  if (change.add === 0 && change.remove === 0) return change.short;
  await contracts.editContract(ctx, {
    tenantId: edit.tenantId,
    body: {
      customer_id: edit.customerId,
      contract_id: edit.contractId,
      update_subscriptions: [
        { subscription_id: edit.subscription.id, seat_updates: change.add > 0 ? { add_unassigned_seats: update(change.add) } : { remove_unassigned_seats: update(change.remove) } },
      ],
      uniqueness_key: edit.uniquenessKey,
    },
  });
  return change.short;
}
