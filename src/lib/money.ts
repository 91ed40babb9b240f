import { Decimal as DecimalBase } from 'decimal.js';
import { z } from 'zod';
import { Unrepresentable } from './errors.js';

/**
 * The one decimal type for money and quantities. 40 significant digits is far beyond any amount
 * Allot stores (`numeric` columns), so arithmetic is exact for sums and products; division
 * (proration) rounds half-even at the 40th digit, and money is rounded to its credit type's
 * precision once, when an invoice line is finalised.
 */
export const Decimal = DecimalBase.clone({
  precision: 40,
  rounding: DecimalBase.ROUND_HALF_EVEN,
  toExpNeg: -40,
  toExpPos: 40,
});
export type Decimal = InstanceType<typeof Decimal>;

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
