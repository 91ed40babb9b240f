import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCreditType } from '../helpers/catalog.js';
import { startServe, type RunningCli } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Two Allot processes on one PostgreSQL each keep computed accounts (the account engine's cache).
 * A read on one that starts after a write's response on the other reflects the write: new usage,
 * a manual ledger entry, a seat change, a new rate. Each read is first made on a warm account, so
 * a kept account that missed the write would show.
 */
describe('accounts kept by two processes on PostgreSQL', () => {
  let server: TestServer;
  let second: RunningCli;
  let a: Metronome;
  let b: Metronome;
  let customer: string;
  let contract: string;
  let aiCredits: string;
  let rateCard: string;
  let tokens: string;
  let sequence = 0;
  // Both processes run on a test clock stopped at the same instant.
  const NOW = '2024-04-10T00:00:00Z';
  const monthStart = '2024-04-01T00:00:00Z';

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: NOW });
    second = await startServe(['--port', '0', '--test-clock', NOW], { DATABASE_URL: server.database.url!, LOG_LEVEL: 'silent' });
    a = server.client();
    b = new Metronome({ bearerToken: server.key, baseURL: /is listening on (\S+)/.exec(second.output())![1]!, maxRetries: 0 });

    aiCredits = await createCreditType(server, 'AI credits');
    const metric = (
      await a.v1.billableMetrics.create({ name: 'tokens', event_type_filter: { in_values: ['tokens'] }, aggregation_type: 'SUM', aggregation_key: 'tokens', property_filters: [{ name: 'tokens', exists: true }] })
    ).data.id;
    tokens = (await a.v1.contracts.products.create({ name: 'Tokens', type: 'USAGE', billable_metric_id: metric })).data.id;
    const seats = (await a.v1.contracts.products.create({ name: 'Seats', type: 'SUBSCRIPTION' })).data.id;
    const pool = (await a.v1.contracts.products.create({ name: 'Pool', type: 'FIXED' })).data.id;
    rateCard = (await a.v1.contracts.rateCards.create({ name: 'Plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
    await a.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: tokens, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2020-01-01T00:00:00Z' });
    await a.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: seats, entitled: true, rate_type: 'FLAT', price: 0, billing_frequency: 'MONTHLY', starting_at: '2020-01-01T00:00:00Z' });
    customer = (await a.v1.customers.create({ name: 'Two processes', ingest_aliases: ['two-processes'] })).data.id;
    contract = (
      await a.v1.contracts.create({
        customer_id: customer,
        rate_card_id: rateCard,
        starting_at: monthStart,
        subscriptions: [
          {
            temporary_id: 'seats',
            collection_schedule: 'ADVANCE',
            initial_quantity: 10,
            proration: { is_prorated: true },
            subscription_rate: { product_id: seats, billing_frequency: 'MONTHLY' },
          },
        ],
        recurring_credits: [
          {
            product_id: pool,
            access_amount: { credit_type_id: aiCredits, unit_price: 1000 },
            commit_duration: { value: 1, unit: 'PERIODS' },
            priority: 1,
            starting_at: monthStart,
            subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: false } },
          },
        ],
      })
    ).data.id;
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    await server?.stop();
  });

  const balanceOn = async (client: Metronome) => (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits })).data.balance;
  const ingestOn = (client: Metronome, amount: number, timestamp = NOW) =>
    client.v1.usage.ingest({ usage: [{ transaction_id: `two-${++sequence}`, customer_id: 'two-processes', event_type: 'tokens', timestamp, properties: { tokens: amount } }] });

  it('starts from the same pool on both: 10 seats × 1,000', async () => {
    expect(await balanceOn(a)).toBe(10_000);
    expect(await balanceOn(b)).toBe(10_000);
  });

  it('shows usage ingested on one process in the next read on the other, every time', async () => {
    let expected = 10_000;
    for (let round = 0; round < 20; round++) {
      const [writer, reader] = round % 2 === 0 ? [a, b] : [b, a];
      // Warm: the reader has just computed the account it would keep.
      expect(await balanceOn(reader)).toBe(expected);
      // Every third event is dated days back: a process that keeps usage per day reads that day again.
      await ingestOn(writer, round + 1, round % 3 === 2 ? `2024-04-0${(round % 9) + 1}T05:00:00Z` : NOW);
      expected -= round + 1;
      expect(await balanceOn(reader)).toBe(expected);
    }
    expect(expected).toBe(10_000 - 210);
  });

  it('shows a manual entry, a seat change and a new rate made on one process in the next read on the other', async () => {
    const before = await balanceOn(b);
    const [credit] = (await a.v1.contracts.listBalances({ customer_id: customer, include_balance: true })).data;
    const segment = credit!.access_schedule!.schedule_items[0]!;
    await a.v1.contracts.addManualBalanceEntry({ id: credit!.id, customer_id: customer, contract_id: contract, segment_id: segment.id, amount: -100, reason: 'correction' });
    expect(await balanceOn(b)).toBe(before - 100);

    // +2 seats, not prorated: 2 × 1,000 more in the pool.
    const subscription = (await b.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.subscriptions![0]!.id!;
    await b.v2.contracts.edit({ customer_id: customer, contract_id: contract, update_subscriptions: [{ subscription_id: subscription, quantity_updates: [{ starting_at: NOW, quantity_delta: 2 }] }] });
    expect(await balanceOn(a)).toBe(before - 100 + 2000);

    // Tokens now cost 3 credits each from the month's start: the 210 tokens used cost 630, not 210.
    expect(await balanceOn(b)).toBe(before - 100 + 2000);
    await a.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: tokens, entitled: true, rate_type: 'FLAT', price: 3, credit_type_id: aiCredits, starting_at: monthStart });
    expect(await balanceOn(b)).toBe(before - 100 + 2000 - 420);
  });
});
