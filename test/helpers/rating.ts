import type { Decimal } from '../../src/lib/money.js';
import type { PreparedPeriod } from '../../src/modules/account/compute/rating.js';
import type * as pricing from '../../src/modules/pricing/service.js';
import type { SliceRollupRow } from '../../src/modules/usage/sliceRepo.js';

/**
 * A contract's period prepared for rating (`ratePeriod`) with one USAGE product `p` on metric `m`
 * (no pricing group), priced in `credits` by one graduated rate in force from the period's start.
 */
export function preparedWithTieredRate({
  period,
  metric,
  productName,
  tiers,
}: {
  period: { startingAt: Date; endingBefore: Date };
  metric: pricing.BillableMetric;
  productName: string;
  tiers: Array<{ size: Decimal | null; price: Decimal }>;
}): PreparedPeriod {
  const product = { id: 'p', name: productName, tags: [], billableMetricId: metric.id, pricingGroupKey: null, presentationGroupKey: null } as unknown as pricing.Product;
  const rate = {
    id: 'r',
    startingAt: period.startingAt,
    endingBefore: null,
    entitled: true,
    creditTypeId: 'credits',
    pricingGroupValues: null,
    price: { rateType: 'TIERED' as const, tiers },
  };
  return { contractId: 'k', period, rateCard: {}, rates: [], versions: new Map([['p', [rate]]]), products: [product], seatRates: [], seatProducts: new Map(), metrics: new Map([[metric.id, metric]]), overrides: new Map() } as unknown as PreparedPeriod;
}

/** A rollup row of metric `m` as `sliceRollups` reads it: one event summing `sum` (its max too), in `slice`, read per day when `day` is given. */
export function rollupRow({ groupKey, groupValues, sum, slice = 0, day }: { groupKey: string[]; groupValues: string[]; sum: number; slice?: number; day?: Date }): SliceRollupRow {
  return {
    metric_id: 'm',
    group_key: groupKey,
    group_values: groupValues,
    slice,
    event_count: '1',
    value_sum: String(sum),
    value_max: String(sum),
    latest_value: null,
    latest_at: null,
    latest_transaction_id: null,
    ...(day && { day }),
  };
}
