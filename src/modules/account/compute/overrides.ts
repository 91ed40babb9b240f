import { Decimal } from '../../../lib/money.js';
import type { ContractOverrideRow } from '../../contracts/repo.js';
import type { RateVersion, UsagePrice } from './price.js';

/** How a contract picks among the multipliers in force together (Metronome's `multiplier_override_prioritization`). */
export type OverridePrioritization = 'LOWEST_MULTIPLIER' | 'EXPLICIT';

/**
 * Which products an override targets. A product matches a target when it is the target's product
 * (if one is named) and carries every one of its tags (if any are named); `anyTag` (the legacy
 * top-level `applicable_product_tags`) matches a product carrying at least one of them, as the
 * `applicable_product_tags` of credits do.
 */
export interface OverrideTarget {
  productId: string | null;
  productTags: readonly string[] | null;
  anyTag: boolean;
}

/** A change to a contract's list prices over `[startingAt, endingBefore)`, for the products it targets. */
export interface RateOverride {
  id: string;
  contractId: string;
  startingAt: Date;
  endingBefore: Date | null;
  /** Replaces the rate's `entitled` while in force; null leaves it as the rate card says. */
  entitled: boolean | null;
  /** Set under EXPLICIT prioritization, for multipliers: the lowest wins. */
  priority: Decimal | null;
  change: { type: 'MULTIPLIER'; multiplier: Decimal } | { type: 'OVERWRITE'; price: UsagePrice; creditTypeId: string | null };
  targets: readonly OverrideTarget[];
}

/** A stored override as rating reads it. */
export function rateOverrideOf(row: ContractOverrideRow): RateOverride {
  const targets: OverrideTarget[] = row.override_specifiers
    ? row.override_specifiers.map((specifier) => ({ productId: specifier.product_id ?? null, productTags: specifier.product_tags ?? null, anyTag: false }))
    : [{ productId: row.product_id, productTags: row.applicable_product_tags, anyTag: true }];
  const price: UsagePrice | null =
    row.rate_type === 'FLAT' && row.price !== null
      ? { rateType: 'FLAT', price: new Decimal(row.price) }
      : row.rate_type === 'TIERED' && row.tiers
        ? { rateType: 'TIERED', tiers: row.tiers.map((tier) => ({ size: tier.size === null ? null : new Decimal(tier.size), price: new Decimal(tier.price) })) }
        : null;
  if (row.type === 'OVERWRITE' && !price) throw new Error(`The stored OVERWRITE override ${row.id} has no price`);
  return {
    id: row.id,
    contractId: row.contract_id,
    startingAt: row.starting_at,
    endingBefore: row.ending_before,
    entitled: row.entitled,
    priority: row.priority === null ? null : new Decimal(row.priority),
    change: row.type === 'OVERWRITE' ? { type: 'OVERWRITE', price: price!, creditTypeId: row.credit_type_id } : { type: 'MULTIPLIER', multiplier: new Decimal(row.multiplier ?? 1) },
    targets,
  };
}

function matches(target: OverrideTarget, product: { id: string; tags: readonly string[] }): boolean {
  if (target.productId !== null && target.productId !== product.id) return false;
  if (target.productTags === null || target.productTags.length === 0) return target.productId !== null;
  return target.anyTag ? target.productTags.some((tag) => product.tags.includes(tag)) : target.productTags.every((tag) => product.tags.includes(tag));
}

/**
 * Which of two overrides in force together prices usage: an OVERWRITE beats a MULTIPLIER; between
 * overwrites, the latest `starting_at`, then the latest added (as between rates); between
 * multipliers, the lowest `priority` under EXPLICIT prioritization, else (LOWEST_MULTIPLIER) the
 * lowest multiplier, then the latest added. Negative when `a` wins.
 */
export function precedence(prioritization: OverridePrioritization) {
  return (a: RateOverride, b: RateOverride): number => {
    const latestAdded = a.id > b.id ? -1 : a.id < b.id ? 1 : 0;
    if (a.change.type !== b.change.type) return a.change.type === 'OVERWRITE' ? -1 : 1;
    if (a.change.type === 'OVERWRITE') {
      const byStart = b.startingAt.getTime() - a.startingAt.getTime();
      return byStart !== 0 ? byStart : latestAdded;
    }
    const multiplierOf = (override: RateOverride) => (override.change.type === 'MULTIPLIER' ? override.change.multiplier : new Decimal(1));
    if (prioritization === 'EXPLICIT' && a.priority && b.priority && !a.priority.eq(b.priority)) return a.priority.lt(b.priority) ? -1 : 1;
    const byMultiplier = multiplierOf(a).comparedTo(multiplierOf(b));
    return byMultiplier !== 0 ? byMultiplier : latestAdded;
  };
}

/** The overrides of a contract that target `product`, the one that wins first (`precedence`). */
export function overridesFor(product: { id: string; tags: readonly string[] }, overrides: readonly RateOverride[], prioritization: OverridePrioritization): RateOverride[] {
  return overrides.filter((override) => override.targets.some((target) => matches(target, product))).sort(precedence(prioritization));
}

/** Where overrides start and end: rating cuts the period there, as it does at rate boundaries. */
export function overrideBoundaries(overrides: Iterable<RateOverride>): Date[] {
  return [...overrides].flatMap((override) => (override.endingBefore ? [override.startingAt, override.endingBefore] : [override.startingAt]));
}

function scaled(price: UsagePrice, multiplier: Decimal): UsagePrice {
  if (price.rateType === 'FLAT') return { rateType: 'FLAT', price: price.price.mul(multiplier) };
  return { rateType: 'TIERED', tiers: price.tiers.map((tier) => ({ size: tier.size, price: tier.price.mul(multiplier) })) };
}

/**
 * The rate that prices usage at `at` once the contract's overrides are applied to `rate` (the
 * rate card's rate in force): the first of `overrides` (in `precedence` order) in force at `at`
 * replaces its price (OVERWRITE; and its pricing unit when the override names one) or multiplies
 * every price of it (MULTIPLIER), and its `entitled` when it has one. A multiplier of 0.5 on a
 * flat 100 prices at 50; on tiers of 20 then 10, at 10 then 5. Without an override in force, the
 * rate as it is.
 */
export function overriddenRate(rate: RateVersion, overrides: readonly RateOverride[], at: Date): RateVersion {
  const override = overrides.find((candidate) => candidate.startingAt <= at && (!candidate.endingBefore || at < candidate.endingBefore));
  if (!override) return rate;
  const change = override.change;
  return {
    ...rate,
    id: `${rate.id}/${override.id}`,
    entitled: override.entitled ?? rate.entitled,
    price: change.type === 'OVERWRITE' ? change.price : scaled(rate.price, change.multiplier),
    creditTypeId: change.type === 'OVERWRITE' ? (change.creditTypeId ?? rate.creditTypeId) : rate.creditTypeId,
  };
}
