import { Decimal } from '../lib/money.js';
import { USD_CREDIT_TYPE_ID } from '../modules/pricing/creditTypeService.js';

// Intl formats decimal text exactly (no float in between); the rounding is done by Decimal first.
const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const units = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });

/** The places a custom unit's amount is printed to: enough for a prorated grant (279.3404), few enough to read. */
export const UNIT_DECIMAL_PLACES = 4;

/**
 * An amount of a report (exact decimal text) as `allot report` prints it: USD cents as dollars to
 * the cent (`120000` → `$1,200.00`, `-0.5` → `-$0.01`), any other unit to at most 4 decimals, at
 * least 2 (`279.34036159647550776583` → `279.3404`, `-5250` → `-5,250.00`), halves away from 0.
 * Empty for a missing amount. The JSON and CSV reports keep every digit.
 */
export function reportAmount(text: unknown, creditTypeId: unknown): string {
  if (typeof text !== 'string' || text === '') return '';
  const amount = new Decimal(text);
  if (creditTypeId === USD_CREDIT_TYPE_ID) return dollars.format(amount.div(100).toFixed(2, Decimal.ROUND_HALF_UP) as `${number}`);
  return units.format(amount.toFixed(UNIT_DECIMAL_PLACES, Decimal.ROUND_HALF_UP) as `${number}`);
}

/** A credit type's name as a report column shows it: `USD` for cents (printed as dollars), else its name. */
export function unitName(creditTypeId: unknown, names: ReadonlyMap<string, string>): string {
  if (creditTypeId === USD_CREDIT_TYPE_ID) return 'USD';
  return typeof creditTypeId === 'string' ? (names.get(creditTypeId) ?? creditTypeId.slice(0, 8)) : '';
}
