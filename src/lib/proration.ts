import { Decimal, DERIVED_AMOUNT_DECIMAL_PLACES, productExactly, sumExactly } from './money.js';
import type { Period } from './periods.js';

/**
 * An exact fraction of a period (docs/rules.md rule 3), as a ratio of durations. It is never rounded:
 * an amount is multiplied by the numerator and divided by the denominator once — in 40-digit
 * decimal arithmetic by `prorate`, or exactly and then rounded to 20 decimals by `roundShare`.
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

/**
 * `amount × fraction` kept exact, as `numerator / denominator`, so that several prorated amounts
 * can be added before the one rounding: 7 seats × 50 × 738/744 + 6 × 50 × 732/744 + 4 × 50 ×
 * 726/744 is exactly 623100/744 = 837.5, though no term of it is a finite decimal.
 */
export interface Share {
  numerator: Decimal;
  denominator: bigint;
}

/** `amount × fraction`, exactly. */
export function shareOf(amount: Decimal, fraction: Fraction): Share {
  return { numerator: productExactly(amount, fraction.numerator), denominator: fraction.denominator };
}

/** `a + b`, exactly (prorated amounts of one period share its length as denominator). */
export function addShares(a: Share, b: Share): Share {
  if (a.denominator === b.denominator) return { numerator: sumExactly([a.numerator, b.numerator]), denominator: a.denominator };
  return { numerator: sumExactly([productExactly(a.numerator, b.denominator), productExactly(b.numerator, a.denominator)]), denominator: a.denominator * b.denominator };
}

/**
 * A share as a decimal, rounded once, half to even, to `DERIVED_AMOUNT_DECIMAL_PLACES` (20):
 * 10 seats × 50 × 17/31 = 8500/31 → 274.19354838709677419355. The division is done in whole
 * numbers, so the rounding is exact whatever the size of the amount.
 */
export function roundShare({ numerator, denominator }: Share): Decimal {
  const places = DERIVED_AMOUNT_DECIMAL_PLACES;
  const [whole = '0', decimals = ''] = numerator.abs().toFixed().split('.');
  const dividend = BigInt(whole + decimals) * 10n ** BigInt(places);
  const divisor = denominator * 10n ** BigInt(decimals.length);
  let quotient = dividend / divisor;
  const twiceRemainder = (dividend % divisor) * 2n;
  if (twiceRemainder > divisor || (twiceRemainder === divisor && quotient % 2n === 1n)) quotient += 1n;
  if (quotient === 0n) return new Decimal(0);
  const digits = quotient.toString().padStart(places + 1, '0');
  return new Decimal(`${numerator.isNegative() ? '-' : ''}${digits.slice(0, -places)}.${digits.slice(-places)}`);
}

export { ONE as WHOLE };
