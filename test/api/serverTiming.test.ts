import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCreditType } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The stages of a `Server-Timing` header, in ms. */
function stagesOf(header: string | null): Map<string, number> {
  const stages = new Map<string, number>();
  for (const part of (header ?? '').split(', ')) {
    const match = /^([a-z]+);dur=(\d+\.\d\d)$/.exec(part);
    if (!match) throw new Error(`not a stage as Allot writes them: "${part}" in "${header}"`);
    stages.set(match[1]!, Number(match[2]));
  }
  return stages;
}

/**
 * `ALLOT_SERVER_TIMING`: each answer says where its time went. A balance read names the account
 * engine's stages it went through: the terms when they were loaded, the usage read and the
 * computation when the account was computed, and on PostgreSQL the barrier every read waits for.
 */
describe.each(ENGINES)('Server-Timing on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let customer: string;
  let aiCredits: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z', serverTiming: true });
    client = server.client();
    aiCredits = await createCreditType(server, 'AI credits');
    const fixed = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
    const metric = (await client.v1.billableMetrics.create({ name: 'Calls', event_type_filter: { in_values: ['call'] }, aggregation_type: 'COUNT' })).data.id;
    const product = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
    const rateCard = (await client.v1.contracts.rateCards.create({ name: 'AI plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 2, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    customer = (await client.v1.customers.create({ name: 'Timed', ingest_aliases: ['timed'] })).data.id;
    await client.v1.contracts.create({
      customer_id: customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: rateCard,
      credits: [{ product_id: fixed, name: 'Pool', priority: 1, access_schedule: { credit_type_id: aiCredits, schedule_items: [{ amount: 100, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] } }],
    });
  }, 120_000);
  afterAll(() => server?.stop());

  const read = async () => {
    const response = await fetch(`${server.baseURL}/v1/contracts/customerBalances/getNetBalance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: customer, credit_type_id: aiCredits }),
    });
    expect(response.status).toBe(200);
    return { balance: ((await response.json()) as { data: { balance: number } }).data.balance, stages: stagesOf(response.headers.get('server-timing')) };
  };

  it('names the stages a balance read went through, and the whole time in Allot', async () => {
    // The first read after the contract loads its terms, reads the usage and computes the account.
    const first = await read();
    expect(first.balance).toBe(100);
    const onPostgres = engine === 'postgres' ? ['barrier'] : [];
    expect([...first.stages.keys()].sort()).toEqual(['app', ...onPostgres, 'compute', 'terms', 'usage'].sort());
    // Every stage is part of the request's time in Allot; the barrier runs beside the computation, not before it.
    for (const [stage, ms] of first.stages) expect(ms, stage).toBeLessThanOrEqual(first.stages.get('app')!);
    expect(first.stages.get('terms')! + first.stages.get('usage')! + first.stages.get('compute')!).toBeLessThanOrEqual(first.stages.get('app')! + 0.01);

    // Nothing changed: the kept account answers.
    const kept = await read();
    expect(kept.balance).toBe(100);
    expect([...kept.stages.keys()].sort()).toEqual(['app', ...onPostgres].sort());

    // New usage: the kept terms stand, the usage is read again and the account computed again.
    await client.v1.usage.ingest({ usage: [{ transaction_id: 'timed-1', customer_id: 'timed', event_type: 'call', timestamp: '2024-04-09T10:00:00Z', properties: {} }] });
    const after = await read();
    expect(after.balance).toBe(98);
    expect([...after.stages.keys()].sort()).toEqual(['app', ...onPostgres, 'compute', 'usage'].sort());
  });

  it('times every answer, errors included', async () => {
    const response = await fetch(`${server.baseURL}/v1/customers/not-a-customer`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(response.status).toBe(404);
    expect([...stagesOf(response.headers.get('server-timing')).keys()]).toEqual(['app']);
  });
});

describe('without ALLOT_SERVER_TIMING', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine: 'pglite' });
  }, 60_000);
  afterAll(() => server?.stop());

  it('answers with no Server-Timing header', async () => {
    const response = await fetch(`${server.baseURL}/v1/customers/list`, { method: 'GET', headers: { authorization: `Bearer ${server.key}` } });
    expect(response.status).not.toBe(500);
    expect(response.headers.get('server-timing')).toBeNull();
  });
});
