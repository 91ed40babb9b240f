import { createCreditType } from './catalog.js';
import type { TestServer } from './server.js';

/**
 * What the controls tests share: AI credits, a metric of units grouped by user and by team, priced
 * at 1 AI credit a unit, and customers with a pool of AI credits from April 1, 2024.
 */
export interface ControlsCatalog {
  aiCredits: string;
  rateCard: string;
  fixed: string;
  /** A customer named and aliased `alias`, with a pool of `pool` AI credits for April to June. */
  customerWithPool(alias: string, pool?: number): Promise<string>;
  /** `units` of usage for `alias`, by `user_id` and `team` (the metric counts only events with both), on April 9. */
  use(alias: string, units: number, properties: { user_id: string; team: string }): Promise<void>;
  /** `POST /v1/allot/entitlements/check` in AI credits. */
  check(body: Record<string, unknown>): Promise<{ status: number; body: { data?: Record<string, unknown>; message?: string } }>;
  /** `POST /v1/allot/dashboards/controls-url`. */
  controlsUrl(body: Record<string, unknown>): Promise<{ status: number; body: { data?: { url: string }; message?: string; errors?: { field: string }[] } }>;
  /** A call of Allot's own API with the tenant's key. */
  api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: { data?: unknown; message?: string } }>;
}

let sequence = 0;

export async function controlsCatalog(server: TestServer): Promise<ControlsCatalog> {
  const client = server.client();
  const api = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(`${server.baseURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as { data?: unknown; message?: string } };
  };
  const aiCredits = await createCreditType(server, 'AI credits');
  const fixed = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
  const metric = (
    await client.v1.billableMetrics.create({
      name: 'Units',
      event_type_filter: { in_values: ['units'] },
      aggregation_type: 'SUM',
      aggregation_key: 'units',
      property_filters: [
        { name: 'units', exists: true },
        { name: 'user_id', exists: true },
        { name: 'team', exists: true },
      ],
      group_keys: [['user_id'], ['team']],
    })
  ).data.id;
  const product = (await client.v1.contracts.products.create({ name: 'Units', type: 'USAGE', billable_metric_id: metric })).data.id;
  const rateCard = (await client.v1.contracts.rateCards.create({ name: 'AI plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
  await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });

  return {
    aiCredits,
    rateCard,
    fixed,
    async customerWithPool(alias, pool = 100) {
      const customer = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: rateCard,
        credits: [{ product_id: fixed, name: 'Pool', priority: 1, access_schedule: { credit_type_id: aiCredits, schedule_items: [{ amount: pool, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-07-01T00:00:00Z' }] } }],
      });
      return customer;
    },
    async use(alias, units, properties) {
      await client.v1.usage.ingest({
        usage: [{ transaction_id: `controls-${++sequence}-${Date.now()}`, customer_id: alias, event_type: 'units', timestamp: '2024-04-09T10:00:00Z', properties: { units, ...properties } }],
      });
    },
    async check(body) {
      return (await api('POST', '/v1/allot/entitlements/check', { credit_type_id: aiCredits, ...body })) as { status: number; body: { data?: Record<string, unknown>; message?: string } };
    },
    async controlsUrl(body) {
      return (await api('POST', '/v1/allot/dashboards/controls-url', body)) as { status: number; body: { data?: { url: string }; message?: string; errors?: { field: string }[] } };
    },
    api,
  };
}
