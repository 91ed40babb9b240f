import type { Api } from './api.js';

/** A usage product priced in AI credits, on a billable metric grouped by user and by team. */
export interface UsageProductSpec {
  name: string;
  metric: { name: string; eventType: string; aggregation: 'SUM' | 'COUNT'; key?: string };
  /** AI credits per unit of the metric, as a decimal string ("0.0001"). */
  creditsPerUnit: string;
}

export interface AiPlan {
  aiCredits: string;
  seatsProduct: string;
  poolProduct: string;
  rateCard: string;
  usageProducts: Array<UsageProductSpec & { productId: string; metricId: string }>;
}

/** Every rate of the plan starts here, long before any contract, so that it is in force for them all. */
const RATES_START = '2020-01-01T00:00:00Z';

type Paged<T> = { data: T[]; next_page: string | null };

/** The id of the custom pricing unit called `name`, created when the tenant has none. */
export async function findOrCreateCreditType(api: Api, name: string): Promise<{ id: string; created: boolean }> {
  const find = async () => {
    for (let page: string | null = ''; page !== null; ) {
      const answer: Paged<{ id: string; name: string }> = await api.get(`/v1/credit-types/list${page ? `?next_page=${encodeURIComponent(page)}` : ''}`);
      const found = answer.data.find((type) => type.name === name);
      if (found) return found.id;
      page = answer.next_page;
    }
    return undefined;
  };
  const existing = await find();
  if (existing) return { id: existing, created: false };
  try {
    return { id: (await api.post<{ data: { id: string } }>('/v1/allot/credit-types/create', { name })).data.id, created: true };
  } catch (error) {
    // Another client created it between the look-up and the create (names are unique: 409).
    const id = await find();
    if (id) return { id, created: false };
    throw error;
  }
}

/**
 * A seat plan whose pool is in "AI credits": a SUBSCRIPTION product for seats ($0, so that the
 * seats only drive the pool), a FIXED product for the pooled credits, and usage products priced in
 * AI credits on a rate card that converts one AI credit to `aiCreditInCents` cents.
 */
export async function createAiPlan(
  api: Api,
  { name, usage, aiCreditInCents }: { name: string; usage: UsageProductSpec[]; aiCreditInCents: number },
): Promise<AiPlan> {
  const { id: aiCredits } = await findOrCreateCreditType(api, 'AI credits');
  const create = async (path: string, body: unknown) => (await api.post<{ data: { id: string } }>(path, body)).data.id;
  const [seatsProduct, poolProduct] = await Promise.all([
    create('/v1/contract-pricing/products/create', { name: 'Seats', type: 'SUBSCRIPTION' }),
    create('/v1/contract-pricing/products/create', { name: 'Pooled AI credits', type: 'FIXED' }),
  ]);
  const usageProducts = await Promise.all(
    usage.map(async (spec) => {
      const { metric } = spec;
      const metricId = await create('/v1/billable-metrics/create', {
        name: metric.name,
        aggregation_type: metric.aggregation,
        ...(metric.key && { aggregation_key: metric.key }),
        event_type_filter: { in_values: [metric.eventType] },
        property_filters: [...(metric.key ? [metric.key] : []), 'user_id', 'team'].map((property) => ({ name: property, exists: true })),
        group_keys: [['user_id'], ['team']],
      });
      const productId = await create('/v1/contract-pricing/products/create', { name: spec.name, type: 'USAGE', billable_metric_id: metricId });
      return { ...spec, productId, metricId };
    }),
  );
  const rateCard = await create('/v1/contract-pricing/rate-cards/create', {
    name,
    credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: aiCreditInCents }],
  });
  await api.post('/v1/contract-pricing/rate-cards/addRates', {
    rate_card_id: rateCard,
    rates: [
      { product_id: seatsProduct, entitled: true, rate_type: 'SUBSCRIPTION', price: 0, billing_frequency: 'MONTHLY', starting_at: RATES_START },
      ...usageProducts.map((product) => ({
        product_id: product.productId,
        entitled: true,
        rate_type: 'FLAT',
        price: product.creditsPerUnit,
        credit_type_id: aiCredits,
        starting_at: RATES_START,
      })),
    ],
  });
  return { aiCredits, seatsProduct, poolProduct, rateCard, usageProducts };
}

/**
 * The body of a contract on the AI plan: `seats` monthly seats, each bringing `creditsPerSeat` AI
 * credits into one pooled recurring credit, from `startingAt` (statements from the 1st of the
 * month unless `usageStatementSchedule` says otherwise).
 */
export function pooledSeatContract(
  plan: AiPlan,
  {
    customerId,
    startingAt,
    seats,
    creditsPerSeat,
    usageStatementSchedule,
  }: { customerId: string; startingAt: string; seats: number; creditsPerSeat: number; usageStatementSchedule?: Record<string, unknown> | undefined },
) {
  return {
    customer_id: customerId,
    rate_card_id: plan.rateCard,
    starting_at: startingAt,
    ...(usageStatementSchedule && { usage_statement_schedule: usageStatementSchedule }),
    subscriptions: [
      {
        temporary_id: 'seats',
        collection_schedule: 'ADVANCE',
        initial_quantity: seats,
        proration: { is_prorated: true, invoice_behavior: 'BILL_ON_NEXT_COLLECTION_DATE' },
        subscription_rate: { product_id: plan.seatsProduct, billing_frequency: 'MONTHLY' },
      },
    ],
    recurring_credits: [
      {
        product_id: plan.poolProduct,
        name: 'Pooled AI credits',
        access_amount: { credit_type_id: plan.aiCredits, unit_price: creditsPerSeat },
        commit_duration: { value: 1, unit: 'PERIODS' },
        priority: 1,
        starting_at: startingAt,
        subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: true } },
      },
    ],
  };
}

/**
 * A customer (found by `ingestAlias` in events) on a contract from `startingAt` with `seats` monthly
 * seats, each bringing `creditsPerSeat` AI credits into one pooled recurring credit.
 */
export async function createPooledSeatCustomer(
  api: Api,
  plan: AiPlan,
  { name, ingestAlias, seats, creditsPerSeat, startingAt }: { name: string; ingestAlias: string; seats: number; creditsPerSeat: number; startingAt: string },
): Promise<{ customerId: string; contractId: string }> {
  const customerId = (await api.post<{ data: { id: string } }>('/v1/customers', { name, ingest_aliases: [ingestAlias] })).data.id;
  const contractId = (await api.post<{ data: { id: string } }>('/v1/contracts/create', pooledSeatContract(plan, { customerId, startingAt, seats, creditsPerSeat }))).data.id;
  return { customerId, contractId };
}

/** The start of the current UTC month: where a contract starts so that its open period began on the 1st. */
export function startOfMonth(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}
