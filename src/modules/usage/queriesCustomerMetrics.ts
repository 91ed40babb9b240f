import type { ServiceContext } from '../../lib/context.js';
import { fetchPage } from '../../lib/pagination.js';
import * as contracts from '../contracts/service.js';
import * as pricing from '../pricing/service.js';
import { compareText } from './queriesCursor.js';

/** Rates of an open-ended contract are looked up to here. */
const END_OF_TIME = new Date('9999-12-31T00:00:00Z');

/**
 * `v1.customers.listBillableMetrics`: the billable metrics of the USAGE products that the rate
 * cards of the customer's live contracts price, ordered by id and paged. `onCurrentPlan` keeps
 * the contracts in force now and the rates in force now; otherwise every rate a card holds
 * during its contract counts. Archived metrics are left out unless `includeArchived`. An unknown
 * customer is a 404.
 */
export async function listCustomerBillableMetrics(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    query,
  }: { tenantId: string; customerId: string; query: { includeArchived: boolean; onCurrentPlan: boolean; limit: number; nextPage?: string | undefined } },
): Promise<{ metrics: pricing.BillableMetric[]; nextPage: string | null }> {
  const now = ctx.clock.now();
  const rows = await contracts.listContractRows(ctx, { tenantId, customerId, includeArchived: false, coveringDate: query.onCurrentPlan ? now : undefined });
  const productIds = new Set<string>();
  for (const contract of rows) {
    if (!contract.rate_card_id) continue;
    const rates = query.onCurrentPlan
      ? await pricing.ratesInForce(ctx, { tenantId, rateCardId: contract.rate_card_id, at: now })
      : await pricing.ratesDuring(ctx, { tenantId, rateCardId: contract.rate_card_id, from: contract.starting_at, to: contract.ending_before ?? END_OF_TIME });
    for (const rate of rates) productIds.add(rate.productId);
  }
  const products = await pricing.findProducts(ctx, { tenantId, productIds: [...productIds] });
  const metricIds = [...products.values()].flatMap((product) => (product.type === 'USAGE' && product.billableMetricId ? [product.billableMetricId] : []));
  const metrics = [...(await pricing.findBillableMetrics(ctx, { tenantId, ids: [...new Set(metricIds)] })).values()]
    .filter((metric) => query.includeArchived || !metric.archived_at)
    .sort((a, b) => compareText(a.id, b.id));
  const page = await fetchPage(query, async ({ afterId, limit }) => metrics.filter((metric) => afterId === null || metric.id > afterId).slice(0, limit));
  return { metrics: page.rows, nextPage: page.nextPage };
}
