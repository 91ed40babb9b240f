import { Decimal } from '../lib/money.js';
import { USD_CREDIT_TYPE_ID } from '../modules/pricing/service.js';

/** A credit type as pages show amounts of it. */
export interface Unit {
  id: string;
  name: string;
}

// Intl formats a decimal string exactly (no float in between): amounts stay Decimals until they are text.
const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const plain = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 });

/**
 * An amount as people read it: USD cents as dollars (`123456` → `$1,234.56`), a custom unit with
 * its name (`1234.5` AI credits → `1,234.5 AI credits`).
 */
export function formatAmount(amount: Decimal, unit: Unit): string {
  if (unit.id === USD_CREDIT_TYPE_ID) return dollars.format(amount.div(100).toFixed(2, Decimal.ROUND_HALF_UP) as `${number}`);
  return `${plain.format(amount.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed() as `${number}`)} ${unit.name}`;
}

/** A usage quantity: up to four decimals, grouped (`1234567.5` → `1,234,567.5`). */
export function formatQuantity(quantity: Decimal): string {
  return count.format(quantity.toDecimalPlaces(4, Decimal.ROUND_HALF_UP).toFixed() as `${number}`);
}

/** An amount as a chart plots it: in the unit people read (dollars for cents), as decimal text. */
export function chartValue(amount: Decimal, unit: Unit): string {
  return (unit.id === USD_CREDIT_TYPE_ID ? amount.div(100) : amount).toDecimalPlaces(4, Decimal.ROUND_HALF_UP).toFixed();
}

const day = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' });
const minute = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** A date in UTC, `Apr 3, 2026`. */
export function formatDay(at: Date): string {
  return day.format(at);
}

/** An instant in UTC to the minute, `Apr 3, 2026, 14:05 UTC`. */
export function formatInstant(at: Date): string {
  return `${minute.format(at)} UTC`;
}
