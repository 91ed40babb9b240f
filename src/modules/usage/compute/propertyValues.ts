import { Decimal } from '../../../lib/money.js';

/**
 * Sums of property values are exact: the same events must give the same total however they are
 * batched, so no addition may round. Precision bounds only the digits a result may keep, and the
 * values a metric aggregates are bounded (`propertyNumber`), so nothing here ever rounds.
 */
export const ExactDecimal = Decimal.clone({ precision: 1e9 });

/** The largest power of ten, up or down, that a number a metric aggregates may reach. */
const DIGIT_RANGE = 1000;
const NUMERIC_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

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
 * The number a property value holds for SUM, MAX and LATEST, or undefined when it holds none:
 * a JSON number, or a string in decimal notation (`"648"`, `"0.5"`, `"1e3"`), as the JSON body
 * parser hands over numbers a double cannot hold exactly. Values beyond 10^±1000 (more than 1,000
 * digits before or after the point) count as no number, so every sum stays exact and storable.
 */
export function propertyNumber(value: unknown): Decimal | undefined {
  let number: Decimal;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    number = new ExactDecimal(value);
  } else if (typeof value === 'string' && NUMERIC_TEXT.test(value)) {
    // An exponent beyond the range is refused before any digit is expanded.
    const exponent = /[eE]([+-]?\d+)$/.exec(value);
    if (exponent && Math.abs(Number(exponent[1])) > 2 * DIGIT_RANGE) return undefined;
    number = new ExactDecimal(value);
  } else {
    return undefined;
  }
  if (!number.isFinite() || number.e > DIGIT_RANGE || number.decimalPlaces() > DIGIT_RANGE) return undefined;
  return number;
}
