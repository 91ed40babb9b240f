import type { Decimal } from '../../src/lib/money.js';
import type { PreparedPeriod } from '../../src/modules/account/compute/rating.js';
import type * as pricing from '../../src/modules/pricing/service.js';

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
