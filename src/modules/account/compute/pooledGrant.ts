import { Decimal, productExactly, sumExactly } from '../../../lib/money.js';
import type { Period } from '../../../lib/periods.js';
import { addShares, coveredFraction, remainingFraction, roundShare, shareOf, WHOLE, type Fraction, type Share } from '../../../lib/proration.js';
import { stepsDuring, type QuantityStep } from '../../../lib/quantitySchedule.js';

export type ProrationMode = 'NONE' | 'FIRST' | 'LAST' | 'FIRST_AND_LAST';

/** What a recurring credit or commit grants each period. */
export interface RecurringGrantTerms {
  /** Per seat when linked to a subscription, per unit of `quantity` otherwise. */
  unitPrice: Decimal;
  proration: ProrationMode;
  /** Present when the grant follows a subscription's quantity (POOLED allocation). */
  seatIncrease: { isProrated: boolean } | null;
}

export interface GrantMovement {
  kind: 'SEGMENT_START' | 'SEAT_BASED_ADJUSTMENT';
  amount: Decimal;
  timestamp: Date;
}

/**
 * The fraction of a full period's grant that a period gets (docs/rules.md rule 4): a period cut short
 * by the grant's start is prorated when `proration` is FIRST or FIRST_AND_LAST, one cut short by
 * its end when LAST or FIRST_AND_LAST; whole periods get it all.
 */
export function grantFraction(period: Period, proration: ProrationMode): Fraction {
  const prorateStart = proration === 'FIRST' || proration === 'FIRST_AND_LAST';
  const prorateEnd = proration === 'LAST' || proration === 'FIRST_AND_LAST';
  const effective: Period = {
    ...period,
    startingAt: prorateStart ? period.startingAt : period.fullStartingAt,
    endingBefore: prorateEnd ? period.endingBefore : period.fullEndingBefore,
  };
  const fraction = coveredFraction(effective);
  return fraction.numerator === fraction.denominator ? WHOLE : fraction;
}

/** A period's start grant, exact: `unit_price × quantity × grantFraction`. */
function startShare(terms: RecurringGrantTerms, period: Period, quantity: Decimal): Share {
  return shareOf(productExactly(terms.unitPrice, quantity), grantFraction(period, terms.proration));
}

/**
 * The grant at a period's start: `unit_price × quantity at period start`, prorated per
 * `grantFraction` and rounded once to 20 decimals (`roundShare`). 100 seats × 50 credits = 5,000;
 * from May 15, 5,000 × 17/31 = 2741.93548387096774193548.
 */
export function grantForPeriod({ terms, period, quantity }: { terms: RecurringGrantTerms; period: Period; quantity: Decimal }): GrantMovement {
  return { kind: 'SEGMENT_START', amount: roundShare(startShare(terms, period, quantity)), timestamp: period.startingAt };
}

/**
 * The seat-based adjustments of one period up to `now` (docs/rules.md rules 5 and 6). The grant follows
 * the period's high-water mark `H` of the quantity, starting at `startQuantity`, the quantity
 * its start was granted for: raising the quantity to `q > H` at `t` adds `(q − H) × unit_price`,
 * times the fraction of the period left at `t` when the increase is prorated, and sets `H = q`.
 * Decreases add nothing and take nothing back, so 100 → 90 → 100 adds nothing, and 100 → 110 at
 * half a monthly period adds 250 at 50 per seat (500 unprorated). A change backdated to the
 * period's start after it began is such a change, at the start.
 *
 * The period's grant so far (its start and every increase) is kept as an exact fraction and
 * rounded once to 20 decimals; each adjustment is what that rounded total grew by. So the start
 * and the adjustments always add up to the exact grant, rounded once: 100 seats at 50, +7 at
 * 06:00, +6 at 12:00 and +4 at 18:00 on May 1 add 347.17741935483870967742, 295.16129032258064516129
 * and 195.16129032258064516129 — exactly 837.5, as 623100/744 is.
 */
export function seatAdjustments({
  terms,
  period,
  steps,
  startQuantity,
  now,
}: {
  terms: RecurringGrantTerms;
  period: Period;
  steps: readonly QuantityStep[];
  startQuantity: number;
  now: Date;
}): GrantMovement[] {
  if (!terms.seatIncrease) return [];
  const movements: GrantMovement[] = [];
  let highWaterMark = startQuantity;
  let granted = startShare(terms, period, new Decimal(startQuantity));
  let grantedRounded = roundShare(granted);
  for (const step of stepsDuring(steps, period)) {
    if (step.startingAt > now) break;
    if (step.quantity <= highWaterMark) continue;
    const fraction = terms.seatIncrease.isProrated ? remainingFraction(period, step.startingAt) : WHOLE;
    granted = addShares(granted, shareOf(productExactly(terms.unitPrice, step.quantity - highWaterMark), fraction));
    const rounded = roundShare(granted);
    movements.push({ kind: 'SEAT_BASED_ADJUSTMENT', amount: sumExactly([rounded, grantedRounded.neg()]), timestamp: step.startingAt });
    grantedRounded = rounded;
    highWaterMark = step.quantity;
  }
  return movements;
}
