import { Decimal } from '../../../lib/money.js';

/** What prices usage: a flat price per unit, or graduated tiers (the last without a size). */
export type UsagePrice = { rateType: 'FLAT'; price: Decimal } | { rateType: 'TIERED'; tiers: ReadonlyArray<{ size: Decimal | null; price: Decimal }> };

/**
 * The price of `quantity` units (docs/rules.md rule 9). FLAT: price × quantity. TIERED, graduated over
 * the whole quantity: each tier prices the units that fall in it, so tiers of 5, 5 and 5 units at
 * 20, 10 and 5, then 1 per unit, price 22 units at 5×20 + 5×10 + 5×5 + 7×1 = 182. Tiers price
 * what is used, so a quantity at or below 0 costs 0 under tiers.
 */
export function priceOf(price: UsagePrice, quantity: Decimal): Decimal {
  if (price.rateType === 'FLAT') return price.price.mul(quantity);
  let left = quantity;
  let total = new Decimal(0);
  for (const tier of price.tiers) {
    if (!left.gt(0)) break;
    const units = tier.size === null ? left : Decimal.min(left, tier.size);
    total = total.add(units.mul(tier.price));
    left = left.sub(units);
  }
  return total;
}

/**
 * What a slice of a period adds when `before` units of the period were already priced and
 * `after` now are: `price(after) − price(before)` (rule 9: 12 charged, 10 more → 182 − 160 = 22).
 * Graduated tiers thus continue where the earlier slices left off.
 */
export function priceOfSlice(price: UsagePrice, before: Decimal, after: Decimal): Decimal {
  return priceOf(price, after).sub(priceOf(price, before));
}

/** One rate of a product as the card holds it, with the window it is in force. */
export interface RateVersion {
  id: string;
  startingAt: Date;
  endingBefore: Date | null;
  entitled: boolean;
  price: UsagePrice;
  creditTypeId: string;
  pricingGroupValues: Readonly<Record<string, string>> | null;
}
