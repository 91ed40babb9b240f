import type { Problems } from '../../lib/errors.js';
import { INITIAL_SEQUENCES, seatSchedule } from '../../lib/seatSchedule.js';
import { quantityChangesOpenFrom } from '../../lib/contractSchedules.js';
import { toSeatChange, type Subscription } from '../account/service.js';
import type { SeatChangeRow, SubscriptionRow } from './repo.js';
import type { SeatUpdatesInput } from './seatSchemas.js';

/** How an edit's seat updates are recorded in the edit history: as sent. */
export type SeatUpdatesRecord = {
  [K in keyof SeatUpdatesInput]?: Array<{ starting_at: string; seat_ids?: string[]; quantity?: number }>;
};

/** The lists of `seat_updates` in the order they apply at one instant: removals first, then additions (new ids fill new unassigned seats). */
const ORDER = [
  ['remove_seat_ids', 'REMOVE_SEATS'],
  ['remove_unassigned_seats', 'REMOVE_UNASSIGNED'],
  ['add_unassigned_seats', 'ADD_UNASSIGNED'],
  ['add_seat_ids', 'ADD_SEATS'],
] as const;

/**
 * One seat group key a contract: a usage event names its seat by one property, so two SEAT_BASED
 * subscriptions of a contract naming seats by different properties would let one event draw two
 * seats' credits. Returns the problem, or null.
 */
export function seatGroupKeyProblem(key: string, subscriptions: readonly Pick<SubscriptionRow, 'quantity_management_mode' | 'seat_group_key'>[]): string | null {
  const other = subscriptions.find((s) => s.quantity_management_mode === 'SEAT_BASED' && s.seat_group_key !== key);
  return other ? `must be ${other.seat_group_key}, the seat_group_key of this contract's other SEAT_BASED subscription: a contract names its seats by one usage property` : null;
}

/**
 * Validates the `seat_updates` of one SEAT_BASED subscription (docs/rules.md rule 28) against its
 * stored seat changes and builds the new rows. Each change starts in the subscription's open
 * period or later and before its end, like a quantity change (rule 7); folded with every change
 * already made, no seat id is assigned twice at once: adding an id that is assigned then is a 400
 * naming it. Removing an id that is not assigned is a no-op, as the SDK documents. Changes at one
 * instant apply after those made before, removals first, then additions.
 */
export function planSeatUpdates({
  field,
  subscription,
  stored,
  updates,
  now,
  problems,
}: {
  field: string;
  subscription: Subscription;
  stored: readonly SeatChangeRow[];
  updates: SeatUpdatesInput;
  now: Date;
  problems: Problems;
}): { changes: SeatChangeRow[]; record: SeatUpdatesRecord } {
  const record: SeatUpdatesRecord = {};
  for (const [list] of ORDER) {
    const items = updates[list];
    if (items?.length) record[list] = items.map((item) => ({ starting_at: item.starting_at.toISOString(), ...('seat_ids' in item ? { seat_ids: item.seat_ids } : { quantity: item.quantity }) }));
  }
  const openStart = quantityChangesOpenFrom({ subscription: subscription.schedule, ownFrequencyCredits: subscription.ownFrequencyCredits, now });
  if (!openStart) {
    problems.add(field, `subscription ${subscription.id} has ended`);
    return { changes: [], record };
  }
  const existing = stored.filter((change) => change.subscription_id === subscription.id);
  let sequence = Math.max(INITIAL_SEQUENCES - 1, ...existing.map((change) => change.sequence)) + 1;
  const sent: Array<{ at: string; item: { starting_at: Date; seat_ids?: string[]; quantity?: number }; action: SeatChangeRow['action'] }> = [];
  for (const [list, action] of ORDER) (updates[list] ?? []).forEach((item, j) => sent.push({ at: `${field}.${list}.${j}`, item, action }));
  sent.sort((a, b) => a.item.starting_at.getTime() - b.item.starting_at.getTime());
  const fields = new Map<SeatChangeRow, string>();
  const changes = sent.map(({ at, item, action }) => {
    if (problems.check(item.starting_at >= openStart, `${at}.starting_at`, `must not be before the start of the current open period, ${openStart.toISOString()}`)) {
      const end = subscription.ending_before;
      problems.check(!end || item.starting_at < end, `${at}.starting_at`, () => `must be before the subscription's end, ${end!.toISOString()}`);
    }
    const row: SeatChangeRow = {
      subscription_id: subscription.id,
      sequence: sequence++,
      starting_at: item.starting_at,
      action,
      seat_ids: item.seat_ids ?? null,
      quantity: item.seat_ids ? null : (item.quantity ?? 0),
      created_at: now,
    };
    fields.set(row, at);
    return row;
  });
  const folded = seatSchedule([...existing, ...changes].map(toSeatChange));
  if (!folded.ok) {
    const at = fields.get(folded.change.row);
    const when = folded.change.startingAt.toISOString();
    if (folded.problem === 'TOO_MANY') problems.add(at ? `${at}.quantity` : field, `would take the quantity above 1000000000 at ${when}`);
    else if (at) problems.add(`${at}.seat_ids.${folded.change.row.seat_ids!.indexOf(folded.seatId!)}`, `seat ${folded.seatId} is already assigned at ${when}`);
    else problems.add(`${field}.add_seat_ids`, `would assign seat ${folded.seatId} twice: it is added again at ${when}, while already assigned`);
  }
  return { changes, record };
}
