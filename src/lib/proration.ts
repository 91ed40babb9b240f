import { Decimal } from './money.js';
import type { Period } from './periods.js';

/**
 * An exact fraction of a period (docs/rules.md rule 3), as a ratio of durations. It is never rounded:
 * an amount is multiplied by the numerator and divided by the denominator once, in 40-digit
 * decimal arithmetic.
 */
export interface Fraction {
  numerator: bigint;
  denominator: bigint;
}

const ONE: Fraction = { numerator: 1n, denominator: 1n };

function duration(from: Date, to: Date): bigint {
  return BigInt(to.getTime() - from.getTime());
}

/**
 * The part of the whole period left from `at` to the end of the covered window. In the period
 * Feb 1 → Mar 1 2011, a change at Feb 14 leaves 15/28.
 */
export function remainingFraction(period: Period, at: Date): Fraction {
  if (at >= period.endingBefore) return { numerator: 0n, denominator: 1n };
  return { numerator: duration(at, period.endingBefore), denominator: duration(period.fullStartingAt, period.fullEndingBefore) };
}

/** The part of the whole period its covered window spans: Feb 1 → Feb 15 2012 is 14/29 of that leap February. */
export function coveredFraction(period: Period): Fraction {
  return { numerator: duration(period.startingAt, period.endingBefore), denominator: duration(period.fullStartingAt, period.fullEndingBefore) };
}

/** `amount × fraction`, dividing once. */
export function prorate(amount: Decimal, fraction: Fraction): Decimal {
  if (fraction.numerator === fraction.denominator) return amount;
  return amount.mul(fraction.numerator.toString()).div(fraction.denominator.toString());
}

export { ONE as WHOLE };
