import { Decimal } from '../../../lib/money.js';
import type { Period } from '../../../lib/periods.js';
import { remainingFraction, roundShare, shareOf, WHOLE } from '../../../lib/proration.js';
import { seatsKnownAt, type SeatChange, type SeatStep } from '../../../lib/seatSchedule.js';
import { grantForPeriod, type RecurringGrantTerms } from './pooledGrant.js';
import type { LedgerEntry } from './segmentLedger.js';

/** The seats an INDIVIDUAL recurring grant follows: its SEAT_BASED subscription's seat changes and steps. */
export interface SeatAllocation {
  changes: readonly SeatChange[];
  steps: readonly SeatStep[];
}

/** One seat's grant in one period. */
export interface SeatGrant {
  seatId: string;
  granted: LedgerEntry[];
}

/**
 * Each seat's own grant for one period of an INDIVIDUAL recurring credit or commit (docs/rules.md
 * rule 29), as of `now`:
 *
 * - a seat assigned at the period's start (as the seats stood then: a change backdated to it
 *   later is a seat added at the start) gets `unit_price`, prorated like a pooled grant's start
 *   (`grantFraction`);
 * - a seat first assigned during the period, once the clock reaches it, gets `unit_price` × the
 *   fraction of the period left (when `apply_seat_increase_config.is_prorated`, else all of it),
 *   starting then: 50 × 15/30 = 25 on April 16;
 * - a seat removed keeps what it was granted until the period ends, and a seat removed and added
 *   again in one period gets nothing more; the next period grants every seat assigned at its start.
 *
 * Seats in the order they were first assigned in the period.
 */
export function seatGrantsForPeriod({ terms, period, seats, now }: { terms: RecurringGrantTerms; period: Period; seats: SeatAllocation; now: Date }): SeatGrant[] {
  const grants = new Map<string, SeatGrant>();
  const whole = grantForPeriod({ terms, period, quantity: new Decimal(1) });
  for (const seatId of seatsKnownAt(seats.changes, period.startingAt)) grants.set(seatId, { seatId, granted: [whole] });
  for (const step of seats.steps) {
    if (step.startingAt < period.startingAt) continue;
    if (step.startingAt >= period.endingBefore || step.startingAt > now) break;
    for (const seatId of step.assigned) {
      if (grants.has(seatId)) continue;
      const fraction = terms.seatIncrease?.isProrated === false ? WHOLE : remainingFraction(period, step.startingAt);
      grants.set(seatId, { seatId, granted: [{ kind: 'SEGMENT_START', amount: roundShare(shareOf(terms.unitPrice, fraction)), timestamp: step.startingAt }] });
    }
  }
  return [...grants.values()];
}
