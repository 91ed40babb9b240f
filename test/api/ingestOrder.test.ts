import type Metronome from '@metronome/sdk';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { createCreditType } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Event {
  transaction_id: string;
  event_type: string;
  timestamp: string;
  properties: Record<string, string | number>;
}

/**
 * Ingesting one set of events in any order and any batching, with repeats, gives the same
 * balances and the same draft invoice: rollups fold events commutatively and dedupe by
 * transaction id, and rating reads only the rollups.
 */
describe.each(ENGINES)('ingest order and batching on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let aiCredits: string;
  let rateCard: string;
  let sequence = 0;

  const EVENTS: Event[] = Array.from({ length: 24 }, (_, i) => ({
    transaction_id: `event-${i}`,
    event_type: i % 5 === 0 ? 'other' : 'call',
    // Several events share an hour and a timestamp, so LATEST must break ties by transaction id.
    timestamp: new Date(Date.UTC(2024, 3, 2 + (i % 4), i % 3, 0, 0)).toISOString(),
    properties: { tokens: (i * 37) % 11, user_id: `user_${i % 3}`, model: i % 2 ? 'large' : 'small' },
  }));

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    aiCredits = await createCreditType(server, 'AI credits');
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'Plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
    const filters = [
      { name: 'tokens', exists: true },
      { name: 'user_id', exists: true },
      { name: 'model', in_values: ['large', 'small'] },
    ];
    const metrics = [
      { name: 'Calls', aggregation_type: 'COUNT' as const, price: 1 },
      { name: 'Tokens', aggregation_type: 'SUM' as const, aggregation_key: 'tokens', price: 2 },
      { name: 'Peak', aggregation_type: 'MAX' as const, aggregation_key: 'tokens', price: 3 },
      { name: 'Last', aggregation_type: 'LATEST' as const, aggregation_key: 'tokens', price: 5 },
      { name: 'Users', aggregation_type: 'UNIQUE' as const, aggregation_key: 'user_id', price: 7 },
    ];
    for (const { price, ...metric } of metrics) {
      const id = (await client.v1.billableMetrics.create({ ...metric, event_type_filter: { in_values: ['call'] }, property_filters: filters, group_keys: [['user_id']] })).data.id;
      const product = (await client.v1.contracts.products.create({ name: metric.name, type: 'USAGE', billable_metric_id: id })).data.id;
      await client.v1.contracts.rateCards.rates.add({
        rate_card_id: rateCard,
        product_id: product,
        entitled: true,
        rate_type: 'TIERED',
        credit_type_id: aiCredits,
        tiers: [{ size: 10, price }, { price: 1 }],
        starting_at: '2024-01-01T00:00:00Z',
      });
    }
  });
  afterAll(() => server.stop());

  async function outcome(batches: Event[][]) {
    const alias = `order-${++sequence}`;
    const customer = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
    await client.v1.contracts.create({
      customer_id: customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: rateCard,
      credits: [
        {
          product_id: (await client.v1.contracts.products.create({ name: 'Pool', type: 'FIXED' })).data.id,
          name: 'Pool',
          priority: 1,
          access_schedule: { credit_type_id: aiCredits, schedule_items: [{ amount: 150, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] },
        },
      ],
    });
    // Transaction ids are unique per tenant, so each customer's copy of the events gets its own.
    for (const batch of batches) {
      await client.v1.usage.ingest({ usage: batch.map((event) => ({ ...event, transaction_id: `${alias}:${event.transaction_id}`, customer_id: alias })) });
    }
    const balance = (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits })).data.balance;
    const invoice = (await client.v1.customers.invoices.list({ customer_id: customer })).data[0]!;
    const lines = invoice.line_items
      .filter((line) => line.type === 'usage')
      .map((line) => `${line.name}: ${line.quantity} → ${line.total}`)
      .sort();
    return { balance, total: invoice.total, lines };
  }

  it('gives the same balances for any order, batching and repeats of the same events (property)', async () => {
    const reference = await outcome([EVENTS]);
    // The reference itself, worked out independently from EVENTS, so that the comparison cannot pass on nothing.
    const calls = EVENTS.filter((event) => event.event_type === 'call');
    const tokens = calls.map((event) => Number(event.properties.tokens));
    const last = [...calls].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.transaction_id.localeCompare(b.transaction_id)).at(-1)!;
    const tiered = (quantity: number, price: number) => Math.min(quantity, 10) * price + Math.max(quantity - 10, 0);
    const expected = {
      Calls: [calls.length, 1],
      Tokens: [tokens.reduce((a, b) => a + b, 0), 2],
      Peak: [Math.max(...tokens), 3],
      Last: [Number(last.properties.tokens), 5],
      Users: [new Set(calls.map((event) => event.properties.user_id)).size, 7],
    };
    expect(reference.lines).toEqual(Object.entries(expected).map(([name, [quantity, price]]) => `${name}: ${quantity} → ${tiered(quantity!, price!)}`).sort());
    const charged = Object.values(expected).reduce((sum, [quantity, price]) => sum + tiered(quantity!, price!), 0);
    expect(reference.balance).toBe(Math.max(150 - charged, 0));
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(EVENTS, { minLength: EVENTS.length, maxLength: EVENTS.length }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(EVENTS.length - 1), { maxLength: 5 }),
        async (shuffled, sizes, repeats) => {
          const stream = [...shuffled, ...repeats.map((i) => EVENTS[i]!)];
          const batches: Event[][] = [];
          for (let at = 0, i = 0; at < stream.length; i++) {
            const size = sizes[i % sizes.length]!;
            batches.push(stream.slice(at, at + size));
            at += size;
          }
          expect(await outcome(batches)).toEqual(reference);
        },
      ),
      { numRuns: engine === 'pglite' ? 4 : 8 },
    );
  });
});
