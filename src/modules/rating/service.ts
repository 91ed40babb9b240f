import type { ServiceContext } from '../../lib/context.js';
import { Decimal } from '../../lib/money.js';
import { periodAt, type Period, type PeriodSchedule } from '../../lib/periods.js';
import * as pricing from '../pricing/service.js';
import { sliceCharges, slicesOf, type RateVersion, type SliceCharge } from './compute/charges.js';
import { combine, cumulativeQuantities, emptyAggregate, type SliceAggregate } from './compute/cumulative.js';
import * as repo from './repo.js';

/** The usage of one product (and pricing group) on a contract over its open period, in one pricing unit. */
export interface RatedLine {
  /** Stable within the period: contract, product, pricing group values and pricing unit. */
  id: string;
  productId: string;
  productName: string;
  productTags: string[];
  pricingGroupValues: Record<string, string> | null;
  /** When rated split by a group property (`splitBy`): the line's value of it. */
  splitValue?: string;
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

export interface ContractToRate {
  id: string;
  rateCardId: string | null;
  /** The contract's usage statement periods. */
  schedule: PeriodSchedule;
}

function usagePrice(rate: pricing.Rate): RateVersion['price'] | undefined {
  if (rate.rateType === 'FLAT' && rate.price) return { rateType: 'FLAT', price: rate.price };
  if (rate.rateType === 'TIERED' && rate.tiers) return { rateType: 'TIERED', tiers: rate.tiers };
  return undefined;
}

/**
 * Where a product's usage is read from: the metric's totals, or the group key that holds its
 * pricing group. Split by a property, the smallest of the metric's group keys that holds both the
 * pricing group and the property; undefined when the metric has none.
 */
function selectionOf(product: pricing.Product, metric: pricing.BillableMetric | undefined, splitBy: string | undefined): repo.RollupSelection | undefined {
  const pricingKey = product.pricingGroupKey ?? [];
  if (splitBy !== undefined) {
    const needed = [...pricingKey, splitBy];
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

/** The values of `pricingKey` among a row's group values (stored in the order of its sorted `groupKey`). */
function project(groupKey: readonly string[], groupValues: readonly string[], pricingKey: readonly string[]): Record<string, string> {
  return Object.fromEntries(pricingKey.map((property) => [property, groupValues[groupKey.indexOf(property)] ?? '']));
}

const sameSelection = (a: repo.RollupSelection, metricId: string, groupKey: readonly string[]) =>
  a.metricId === metricId && a.groupKey.length === groupKey.length && a.groupKey.every((property, i) => property === groupKey[i]);

/** What rating a contract's open period needs from the catalog: independent of usage and balances, so it can load alongside them. */
export interface PreparedPeriod {
  contractId: string;
  period: Period;
  rateCard: pricing.RateCard;
  rates: pricing.Rate[];
  versions: Map<string, RateVersion[]>;
  products: pricing.Product[];
  /** The SUBSCRIPTION products the card prices, by id. */
  seatProducts: Map<string, pricing.Product>;
  metrics: Map<string, pricing.BillableMetric>;
}

/**
 * Loads what rating `contract`'s open period needs: the period of its usage statements covering
 * the clock's now, its rate card, the FLAT and TIERED rates in force at some point of the period,
 * and the USAGE products they price with their billable metrics. Undefined when the contract has
 * no rate card or no period covering now.
 */
export async function prepareOpenPeriod(ctx: ServiceContext, { tenantId, contract }: { tenantId: string; contract: ContractToRate }): Promise<PreparedPeriod | undefined> {
  const now = ctx.clock.now();
  const period = contract.rateCardId ? periodAt(contract.schedule, now) : undefined;
  if (!period || !contract.rateCardId) return undefined;
  const [rateCard, rates] = await Promise.all([
    pricing.findRateCard(ctx, { tenantId, rateCardId: contract.rateCardId }),
    pricing.ratesDuring(ctx, { tenantId, rateCardId: contract.rateCardId, from: period.startingAt, to: period.endingBefore }),
  ]);
  if (!rateCard) return undefined;
  const versions = new Map<string, RateVersion[]>();
  for (const rate of rates) {
    if (pricing.isSeatRate(rate)) continue;
    const price = usagePrice(rate);
    if (!price) continue;
    const list = versions.get(rate.productId) ?? [];
    list.push({ id: rate.id, startingAt: rate.startingAt, endingBefore: rate.endingBefore, entitled: rate.entitled, price, creditTypeId: rate.creditTypeId, pricingGroupValues: rate.pricingGroupValues });
    versions.set(rate.productId, list);
  }
  // The products the card prices by subscription come along, for the names of seat lines.
  const seatProductIds = rates.filter(pricing.isSeatRate).map((rate) => rate.productId);
  const priced = versions.size + seatProductIds.length === 0 ? new Map<string, pricing.Product>() : await pricing.findProductsAt(ctx, { tenantId, productIds: [...new Set([...versions.keys(), ...seatProductIds])], at: now });
  const products = [...priced.values()].filter((product) => versions.has(product.id) && product.type === 'USAGE' && product.billableMetricId);
  const seatProducts = new Map([...priced].filter(([id]) => seatProductIds.includes(id)));
  const metrics = products.length ? await pricing.findBillableMetrics(ctx, { tenantId, ids: [...new Set(products.map((p) => p.billableMetricId!))] }) : new Map();
  return { contractId: contract.id, period, rateCard, rates, versions, products, seatProducts, metrics };
}

/**
 * Rates a contract's open period from the usage rollups (DESIGN rule 9): for every USAGE product
 * its rate card prices, the metric's usage per slice of the period (split per pricing group value
 * where the product has a pricing group key), priced slice by slice by the rate in force. The
 * period is cut at `cuts` (where segments start or end) and wherever a rate starts or ends.
 *
 * With `splitBy` (a group property such as `user_id`), each line is further split per value of
 * the property and each part rated on its own usage, as if the property were part of the pricing
 * group: what each user spent. Products whose metric has no group key holding the property are
 * left out.
 */
export async function rateOpenPeriod(
  ctx: ServiceContext,
  { tenantId, customerId, prepared, cuts, splitBy }: { tenantId: string; customerId: string; prepared: PreparedPeriod; cuts: Iterable<Date>; splitBy?: string | undefined },
): Promise<RatedPeriod> {
  const { contractId, period, rateCard, rates, versions, products, metrics } = prepared;
  if (products.length === 0) return { contractId, period, rateCard, lines: [] };
  const slices = slicesOf(period, [...cuts, ...rates.flatMap((rate) => (rate.endingBefore ? [rate.startingAt, rate.endingBefore] : [rate.startingAt]))]);
  const selections: repo.RollupSelection[] = [];
  for (const product of products) {
    const selection = selectionOf(product, metrics.get(product.billableMetricId!), splitBy);
    if (selection && !selections.some((s) => sameSelection(s, selection.metricId, selection.groupKey))) selections.push(selection);
  }
  if (selections.length === 0) return { contractId, period, rateCard, lines: [] };
  const window = { customerId, selections, from: period.startingAt, to: period.endingBefore, sliceStarts: slices.map((s) => s.startingAt) };
  const uniqueSelections = selections.filter((s) => metrics.get(s.metricId)?.aggregation_type === 'UNIQUE');
  const [rows, firstSeen] = await Promise.all([
    repo.sliceRollups(ctx.db, tenantId, window),
    repo.firstSeenValues(ctx.db, tenantId, { ...window, selections: uniqueSelections }),
  ]);

  const lines: RatedLine[] = [];
  for (const product of products) {
    const metric = metrics.get(product.billableMetricId!);
    const selection = selectionOf(product, metric, splitBy);
    if (!metric || !selection) continue;
    const pricingKey = product.pricingGroupKey?.length ? product.pricingGroupKey : null;
    const groups = new Map<string, { groupValues: Record<string, string> | null; splitValue: string | undefined; slices: SliceAggregate[] }>();
    const groupOf = (groupKey: string[], groupValues: string[]) => {
      const values = pricingKey ? project(groupKey, groupValues, pricingKey) : null;
      const splitValue = splitBy === undefined ? undefined : (groupValues[groupKey.indexOf(splitBy)] ?? '');
      const key = JSON.stringify([values, splitValue ?? null]);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { groupValues: values, splitValue, slices: slices.map(emptyAggregate) }));
      return group;
    };
    for (const row of rows) {
      if (!sameSelection(selection, row.metric_id, row.group_key)) continue;
      const group = groupOf(row.group_key, row.group_values);
      group.slices[row.slice] = combine(group.slices[row.slice]!, {
        count: new Decimal(row.event_count),
        sum: new Decimal(row.value_sum),
        max: row.value_max === null ? null : new Decimal(row.value_max),
        latest: row.latest_value === null || !row.latest_at ? null : { value: new Decimal(row.latest_value), at: row.latest_at, transactionId: row.latest_transaction_id ?? '' },
        newDistinct: new Decimal(0),
      });
    }
    if (metric.aggregation_type === 'UNIQUE') {
      // A value seen in several groups that price as one counts once, from its first slice.
      const first = new Map<string, { group: ReturnType<typeof groupOf>; slice: number }>();
      for (const row of firstSeen) {
        if (!sameSelection(selection, row.metric_id, row.group_key)) continue;
        const group = groupOf(row.group_key, row.group_values);
        const key = `${JSON.stringify([group.groupValues, group.splitValue ?? null])}\u0000${row.value}`;
        const seen = first.get(key);
        if (!seen || row.slice < seen.slice) first.set(key, { group, slice: row.slice });
      }
      for (const { group, slice } of first.values()) group.slices[slice]!.newDistinct = group.slices[slice]!.newDistinct.add(1);
    }
    for (const { groupValues, splitValue, slices: aggregates } of groups.values()) {
      const cumulative = cumulativeQuantities(metric.aggregation_type, aggregates);
      const charges = sliceCharges({ slices, cumulative, versions: versions.get(product.id) ?? [], groupValues });
      const quantity = cumulative[cumulative.length - 1] ?? new Decimal(0);
      for (const creditTypeId of new Set(charges.map((charge) => charge.rate.creditTypeId))) {
        const own = charges.filter((charge) => charge.rate.creditTypeId === creditTypeId);
        lines.push({
          id: JSON.stringify(splitValue === undefined ? [contractId, product.id, groupValues, creditTypeId] : [contractId, product.id, groupValues, creditTypeId, splitValue]),
          productId: product.id,
          productName: product.name,
          productTags: product.tags,
          pricingGroupValues: groupValues,
          ...(splitValue !== undefined && { splitValue }),
          creditTypeId,
          quantity,
          charges: own,
          total: own.reduce((sum, charge) => sum.add(charge.amount), new Decimal(0)),
        });
      }
    }
  }
  lines.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { contractId, period, rateCard, lines };
}

