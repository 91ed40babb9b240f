import type { Decimal } from '../../../lib/money.js';
import type { Problem } from './metricRules.js';

export type ProductType = 'USAGE' | 'SUBSCRIPTION' | 'FIXED';
export type RateType = 'FLAT' | 'SUBSCRIPTION' | 'TIERED';
export type BillingFrequency = 'MONTHLY' | 'QUARTERLY' | 'ANNUAL' | 'WEEKLY';

export interface Tier {
  size: Decimal | null;
  price: Decimal;
}

/** A rate as requested, before it is stored; `field` prefixes every problem's path. */
export interface RateRequest {
  productType: ProductType;
  productPricingGroupKey: string[] | null;
  rateType: RateType;
  startingAt: Date;
  endingBefore: Date | null;
  price: Decimal | null;
  tiers: Tier[] | null;
  billingFrequency: BillingFrequency | null;
  isProrated: boolean | null;
  quantity: Decimal | null;
  pricingGroupValues: Record<string, string> | null;
}

/**
 * Graduated tiers, as Metronome takes them: `[{size: 5, price: 20}, {size: 5, price: 10}, {price: 5}]`
 * prices the first 5 units at 20, the next 5 at 10 and every unit after that at 5. Every tier but
 * the last has a positive `size`; the last has none, so that every quantity is priced.
 */
export function tierProblems(tiers: Tier[], field = 'tiers'): Problem[] {
  if (tiers.length === 0) return [{ field, message: 'must hold at least one tier' }];
  const problems: Problem[] = [];
  tiers.forEach((tier, index) => {
    const last = index === tiers.length - 1;
    if (last && tier.size !== null) problems.push({ field: `${field}.${index}.size`, message: 'must be omitted on the last tier, which has no upper bound' });
    if (!last && tier.size === null) problems.push({ field: `${field}.${index}.size`, message: 'is required on every tier but the last' });
    if (!last && tier.size !== null && !tier.size.gt(0)) problems.push({ field: `${field}.${index}.size`, message: 'must be greater than 0' });
    if (tier.price.lt(0)) problems.push({ field: `${field}.${index}.price`, message: 'must be at least 0' });
  });
  return problems;
}

/**
 * Whether a rate prices a subscription's seats. A `SUBSCRIPTION` product takes a `FLAT` rate with
 * a `billing_frequency` (as Metronome's subscription guide writes it) or a `SUBSCRIPTION` rate,
 * with the same meaning; only a seat rate has a `billing_frequency` (`rateProblems` refuses it
 * elsewhere), so it tells them apart from the rates of usage and fixed products.
 */
export function isSeatRate(rate: { rateType: RateType; billingFrequency: BillingFrequency | null }): boolean {
  return rate.rateType === 'SUBSCRIPTION' || (rate.rateType === 'FLAT' && rate.billingFrequency !== null);
}

/**
 * What is wrong with a rate, empty when nothing is. The rules:
 * - `SUBSCRIPTION` products take `FLAT` or `SUBSCRIPTION` rates (a seat rate: same meaning);
 *   `USAGE` and `FIXED` products take `FLAT` or `TIERED` rates.
 * - `FLAT` and `SUBSCRIPTION` rates need `price` (≥ 0) and no `tiers`; `TIERED` rates need `tiers`
 *   and no `price`.
 * - `billing_frequency`, `quantity` (≥ 0) and `is_prorated` belong to seat rates;
 *   `billing_frequency` is required there, and `is_prorated`, as in Metronome, must be true.
 * - `ending_before` is after `starting_at`.
 * - `pricing_group_values` is for products with a `pricing_group_key` and names exactly its
 *   properties: key `["region"]` takes `{region: "EU"}`.
 */
export function rateProblems(rate: RateRequest, prefix = ''): Problem[] {
  const at = (name: string) => `${prefix}${name}`;
  const problems: Problem[] = [];
  const subscriptionProduct = rate.productType === 'SUBSCRIPTION';
  if (subscriptionProduct && rate.rateType === 'TIERED') {
    problems.push({ field: at('rate_type'), message: 'a SUBSCRIPTION product takes FLAT or SUBSCRIPTION rates, not TIERED' });
  }
  if (!subscriptionProduct && rate.rateType === 'SUBSCRIPTION') {
    problems.push({ field: at('rate_type'), message: `a ${rate.productType} product takes FLAT or TIERED rates, not SUBSCRIPTION` });
  }
  if (rate.rateType === 'TIERED') {
    if (rate.tiers === null) problems.push({ field: at('tiers'), message: 'is required for a TIERED rate' });
    else problems.push(...tierProblems(rate.tiers, at('tiers')));
    if (rate.price !== null) problems.push({ field: at('price'), message: 'must be omitted for a TIERED rate: each tier has its price' });
  } else {
    if (rate.price === null) problems.push({ field: at('price'), message: `is required for a ${rate.rateType} rate` });
    else if (rate.price.lt(0)) problems.push({ field: at('price'), message: 'must be at least 0' });
    if (rate.tiers !== null) problems.push({ field: at('tiers'), message: `must be omitted for a ${rate.rateType} rate` });
  }
  if (subscriptionProduct) {
    if (rate.billingFrequency === null) problems.push({ field: at('billing_frequency'), message: 'is required for a rate of a SUBSCRIPTION product' });
    if (rate.isProrated === false) problems.push({ field: at('is_prorated'), message: 'must be true (as in Metronome); set proration on the contract subscription' });
    if (rate.quantity?.lt(0)) problems.push({ field: at('quantity'), message: 'must be at least 0' });
  } else {
    if (rate.billingFrequency !== null) problems.push({ field: at('billing_frequency'), message: 'is only for rates of SUBSCRIPTION products' });
    if (rate.isProrated !== null) problems.push({ field: at('is_prorated'), message: 'is only for rates of SUBSCRIPTION products' });
    if (rate.quantity !== null) problems.push({ field: at('quantity'), message: 'is only for rates of SUBSCRIPTION products' });
  }
  if (rate.endingBefore && rate.endingBefore.getTime() <= rate.startingAt.getTime()) {
    problems.push({ field: at('ending_before'), message: 'must be after starting_at' });
  }
  if (rate.pricingGroupValues) {
    const key = rate.productPricingGroupKey;
    const names = Object.keys(rate.pricingGroupValues);
    if (!key || key.length === 0) {
      problems.push({ field: at('pricing_group_values'), message: 'the product has no pricing_group_key' });
    } else if (names.length !== key.length || !key.every((property) => names.includes(property))) {
      problems.push({ field: at('pricing_group_values'), message: `must name exactly the product's pricing_group_key: ${key.join(', ')}` });
    }
  }
  return problems;
}
