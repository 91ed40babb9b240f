import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { rejection } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

/**
 * A request with several independent mistakes is refused with one 400 that names every one of
 * them, in the message (`field: problem; field: problem`) and in `errors`, as Metronome answers:
 * a client fixes them all in one round trip.
 */
async function refusedFields(promise: Promise<unknown>): Promise<string[]> {
  const error = (await rejection(promise)) as { status: number; message: string; error?: { message: string; errors?: Array<{ field: string; message: string }> } };
  expect(error.status).toBe(400);
  const listed = error.error?.errors ?? [];
  // The message lists the same problems, in the same order.
  expect(error.error?.message).toBe(listed.map((problem) => `${problem.field}: ${problem.message}`).join('; '));
  return listed.map((problem) => problem.field);
}

describe.each(ENGINES)('one 400 names every offending field, on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let metricId: string;
  let usageProduct: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server);
    metricId = (
      await client.v1.billableMetrics.create({
        name: 'Tokens',
        aggregation_type: 'SUM',
        aggregation_key: 'tokens',
        property_filters: [{ name: 'tokens', exists: true }],
      })
    ).data.id;
    usageProduct = (await client.v1.contracts.products.create({ name: 'Tokens', type: 'USAGE', billable_metric_id: metricId })).data.id;
  });
  afterAll(() => server.stop());

  it('billable metrics: a bad aggregation_key and a bad group key, or a missing aggregation_type and a bad group key', async () => {
    const definition = { name: 'Requests', property_filters: [{ name: 'user_id', exists: true }] };
    expect(
      await refusedFields(client.v1.billableMetrics.create({ ...definition, aggregation_type: 'SUM', aggregation_key: 'tokens', group_keys: [['user_id'], ['region']] })),
    ).toEqual(['aggregation_key', 'group_keys.1.0']);
    expect(await refusedFields(client.v1.billableMetrics.create({ ...definition, group_keys: [['region']] } as never))).toEqual(['aggregation_type', 'group_keys.0.0']);
    expect((await client.v1.billableMetrics.list()).data.map((metric) => metric.name)).toEqual(['Tokens']);
  });

  it('products: every usage field sent to a product that is not USAGE', async () => {
    expect(
      await refusedFields(client.v1.contracts.products.create({ name: 'Setup fee', type: 'FIXED', billable_metric_id: metricId, pricing_group_key: ['model'] })),
    ).toEqual(['billable_metric_id', 'pricing_group_key']);
  });

  it('rate cards: a fiat unit that is not fiat and a conversion that is wrong twice over', async () => {
    expect(
      await refusedFields(
        client.v1.contracts.rateCards.create({
          name: 'Bad card',
          fiat_credit_type_id: catalog.aiCredits,
          credit_type_conversions: [
            { custom_credit_type_id: USD, fiat_per_custom_credit: 0 },
            { custom_credit_type_id: UNKNOWN, fiat_per_custom_credit: 2 },
          ],
        }),
      ),
    ).toEqual(['fiat_credit_type_id', 'credit_type_conversions.0.custom_credit_type_id', 'credit_type_conversions.0.fiat_per_custom_credit', 'credit_type_conversions.1.custom_credit_type_id']);
  });

  it('rates: addMany names the problems of every bad rate by its index, and adds none', async () => {
    const rateCard = (await client.v1.contracts.rateCards.create({ name: 'Usage card' })).data.id;
    const rate = { entitled: true, starting_at: '2024-04-01T00:00:00Z' };
    const fields = await refusedFields(
      client.v1.contracts.rateCards.rates.addMany({
        rate_card_id: rateCard,
        rates: [
          { ...rate, product_id: usageProduct, rate_type: 'FLAT', price: 2 },
          { ...rate, product_id: UNKNOWN, rate_type: 'FLAT', price: 2, credit_type_id: catalog.aiCredits },
          { ...rate, product_id: usageProduct, rate_type: 'FLAT', billing_frequency: 'MONTHLY' },
        ],
      }),
    );
    // Rate 1: its product is unknown (not checked further) and the card has no conversion for its unit; rate 2: no price, and a frequency it cannot have.
    expect(fields).toEqual(['rates.1.product_id', 'rates.1.credit_type_id', 'rates.2.price', 'rates.2.billing_frequency']);
    expect((await client.v1.contracts.rateCards.rates.list({ rate_card_id: rateCard, at: '2024-04-10T00:00:00Z' })).data).toEqual([]);
  });

  it('contracts.create: a bad recurring credit product and a subscription without a rate, with a bad override and credit', async () => {
    const customer = (await client.v1.customers.create({ name: 'Mistaken' })).data.id;
    const fields = await refusedFields(
      client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: catalog.rateCard,
        subscriptions: [
          {
            temporary_id: 'seats',
            collection_schedule: 'ADVANCE',
            initial_quantity: 5,
            proration: { is_prorated: true, invoice_behavior: 'BILL_ON_NEXT_COLLECTION_DATE' },
            subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'ANNUAL' },
          },
        ],
        recurring_credits: [
          {
            product_id: catalog.seatsProduct,
            access_amount: { credit_type_id: catalog.aiCredits, unit_price: 50 },
            commit_duration: { value: 1, unit: 'PERIODS' },
            priority: 1,
            starting_at: '2024-04-01T00:00:00Z',
            subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: true } },
          },
        ],
        credits: [
          {
            product_id: catalog.poolProduct,
            priority: 1,
            access_schedule: { credit_type_id: UNKNOWN, schedule_items: [{ amount: 10, starting_at: '2024-03-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] },
          },
        ],
        overrides: [{ product_id: catalog.poolProduct, type: 'MULTIPLIER', multiplier: 0.5, starting_at: '2024-04-01T00:00:00Z' }],
      }),
    );
    expect(fields).toEqual([
      'subscriptions.0.subscription_rate.billing_frequency',
      'recurring_credits.0.product_id',
      'credits.0.access_schedule.schedule_items.0.starting_at',
      'credits.0.access_schedule.credit_type_id',
      'overrides.0.product_id',
    ]);
    expect((await client.v1.contracts.list({ customer_id: customer })).data).toEqual([]);
  });

  it('contracts.create: an unknown rate card and customer are named with an end before the start; the subscription is not checked against the unknown card', async () => {
    const fields = await refusedFields(
      client.v1.contracts.create({
        customer_id: UNKNOWN,
        starting_at: '2024-04-01T00:00:00Z',
        ending_before: '2024-03-01T00:00:00Z',
        rate_card_id: UNKNOWN,
        subscriptions: [
          {
            collection_schedule: 'ADVANCE',
            initial_quantity: 1,
            proration: { is_prorated: true },
            subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
          },
        ],
      }),
    );
    expect(fields).toEqual(['customer_id', 'ending_before', 'rate_card_id']);
  });

  it('contracts.edit (v2): a quantity change in a closed period and a credit on a product that is not FIXED', async () => {
    const { customer, contract, subscription } = await createSeatContract(client, { catalog, seats: 2 });
    const fields = await refusedFields(
      client.v2.contracts.edit({
        customer_id: customer,
        contract_id: contract,
        update_subscriptions: [
          { subscription_id: subscription, quantity_updates: [{ starting_at: '2024-03-01T00:00:00Z', quantity: 3 }] },
          { subscription_id: UNKNOWN, quantity_updates: [{ starting_at: '2024-04-15T00:00:00Z', quantity: 3 }] },
        ],
        add_credits: [
          {
            product_id: catalog.seatsProduct,
            priority: 1,
            access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 10, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] },
          },
        ],
      }),
    );
    expect(fields).toEqual(['update_subscriptions.0.quantity_updates.0.starting_at', 'update_subscriptions.1.subscription_id', 'add_credits.0.product_id']);
    expect((await client.v2.contracts.getEditHistory({ customer_id: customer, contract_id: contract })).data).toEqual([]);
  });

  it('contracts.edit (v2): an end before the open period named with a credit on a product that is not FIXED', async () => {
    const { customer, contract } = await createSeatContract(client, { catalog, seats: 2 });
    const fields = await refusedFields(
      client.v2.contracts.edit({
        customer_id: customer,
        contract_id: contract,
        update_contract_end_date: '2024-03-01T00:00:00Z',
        add_credits: [
          {
            product_id: catalog.seatsProduct,
            priority: 1,
            access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 10, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] },
          },
        ],
      }),
    );
    // The credit is checked against the contract as it stands, not against the refused end (which
    // is named once for the contract and once for each subscription and recurring grant it would cut).
    expect([...new Set(fields)]).toEqual(['update_contract_end_date', 'add_credits.0.product_id']);
  });

  it('credits and commits on a customer: the contracts, the product and the pricing unit', async () => {
    const customer = (await client.v1.customers.create({ name: 'No contracts' })).data.id;
    const fields = await refusedFields(
      client.v1.customers.credits.create({
        customer_id: customer,
        product_id: catalog.seatsProduct,
        priority: 1,
        applicable_contract_ids: [UNKNOWN],
        access_schedule: { credit_type_id: UNKNOWN, schedule_items: [{ amount: 10, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] },
      }),
    );
    expect(fields).toEqual(['applicable_contract_ids.0', 'product_id', 'access_schedule.credit_type_id']);
  });

  it('manual ledger entries: a timestamp outside the segment and an amount of 0', async () => {
    const customer = (await client.v1.customers.create({ name: 'Ledger' })).data.id;
    const credit = (
      await client.v1.customers.credits.create({
        customer_id: customer,
        product_id: catalog.poolProduct,
        priority: 1,
        access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 100, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] },
      })
    ).data.id;
    const [listed] = (await client.v1.customers.credits.list({ customer_id: customer })).data;
    const segment = listed!.access_schedule!.schedule_items[0]!.id;
    expect(
      await refusedFields(client.v1.contracts.addManualBalanceEntry({ id: credit, customer_id: customer, segment_id: segment, amount: 0, reason: 'x', timestamp: '2024-06-01T00:00:00Z' })),
    ).toEqual(['timestamp', 'amount']);
    // The segment is looked up only on a credit that exists: an unknown credit is named alone, with the amount.
    expect(
      await refusedFields(client.v1.contracts.addManualBalanceEntry({ id: UNKNOWN, customer_id: customer, segment_id: segment, amount: 0, reason: 'x' })),
    ).toEqual(['id', 'amount']);
  });

  it('alerts: the customer, a metric on a credit alert and a percentage above 100', async () => {
    expect(
      await refusedFields(
        client.v1.alerts.create({
          alert_type: 'low_remaining_credit_percentage_reached',
          name: 'Too much',
          threshold: 150,
          customer_id: UNKNOWN,
          billable_metric_id: metricId,
        }),
      ),
    ).toEqual(['customer_id', 'billable_metric_id', 'threshold']);
  });
});
