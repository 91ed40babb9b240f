import { Decimal } from '../../../lib/money.js';
import { overriddenRate, type RateOverride } from './overrides.js';
import { priceOfSlice, type RateVersion } from './price.js';

export type { RateVersion } from './price.js';

/** A window of a billing period in which nothing that prices or funds usage changes. */
export interface Slice {
  startingAt: Date;
  endingBefore: Date;
}

/**
 * The period `[startingAt, endingBefore)` cut at every instant of `cuts` strictly inside it (rate
 * changes, segment starts and ends), in order. Usage rolls up by the hour and every such instant
 * is on an hour, so each slice holds whole rollup hours.
 */
export function slicesOf(period: Slice, cuts: Iterable<Date>): Slice[] {
  const inside = new Set<number>();
  for (const cut of cuts) {
    const time = cut.getTime();
    if (time > period.startingAt.getTime() && time < period.endingBefore.getTime()) inside.add(time);
  }
  const edges = [period.startingAt.getTime(), ...[...inside].sort((a, b) => a - b), period.endingBefore.getTime()];
  return edges.slice(1).map((end, index) => ({ startingAt: new Date(edges[index]!), endingBefore: new Date(end) }));
}

function sameGroupValues(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function newer(a: RateVersion, b: RateVersion): RateVersion {
  const byStart = a.startingAt.getTime() - b.startingAt.getTime();
  if (byStart !== 0) return byStart > 0 ? a : b;
  return a.id > b.id ? a : b;
}

/**
 * The rate that prices a product's usage at `at` for the pricing group values `groupValues`: a
 * rate for exactly those values wins over one for all values; among those, the latest
 * `starting_at`, then the latest added (ids grow with time). A rate with a later `starting_at`
 * therefore prices usage from then on.
 */
export function rateAt(versions: readonly RateVersion[], at: Date, groupValues: Readonly<Record<string, string>> | null): RateVersion | undefined {
  let specific: RateVersion | undefined;
  let general: RateVersion | undefined;
  for (const version of versions) {
    if (version.startingAt > at || (version.endingBefore && version.endingBefore <= at)) continue;
    if (version.pricingGroupValues === null) general = general ? newer(general, version) : version;
    else if (groupValues && sameGroupValues(version.pricingGroupValues, groupValues)) specific = specific ? newer(specific, version) : version;
  }
  return specific ?? general;
}

/** What one slice of usage costs under the rate in force in it. */
export interface SliceCharge {
  slice: Slice;
  /** The period's usage from its start to the slice's start, and to its end. */
  quantityBefore: Decimal;
  quantityAfter: Decimal;
  rate: RateVersion;
  /** `price(after) − price(before)` under `rate`; negative only when the quantity went down (LATEST). */
  amount: Decimal;
}

/**
 * The charges of one product (and pricing group) over a period, one per slice with a rate in
 * force (docs/rules.md rules 9 and 10): each slice is priced by the difference of the rate's price of
 * the period's cumulative usage after and before it. Slices without an entitled rate are not
 * charged, but their usage still counts as already used for the slices after them.
 *
 * `overrides`: the contract's overrides of the product, in precedence order (`overridesFor`),
 * applied to the rate in force in each slice (`overriddenRate`); the slices must be cut where
 * they start and end.
 */
export function sliceCharges({
  slices,
  cumulative,
  versions,
  groupValues,
  overrides = [],
}: {
  slices: readonly Slice[];
  /** The period's usage from its start to the end of each slice. */
  cumulative: readonly Decimal[];
  versions: readonly RateVersion[];
  groupValues: Readonly<Record<string, string>> | null;
  overrides?: readonly RateOverride[];
}): SliceCharge[] {
  const charges: SliceCharge[] = [];
  let before = new Decimal(0);
  slices.forEach((slice, index) => {
    const after = cumulative[index] ?? before;
    const listed = rateAt(versions, slice.startingAt, groupValues);
    const rate = listed && overriddenRate(listed, overrides, slice.startingAt);
    if (rate?.entitled) charges.push({ slice, quantityBefore: before, quantityAfter: after, rate, amount: priceOfSlice(rate.price, before, after) });
    before = after;
  });
  return charges;
}
