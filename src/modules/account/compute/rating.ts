import { Decimal } from '../../../lib/money.js';
import type { Period } from '../../../lib/periods.js';
import type * as pricing from '../../pricing/service.js';
import type { RollupSelection } from '../../usage/sliceRepo.js';
import { sliceCharges, slicesOf, type RateVersion, type Slice, type SliceCharge } from './charges.js';
import { overrideBoundaries, type RateOverride } from './overrides.js';
import { cumulativeQuantities } from './cumulative.js';
import { foldUsage, sameSelection, type PeriodUsage, type UsageGroup } from './usageFold.js';

export { hourlyFromFor, mergeUsage, usageReadFrom, type PeriodUsage } from './usageFold.js';

/** The usage of one product (and pricing group) on a contract over its open period, in one pricing unit. */
export interface RatedLine {
  /** Stable within the period: contract, product, pricing group values and pricing unit. */
  id: string;
  productId: string;
  productName: string;
  productTags: string[];
  pricingGroupValues: Record<string, string> | null;
  /** When rated split by one group property (`splitBy`): the line's value of it. */
  splitValue?: string;
  /** When rated split by group properties (`splitBy`): the line's values of them, in their order. */
  splitValues?: string[];
  creditTypeId: string;
  /** The period's usage so far (the metric's aggregate from the period's start). */
  quantity: Decimal;
  charges: SliceCharge[];
  /** The sum of `charges`. */
  total: Decimal;
}

/** A contract's open billing period, rated: the basis of its draft invoice and of the live drawdown. */
export interface RatedPeriod {
  contractId: string;
  period: Period;
  rateCard: pricing.RateCard;
  lines: RatedLine[];
}

export function usagePrice(rate: pricing.Rate): RateVersion['price'] | undefined {
  if (rate.rateType === 'FLAT' && rate.price) return { rateType: 'FLAT', price: rate.price };
  if (rate.rateType === 'TIERED' && rate.tiers) return { rateType: 'TIERED', tiers: rate.tiers };
  return undefined;
}

/** The group properties a rating is split by, in order: one property (`'user_id'`) or several (`['user_id', 'team']`). */
export type SplitBy = string | readonly string[];

const splitProperties = (splitBy: SplitBy | undefined): readonly string[] | undefined => (typeof splitBy === 'string' ? [splitBy] : splitBy);

/**
 * Where a product's usage is read from: the metric's totals, or the group key that holds its
 * pricing group. Split by properties, the smallest of the metric's group keys that holds the
 * pricing group and every one of the properties; undefined when the metric has none.
 */
function selectionOf(product: pricing.Product, metric: pricing.BillableMetric | undefined, splitBy: readonly string[] | undefined): RollupSelection | undefined {
  const pricingKey = product.pricingGroupKey ?? [];
  if (splitBy !== undefined) {
    const needed = [...pricingKey, ...splitBy];
    const candidates = (metric?.group_keys ?? [])
      .map((groupKey) => [...new Set(groupKey)].sort())
      .filter((groupKey) => needed.every((property) => groupKey.includes(property)))
      .sort((a, b) => a.length - b.length);
    return candidates[0] && { metricId: product.billableMetricId!, groupKey: candidates[0] };
  }
  if (pricingKey.length === 0) return { metricId: product.billableMetricId!, groupKey: [] };
  const stored = [...new Set([...pricingKey, ...(product.presentationGroupKey ?? [])])].sort();
  return { metricId: product.billableMetricId!, groupKey: stored };
}

/** What rating a contract's open period needs from the catalog: independent of usage and balances, so it can load alongside them. */
export interface PreparedPeriod {
  contractId: string;
  period: Period;
  rateCard: pricing.RateCard;
  rates: pricing.Rate[];
  versions: Map<string, RateVersion[]>;
  /** The contract's overrides of each product it rates, by product id, in precedence order (`overridesFor`). */
  overrides: Map<string, RateOverride[]>;
  products: pricing.Product[];
  /** The card's seat rates (those of SUBSCRIPTION products) in force during the period. */
  seatRates: pricing.Rate[];
  /** The SUBSCRIPTION products the card prices, by id. */
  seatProducts: Map<string, pricing.Product>;
  metrics: Map<string, pricing.BillableMetric>;
}

