import { Decimal } from '../../../lib/money.js';

/**
 * Sums of property values are exact: the same events must give the same total however they are
 * batched, so no addition may round. Precision bounds only the digits a result may keep, and the
 * values a metric aggregates are bounded (`propertyNumber`), so nothing here ever rounds.
 */
export const ExactDecimal = Decimal.clone({ precision: 1e9 });

/**
 * The bound on every number usage counts (docs/rules.md rule 12): at most 10^15 either side of 0,
 * at most 30 significant digits, and no digit below the 30th decimal place. A sum of a billion
 * such values is below 10^24 and keeps at most 30 decimals: finite as a JSON number, and exact in
 * the `numeric` columns of the rollups.
 */
export const NUMBER_BOUND = { magnitude: new Decimal('1e15'), significantDigits: 30, decimalPlaces: 30 } as const;
/** The bound, as a 400 says it. */
export const NUMBER_BOUND_RULE = 'must be at most 10^15 either side of 0, with at most 30 significant digits and 30 decimal places';

const NUMERIC_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** Past this exponent no body (1 MiB at most) can bring a digit back within the bound; it is not expanded. */
const EXPONENT_LIMIT = 2_000_000;
const UNBOUNDED = new ExactDecimal(Infinity);

/**
 * The value of property `name`, or undefined when the event has no such own property (a key
 * named `constructor` or `__proto__` is an ordinary key here, never the prototype's).
 */
export function propertyValue(properties: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(properties, name) ? properties[name] : undefined;
}

/**
 * The text a property value compares as, in filters, group values and UNIQUE: a string as sent,
 * a number in plain notation (`1.5`; `1e21` → `1000000000000000000000`), `true` or `false`.
 * Null, objects and arrays have none: filters treat them as absent.
 */
export function propertyText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number': {
      const text = String(value);
      return text.includes('e') ? new Decimal(text).toFixed() : text;
    }
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return undefined;
  }
}

/**
 * The number SUM, MAX and LATEST would read in a property value, bounded or not: a JSON number,
 * or a string in decimal notation (`"648"`, `"0.5"`, `"1e3"`, `"1e400"`), as the JSON body parser
 * hands over numbers a double cannot hold exactly. Undefined when the value holds no number
 * (`"n/a"`, `" 5"`, `"0x10"`, `true`). An exponent too large to expand reads as infinite.
 */
export function numericReading(value: unknown): Decimal | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? UNBOUNDED : new ExactDecimal(value);
  if (typeof value !== 'string' || !NUMERIC_TEXT.test(value)) return undefined;
  const exponent = /[eE]([+-]?\d+)$/.exec(value);
  if (exponent && Math.abs(Number(exponent[1])) > EXPONENT_LIMIT) return UNBOUNDED;
  return new ExactDecimal(value);
}

/** Whether `number` is within `NUMBER_BOUND`: 1e15, -1e15, `123456789012345.123456789012345` and 1e-30 are; 1e16, 1e-31 and 31 significant digits are not. */
export function isBoundedDecimal(number: Decimal): boolean {
  return (
    number.isFinite() &&
    // `e` is the exponent of the leading digit: below 15 the number is below 10^15 (no allocation, the common case).
    (number.e < 15 || (number.e === 15 && number.abs().lte(NUMBER_BOUND.magnitude))) &&
    number.sd() <= NUMBER_BOUND.significantDigits &&
    number.decimalPlaces() <= NUMBER_BOUND.decimalPlaces
  );
}

/**
 * `isBoundedDecimal` for a JS number, without a decimal in the common case: a double from 10^-6
 * to 10^15 prints without an exponent, with at most 17 significant digits and 23 decimal places.
 */
export function isBoundedNumber(value: number): boolean {
  const magnitude = Math.abs(value);
  if (!(magnitude <= 1e15)) return false; // NaN and Infinity too
  if (magnitude >= 1e-6 || magnitude === 0) return true;
  return isBoundedDecimal(new ExactDecimal(String(value)));
}

/**
 * The number a property value holds for SUM, MAX and LATEST, or undefined when it holds none or
 * one beyond `NUMBER_BOUND`. Ingest refuses such a value where a metric reads it; an event stored
 * before the bound existed with one (`"tokens": "1e400"`) does not match the metric.
 */
export function propertyNumber(value: unknown): Decimal | undefined {
  const number = numericReading(value);
  return number !== undefined && isBoundedDecimal(number) ? number : undefined;
}
