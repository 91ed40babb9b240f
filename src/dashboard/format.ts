import { Decimal } from '../lib/money.js';
import { USD_CREDIT_TYPE_ID } from '../modules/pricing/service.js';

/** A credit type as pages show amounts of it. */
export interface Unit {
  id: string;
  name: string;
}

/** The credit type `id` among `units`; one not found shows as its id. */
export function unitIn(units: ReadonlyMap<string, Unit>, id: string): Unit {
  return units.get(id) ?? { id, name: id };
}

// Intl formats a decimal string exactly (no float in between): amounts stay Decimals until they are text.
const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const plain = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 });

/**
 * An amount as people read it, to the cent or hundredth: USD cents as dollars (`123456` →
 * `$1,234.56`), a custom unit with its name (`1234.5` AI credits → `1,234.50 AI credits`), or
 * without it when a column heading names the unit (`bare`: `1,234.50`).
 */
export function formatAmount(amount: Decimal, unit: Unit, { bare = false }: { bare?: boolean } = {}): string {
  if (unit.id === USD_CREDIT_TYPE_ID) return dollars.format(amount.div(100).toFixed(2, Decimal.ROUND_HALF_UP) as `${number}`);
  const number = plain.format(amount.toFixed(2, Decimal.ROUND_HALF_UP) as `${number}`);
  return bare ? number : `${number} ${unit.name}`;
}

/** A credit type's name where a heading names the unit: `USD` for cents, else the name. */
export function unitHeading(unit: Unit): string {
  return unit.id === USD_CREDIT_TYPE_ID ? 'USD' : unit.name;
}

/** A group property as a heading reads it: `user_id` → `user`, `cost_center` → `cost center`. */
export function propertyName(property: string): string {
  return property.replace(/_id$/, '').replace(/_/g, ' ');
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