/**
 * What rating a prepared period reads from the usage rollups: the period cut into slices at
 * `cuts` (where segments start or end) and wherever a rate or an override starts or ends, and the
 * (metric, group key) pairs its products read (per value of the `splitBy` properties when given); `uniqueSelections` are those of
 * UNIQUE metrics, whose first-seen values are read too.
 */
export interface UsageWindow {
  from: Date;
  to: Date;
  slices: Slice[];
  selections: RollupSelection[];
  uniqueSelections: RollupSelection[];
  /** The properties split by, always as a list: one property reads the same rows however it was named. */
  splitBy: readonly string[] | undefined;
}

export function usageWindowOf({ prepared, cuts, splitBy: split }: { prepared: PreparedPeriod; cuts: Iterable<Date>; splitBy?: SplitBy | undefined }): UsageWindow {
  const { period, rates, products, metrics, overrides } = prepared;
  const splitBy = splitProperties(split);
  const slices = slicesOf(period, [
    ...cuts,
    ...rates.flatMap((rate) => (rate.endingBefore ? [rate.startingAt, rate.endingBefore] : [rate.startingAt])),
    ...overrideBoundaries([...overrides.values()].flat()),
  ]);
  const selections: RollupSelection[] = [];
  for (const product of products) {
    const selection = selectionOf(product, metrics.get(product.billableMetricId!), splitBy);
    if (selection && !selections.some((s) => sameSelection(s, selection.metricId, selection.groupKey))) selections.push(selection);
  }
  const uniqueSelections = selections.filter((s) => metrics.get(s.metricId)?.aggregation_type === 'UNIQUE');
  return { from: period.startingAt, to: period.endingBefore, slices, selections, uniqueSelections, splitBy };
}

/**
 * Rates a contract's open period from the usage rollups (docs/rules.md rule 9): for every USAGE product
 * its rate card prices, the metric's usage per slice of the period (split per pricing group value
 * where the product has a pricing group key), priced slice by slice by the rate in force, as the
 * contract's overrides change it. The period is cut at `cuts` (where segments start or end) and
 * wherever a rate or an override starts or ends.
 *
 * With `splitBy` (a group property such as `user_id`, or several such as `user_id` and `team`),
 * each line is further split per value (per combination of values) of the properties and each
 * part rated on its own usage, as if the properties were part of the pricing group: what each
 * user, or each user in each team, spent. Products whose metric has no group key holding all the
 * properties (with the pricing group key) are left out.
 */
