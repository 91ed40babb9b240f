import type { Problems } from '../../lib/errors.js';
import { MAX_QUANTITY, quantitySchedule } from '../../lib/quantitySchedule.js';
import { quantityChangesOpenFrom } from '../../lib/contractSchedules.js';
import { toQuantityChange, type Subscription } from '../account/service.js';
import type { QuantityChangeRow, SeatChangeRow } from './repo.js';
import type { EditContractBody } from './schemas.js';
import { planSeatUpdates, type SeatUpdatesRecord } from './seatPlan.js';

/** How an edit's quantity updates are recorded in the edit history: as sent. */
export interface SubscriptionUpdateRecord {
  id: string;
  quantity_updates?: { starting_at: string; quantity?: number; quantity_delta?: number }[];
  seat_updates?: SeatUpdatesRecord;
  /** The new end as sent; null when the end was removed. */
  ending_before?: string | null;
}

/**
 * Validates an edit's `update_subscriptions` (docs/rules.md rule 7) against the subscriptions' stored
 * changes and builds the new change rows. Each change starts in the subscription's open period or
 * later (and not in an ended period of a credit linked to it on its own frequency:
 * `quantityChangesOpenFrom`) and before its end; folded with every change already made (and those
 * earlier in the same edit), the quantity stays within 0..MAX_QUANTITY at every instant. Changes
 * at one instant apply in the order sent, after those made before. Every problem, of every update,
 * goes to `problems`; an update whose subscription is refused is not checked further.
 */
export function planQuantityUpdates({
  contractId,
  subscriptions,
  changes,
  seatChanges = [],
  updates,
  now,
  problems,
}: {
  contractId: string;
  subscriptions: readonly Subscription[];
  changes: readonly QuantityChangeRow[];
  /** The stored seat changes of SEAT_BASED subscriptions. */
  seatChanges?: readonly SeatChangeRow[];
  updates: NonNullable<EditContractBody['update_subscriptions']>;
  now: Date;
  problems: Problems;
}): { changes: QuantityChangeRow[]; seatChanges: SeatChangeRow[]; updates: SubscriptionUpdateRecord[] } {
  const records: SubscriptionUpdateRecord[] = [];
  const newChanges: QuantityChangeRow[] = [];
  const newSeatChanges: SeatChangeRow[] = [];
  for (const [index, update] of updates.entries()) {
    const field = `update_subscriptions.${index}`;
    const subscription = subscriptions.find((s) => s.id === update.subscription_id);
    if (!subscription) {
      problems.add(`${field}.subscription_id`, `no subscription ${update.subscription_id} on contract ${contractId}`);
      continue;
    }
    const endRecord = update.ending_before !== undefined ? { ending_before: update.ending_before && update.ending_before.toISOString() } : {};
    const seatBased = subscription.quantity_management_mode === 'SEAT_BASED';
    if (update.seat_updates) {
      if (!seatBased) problems.add(`${field}.seat_updates`, `subscription ${subscription.id} is QUANTITY_ONLY; change its quantity with quantity_updates`);
      else {
        const planned = planSeatUpdates({ field: `${field}.seat_updates`, subscription, stored: [...seatChanges, ...newSeatChanges], updates: update.seat_updates, now, problems });
        newSeatChanges.push(...planned.changes);
        if (!update.quantity_updates) records.push({ id: subscription.id, seat_updates: planned.record, ...endRecord });
      }
    }
    if (update.quantity_updates && seatBased) {
      problems.add(`${field}.quantity_updates`, `subscription ${subscription.id} is SEAT_BASED: its quantity follows its seats; change them with seat_updates`);
      continue;
    }
    if (!update.quantity_updates) {
      if (!update.seat_updates) records.push({ id: subscription.id, ...endRecord });
      continue;
    }
    const openStart = quantityChangesOpenFrom({ subscription: subscription.schedule, ownFrequencyCredits: subscription.ownFrequencyCredits, now });
    if (!openStart) {
      problems.add(`${field}.subscription_id`, `subscription ${subscription.id} has ended`);
      continue;
    }
    const existing = [...changes.filter((c) => c.subscription_id === subscription.id), ...newChanges.filter((c) => c.subscription_id === subscription.id)];
    let sequence = Math.max(...existing.map((c) => c.sequence)) + 1;
    const added: QuantityChangeRow[] = update.quantity_updates.map((q, j) => {
      const at = `${field}.quantity_updates.${j}`;
      if (problems.check(q.starting_at >= openStart, `${at}.starting_at`, `must not be before the start of the current open period, ${openStart.toISOString()}`)) {
        const end = subscription.ending_before;
        problems.check(!end || q.starting_at < end, `${at}.starting_at`, () => `must be before the subscription's end, ${end!.toISOString()}`);
      }
      return { subscription_id: subscription.id, sequence: sequence++, starting_at: q.starting_at, quantity: q.quantity ?? null, quantity_delta: q.quantity_delta ?? null, created_at: now };
    });
    const folded = quantitySchedule([...existing, ...added].map(toQuantityChange));
    if (!folded.ok) {
      const j = added.indexOf(folded.change.row);
      const which = folded.change.row.quantity_delta === null ? 'quantity' : 'quantity_delta';
      problems.add(
        j >= 0 ? `${field}.quantity_updates.${j}.${which}` : `${field}.quantity_updates`,
        `would take the quantity to ${folded.quantity} at ${folded.change.startingAt.toISOString()}; it must stay between 0 and ${MAX_QUANTITY}`,
      );
    }
    newChanges.push(...added);
    records.push({
      id: subscription.id,
      quantity_updates: update.quantity_updates.map((q) => ({
        starting_at: q.starting_at.toISOString(),
        ...(q.quantity !== undefined && { quantity: q.quantity }),
        ...(q.quantity_delta !== undefined && { quantity_delta: q.quantity_delta }),
      })),
      ...endRecord,
    });
  }
  return { changes: newChanges, seatChanges: newSeatChanges, updates: records };
}
