import { Decimal as DecimalBase } from 'decimal.js';
import { z } from 'zod';
import { Unrepresentable } from './errors.js';

/**
 * The one decimal type for money and quantities. Its operations round to 40 significant digits,
 * half-even, so a sum of amounts that needs more digits (5000 + a 40-digit prorated amount) is
 * rounded, and the same amounts added in two orders may differ in the last place. Ledgers and
 * the reports that check them therefore add with `sumExactly`, and what a grant derives by a
 * fraction is kept exact and rounded once to 20 decimals (`roundShare` in `lib/proration.ts`,
 * `roundDerivedAmount`). Money is rounded to its credit type's precision once, when an invoice
 * line is finalised.
 */
export const Decimal = DecimalBase.clone({
  precision: 40,
  rounding: DecimalBase.ROUND_HALF_EVEN,
  toExpNeg: -40,
  toExpPos: 40,
});
export type Decimal = InstanceType<typeof Decimal>;

/** The same arithmetic without a limit on digits, for sums and products, whose exact result is always a decimal. */
const Unlimited = DecimalBase.clone({ precision: 1e9, rounding: DecimalBase.ROUND_HALF_EVEN });

/**
 * The exact sum of `amounts`. `Decimal` rounds every result to 40 significant digits, so
 * 5000 + 347.1774193548387096774193548387096774194 (41 digits) would lose its last digit, and the
 * same amounts added in another order could differ in the last place. Ledger balances, and the
 * reports that check them, add with this.
 */
export function sumExactly(amounts: Iterable<Decimal>): Decimal {
  const list = Array.isArray(amounts) ? (amounts as readonly Decimal[]) : [...amounts];
  // When every digit the exact sum can have fits in 40 significant digits (its integer digits,
  // one more per tenfold of terms for the carries, and the most decimal places of any term),
  // `Decimal`'s own addition rounds nothing: the unlimited detour, and its allocations, are skipped.
  let integerDigits = 1;
  let places = 0;
  for (const amount of list) {
    integerDigits = Math.max(integerDigits, amount.e + 1);
    places = Math.max(places, amount.decimalPlaces());
  }
  if (integerDigits + String(list.length).length + places <= 40) {
    let sum = new Decimal(0);
    for (const amount of list) sum = sum.add(amount);
    return sum;
  }
  let sum = new Unlimited(0);
  for (const amount of list) sum = sum.add(amount);
  return new Decimal(sum);
}

/** Zero, shared: a `Decimal` never changes, so one instance serves every default and reset. */
export const ZERO = new Decimal(0);

/** `amount > 0`, without the allocation of `amount.gt(0)` (decimal.js copies its operand to compare). */
export const isPositive = (amount: Decimal): boolean => amount.s === 1 && !amount.isZero();

/** `amount < 0`, without an allocation. */
export const isNegative = (amount: Decimal): boolean => amount.s === -1 && !amount.isZero();

/** Whether `Decimal`'s own `a ± b` is exact: the digits the result can have fit in 40 (one more integer digit for a carry). */
const pairFits = (a: Decimal, b: Decimal) => Math.max(a.e, b.e, 0) + 2 + Math.max(a.decimalPlaces(), b.decimalPlaces()) <= 40;

/** `sumExactly([a, b])` with one allocation when 40 digits hold the sum (the drawdown's hot path). */
export function addExactly(a: Decimal, b: Decimal): Decimal {
  return pairFits(a, b) ? a.add(b) : new Decimal(new Unlimited(a).add(b));
}

/** `sumExactly([a, b.neg()])` with one allocation when 40 digits hold the difference. */
export function subExactly(a: Decimal, b: Decimal): Decimal {
  return pairFits(a, b) ? a.sub(b) : new Decimal(new Unlimited(a).sub(b));
}

/** The exact product `a × b`, however many digits it needs. */
export function productExactly(a: Decimal, b: Decimal | bigint | number): Decimal {
  return new Decimal(new Unlimited(a).mul(typeof b === 'bigint' ? b.toString() : b));
}

/**
 * The decimal places an amount a grant derives by a fraction (a prorated grant, a seat
 * adjustment, a rollover) is rounded to, once (docs/rules.md rule 11): 8500/31 =
 * 274.193548387096774193548387… becomes 274.19354838709677419355.
 */
export const DERIVED_AMOUNT_DECIMAL_PLACES = 20;

/** `value` rounded to `DERIVED_AMOUNT_DECIMAL_PLACES`: half to even, or `down` (toward zero) for a share that must never exceed its whole. */
export function roundDerivedAmount(value: Decimal, mode: 'halfEven' | 'down' = 'halfEven'): Decimal {
  return value.toDecimalPlaces(DERIVED_AMOUNT_DECIMAL_PLACES, mode === 'down' ? DecimalBase.ROUND_DOWN : DecimalBase.ROUND_HALF_EVEN);
}

const DECIMAL_TEXT = /^-?(?:\d+)(?:\.\d+)?$/;

/**
 * A decimal amount as the API accepts it: a JSON number or a decimal string (`12`, `"0.5"`).
 * The body parser (`http/jsonBody.ts`) hands over a number only when a JS `number` holds it
 * exactly, and the digits otherwise, so an amount is read exactly however many digits it has.
 * NaN, Infinity and exponent forms are rejected.
 */
export const decimalInput = z
  .union([z.number(), z.string()])
  .transform((value, context) => {
    const text = typeof value === 'number' ? numberText(value) : value.trim();
    if (text === undefined || !DECIMAL_TEXT.test(text)) {
      context.addIssue({ code: 'custom', message: 'expected a finite decimal number, e.g. 12 or "0.5"' });
      return z.NEVER;
    }
    return new Decimal(text);
  });

function numberText(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  // Number#toString gives the shortest text that round-trips; toFixed handles what it would
  // print in exponent form (1e21, 1e-7).
  const text = String(value);
  return /e/i.test(text) ? new Decimal(text).toFixed() : text;
}

/** The text to store in a `numeric` column or send on the wire: plain notation, never exponent. */
export function toNumericText(value: Decimal): string {
  return value.toFixed();
}

/**
 * A decimal as the wire's JSON number. The Metronome API types amounts as numbers, so responses
 * carry them as numbers; this is the one place a decimal becomes a `number`, at the edge, after
 * all arithmetic is done. Amounts that need more than 15 significant digits lose the excess
 * digits on the wire only. An amount no double holds (beyond about 1.8 × 10^308, which JSON would
 * send as `null` or fail to send) is refused with `Unrepresentable` (422), never sent.
 */
export function wireNumber(value: Decimal): number {
  const number = value.isFinite() ? Number(value.toFixed()) : Number.NaN;
  if (!Number.isFinite(number)) {
    throw new Unrepresentable(`An amount of this answer (${value.toSignificantDigits(6).toExponential()}) is beyond what a JSON number holds (about 1.8e308), so it cannot be sent`);
  }
  return number;
}