export function ratePeriod({ prepared, window, usage }: { prepared: PreparedPeriod; window: UsageWindow; usage: PeriodUsage }): RatedPeriod {
  const { contractId, period, rateCard, versions, overrides, products, metrics } = prepared;
  const { slices, splitBy } = window;
  if (window.selections.length === 0) return { contractId, period, rateCard, lines: [] };
  const { firstSeen } = usage;
  const sliceKey = slices.map((slice) => slice.startingAt.getTime()).join(',');

  const lines: RatedLine[] = [];
  for (const product of products) {
    const metric = metrics.get(product.billableMetricId!);
    const selection = selectionOf(product, metric, splitBy);
    if (!metric || !selection) continue;
    const pricingKey = product.pricingGroupKey?.length ? product.pricingGroupKey : null;
    const unique = metric.aggregation_type === 'UNIQUE';
    // UNIQUE adds first-seen values to the groups below: those are folded afresh, never kept.
    const folded = foldUsage(usage, { selection, pricingKey, splitBy, sliceCount: slices.length, sliceKey }, { keep: !unique });
    const groupOf = (groupKey: readonly string[], groupValues: readonly string[]) => folded.groupOf(groupKey, groupValues);
    if (unique) {
      // A value seen in several groups that price as one counts once, from its first slice.
      const first = new Map<string, { group: ReturnType<typeof groupOf>; slice: number }>();
      for (const row of firstSeen) {
        if (!sameSelection(selection, row.metric_id, row.group_key)) continue;
        const group = groupOf(row.group_key, row.group_values);
        const key = `${JSON.stringify([group.groupValues, group.splitValues ?? null])}\u0000${row.value}`;
        const seen = first.get(key);
        if (!seen || row.slice < seen.slice) first.set(key, { group, slice: row.slice });
      }
      for (const { group, slice } of first.values()) {
        const aggregate = group.slices[slice]!;
        group.slices[slice] = { ...aggregate, newDistinct: aggregate.newDistinct.add(1) };
      }
    }
    const productVersions = versions.get(product.id) ?? NO_VERSIONS;
    const productOverrides = overrides.get(product.id) ?? NO_OVERRIDES;
    for (const group of folded.groups.values()) {
      // A group kept from an earlier fold (the same object: its usage did not change) rated on the same terms before: its lines stand.
      const rated = unique ? undefined : ratedGroups.get(group);
      if (rated && rated.product === product && rated.metric === metric && rated.slices === slices && rated.versions === productVersions && rated.overrides === productOverrides && rated.contractId === contractId) {
        lines.push(...rated.lines);
        continue;
      }
      const own = rateGroup({ contractId, product, metric, slices, versions: productVersions, overrides: productOverrides, group });
      if (!unique) ratedGroups.set(group, { product, metric, slices, versions: productVersions, overrides: productOverrides, contractId, lines: own });
      lines.push(...own);
    }
  }
  lines.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { contractId, period, rateCard, lines };
}

const NO_VERSIONS: RateVersion[] = [];
const NO_OVERRIDES: RateOverride[] = [];

/** The lines each group was rated into, with what it was rated on: a group's usage never changes once folded (`usageFold.ts`). */
const ratedGroups = new WeakMap<
  UsageGroup,
  { product: pricing.Product; metric: pricing.BillableMetric; slices: Slice[]; versions: RateVersion[]; overrides: RateOverride[]; contractId: string; lines: RatedLine[] }
>();

/** One group's lines (one per pricing unit its rates charge in): its usage per slice, priced slice by slice. */
function rateGroup({
  contractId,
  product,
  metric,
  slices,
  versions,
  overrides,
  group: { groupValues, splitValues, slices: aggregates },
}: {
  contractId: string;
  product: pricing.Product;
  metric: pricing.BillableMetric;
  slices: Slice[];
  versions: RateVersion[];
  overrides: RateOverride[];
  group: UsageGroup;
}): RatedLine[] {
  // Split by one property, the line names its value as itself; by several, as the list.
  const split = splitValues === undefined ? [] : splitValues.length === 1 ? [splitValues[0]!] : [splitValues];
  const cumulative = cumulativeQuantities(metric.aggregation_type, aggregates);
  const charges = sliceCharges({ slices, cumulative, versions, groupValues, overrides });
  const quantity = cumulative[cumulative.length - 1] ?? new Decimal(0);
  const lines: RatedLine[] = [];
  for (const creditTypeId of new Set(charges.map((charge) => charge.rate.creditTypeId))) {
    const own = charges.filter((charge) => charge.rate.creditTypeId === creditTypeId);
    lines.push({
      id: JSON.stringify([contractId, product.id, groupValues, creditTypeId, ...split]),
      productId: product.id,
      productName: product.name,
      productTags: product.tags,
      pricingGroupValues: groupValues,
      ...(splitValues !== undefined && { splitValues }),
      ...(splitValues?.length === 1 && { splitValue: splitValues[0]! }),
      creditTypeId,
      quantity,
      charges: own,
      total: own.reduce((sum, charge) => sum.add(charge.amount), new Decimal(0)),
    });
  }
  return lines;
}

