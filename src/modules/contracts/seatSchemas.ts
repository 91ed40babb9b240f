import { z } from 'zod';
import { id } from './fieldSchemas.js';
import { text } from '../../lib/text.js';
import { exactInstant, instant } from '../../lib/time.js';

/**
 * Request schemas of SEAT_BASED subscriptions and seat credits (docs/rules.md rules 28–29), shaped
 * as `@metronome/sdk` sends them: `seat_config`, `seat_updates`, and the seat reads.
 */

const quantity = z.number().int('must be a whole number').min(0, 'must be 0 or more').max(1_000_000_000);

const seatId = text().min(1, 'must not be empty').max(256);
const seatIds = z
  .array(seatId)
  .max(10_000)
  .superRefine((ids, context) => {
    ids.forEach((seat, index) => {
      if (ids.indexOf(seat) !== index) context.addIssue({ code: 'custom', path: [index], message: `${seat} is listed twice` });
    });
  });

/** `seat_config` of a SEAT_BASED subscription: its first seat ids, the usage property naming a seat, and unassigned seats. */
export const seatConfig = z.strictObject({
  initial_seat_ids: seatIds,
  seat_group_key: text().min(1, 'must not be empty').max(128),
  initial_unassigned_seats: quantity.optional(),
});

const seatIdsUpdate = z.strictObject({ seat_ids: seatIds.refine((ids) => ids.length > 0, 'must name at least one seat'), starting_at: exactInstant });
const unassignedSeatsUpdate = z.strictObject({
  quantity: z.number().int('must be a whole number').min(1, 'must be greater than 0').max(1_000_000_000),
  starting_at: exactInstant,
});

/** `seat_updates` of a SEAT_BASED subscription (rule 28), each change at any instant, like quantity changes. */
export const seatUpdatesInput = z
  .strictObject({
    add_seat_ids: z.array(seatIdsUpdate).max(100).optional(),
    remove_seat_ids: z.array(seatIdsUpdate).max(100).optional(),
    add_unassigned_seats: z.array(unassignedSeatsUpdate).max(100).optional(),
    remove_unassigned_seats: z.array(unassignedSeatsUpdate).max(100).optional(),
  })
  .superRefine((updates, context) => {
    if (Object.values(updates).every((list) => !list?.length)) {
      context.addIssue({ code: 'custom', path: [], message: 'give add_seat_ids, remove_seat_ids, add_unassigned_seats or remove_unassigned_seats' });
    }
  });
export type SeatUpdatesInput = z.infer<typeof seatUpdatesInput>;

/** `v1.contracts.getSubscriptionSeatsHistory`: `covering_date`, or a range, and pages of at most 10. */
export const seatsHistoryBody = z
  .strictObject({
    customer_id: id,
    contract_id: id,
    subscription_id: id,
    covering_date: instant.nullable().optional(),
    starting_at: instant.nullable().optional(),
    ending_before: instant.nullable().optional(),
    limit: z.number().int('must be a whole number').min(1).max(10).nullable().optional(),
    cursor: text().max(64).nullable().optional(),
  })
  .superRefine((body, context) => {
    if (body.covering_date) {
      for (const field of ['starting_at', 'ending_before'] as const) {
        if (body[field]) context.addIssue({ code: 'custom', path: [field], message: 'cannot be used with covering_date' });
      }
    }
  });

/** `v1.contracts.listSeatBalances`: `covering_date`, or `starting_at` / `effective_before`; pages of 1–100 seats. */
export const seatBalancesBody = z
  .strictObject({
    customer_id: id,
    contract_id: id,
    covering_date: instant.optional(),
    starting_at: instant.optional(),
    effective_before: instant.optional(),
    include_credits_and_commits: z.boolean().optional(),
    include_ledgers: z.boolean().optional(),
    limit: z.number().int('must be a whole number').min(1).max(100).optional(),
    cursor: text().max(64).optional(),
    seat_ids: z.array(seatId).max(1000).optional(),
    skip_missing_seat_ids: z.boolean().optional(),
    subscription_ids: z.array(id).max(100).optional(),
  })
  .superRefine((body, context) => {
    if (body.covering_date) {
      for (const field of ['starting_at', 'effective_before'] as const) {
        if (body[field]) context.addIssue({ code: 'custom', path: [field], message: 'cannot be used with covering_date' });
      }
    }
  });
