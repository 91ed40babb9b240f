import { Decimal } from '../../lib/money.js';
import type { RatedPeriod } from '../../modules/account/service.js';

/** This period's usage of each value of one group property (each user, each team). */
export interface GroupUsage {
  property: string;
  /** The products measured, in the order of the columns. */
  products: string[];
  /** The pricing units charged, in the order of the columns. */
  creditTypeIds: string[];
  /** Heaviest first: by the first pricing unit's spend, then by name. */
  rows: { value: string; quantities: Decimal[]; spend: Decimal[] }[];
}

/**
 * Folds open periods rated split by `property` into one row per value of it (pure): the quantity
 * of each product and the spend in each pricing unit. Lines of several contracts add up.
 *
 * Example: u1 used 300 tokens (3 AI credits) and u2 100 (1 AI credit) → rows u1 [300] [3], u2 [100] [1].
 */
export function usageByGroup({ property, periods }: { property: string; periods: readonly RatedPeriod[] }): GroupUsage {
  const lines = periods.flatMap((period) => period.lines).filter((line) => line.splitValue !== undefined);
  const products = [...new Set(lines.map((line) => line.productName))].sort();
  const creditTypeIds = [...new Set(lines.map((line) => line.creditTypeId))].sort();
  const rows = new Map<string, { value: string; quantities: Decimal[]; spend: Decimal[] }>();
  // A product priced in two units has a line per unit with the same quantity: count it once.
  const counted = new Set<string>();
  for (const line of lines) {
    const value = line.splitValue!;
    let row = rows.get(value);
    if (!row) rows.set(value, (row = { value, quantities: products.map(() => new Decimal(0)), spend: creditTypeIds.map(() => new Decimal(0)) }));
    const productIndex = products.indexOf(line.productName);
    // A line's id is [contract, product, pricing group values, pricing unit, split value].
    const [contractId, productId, groupValues] = JSON.parse(line.id) as [string, string, unknown];
    const onceKey = JSON.stringify([contractId, productId, groupValues, value]);
    if (!counted.has(onceKey)) {
      counted.add(onceKey);
      row.quantities[productIndex] = row.quantities[productIndex]!.add(line.quantity);
    }
    const unitIndex = creditTypeIds.indexOf(line.creditTypeId);
    row.spend[unitIndex] = row.spend[unitIndex]!.add(line.total);
  }
  const sorted = [...rows.values()].sort((a, b) => (b.spend[0] ?? new Decimal(0)).cmp(a.spend[0] ?? new Decimal(0)) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return { property, products, creditTypeIds, rows: sorted };
}
