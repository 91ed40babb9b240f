import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { createCreditType } from '../helpers/catalog.js';
import { startServe, type RunningCli } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The hard-stop check, `POST /v1/allot/entitlements/check`, on a clock stopped at 2024-04-10: a pool
 * of 10 AI credits from April 1, usage priced at 1 AI credit a unit. The pool less open holds must
 * cover the amount; a reserve holds it until its event is ingested or the hold expires.
 */
describe.each(ENGINES)('entitlement check on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let aiCredits: string;
  let rateCard: string;
  let fixed: string;
  let sequence = 0;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    aiCredits = await createCreditType(server, 'AI credits');
    fixed = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({ name: 'Units', event_type_filter: { in_values: ['usage'] }, aggregation_type: 'SUM', aggregation_key: 'units', property_filters: [{ name: 'units', exists: true }] })
    ).data.id;
    const product = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'AI plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    // Seat units, grouped per user: 1 AI credit a unit.
    const seatUnits = (
      await client.v1.billableMetrics.create({ name: 'Seat units', event_type_filter: { in_values: ['seat_usage'] }, aggregation_type: 'SUM', aggregation_key: 'units', property_filters: [{ name: 'units', exists: true }, { name: 'user_id', exists: true }], group_keys: [['user_id']] })
    ).data.id;
    const seatProduct = (await client.v1.contracts.products.create({ name: 'Seat units', type: 'USAGE', billable_metric_id: seatUnits })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: seatProduct, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    // Images: the first 2 of the period at 3 AI credits each, then 1.
    const images = (await client.v1.billableMetrics.create({ name: 'Images', event_type_filter: { in_values: ['image'] }, aggregation_type: 'COUNT' })).data.id;
    const imageProduct = (await client.v1.contracts.products.create({ name: 'Images', type: 'USAGE', billable_metric_id: images })).data.id;
    await client.v1.contracts.rateCards.rates.add({
      rate_card_id: rateCard, product_id: imageProduct, entitled: true, rate_type: 'TIERED', tiers: [{ size: 2, price: 3 }, { price: 1 }], credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z',
    });
  }, 120_000);
  afterAll(() => server?.stop());

  async function customerWithPool(alias: string, pool = 10) {
    const customer = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
    await client.v1.contracts.create({
      customer_id: customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: rateCard,
      credits: [{ product_id: fixed, name: 'Pool', priority: 1, access_schedule: { credit_type_id: aiCredits, schedule_items: [{ amount: pool, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-07-01T00:00:00Z' }] } }],
    });
    return customer;
  }

  const ingest = (alias: string, units: number, transactionId = `entitlements-${++sequence}`) =>
    client.v1.usage.ingest({ usage: [{ transaction_id: transactionId, customer_id: alias, event_type: 'usage', timestamp: '2024-04-09T10:00:00Z', properties: { units } }] });

  const check = async (body: Record<string, unknown>, base = server.baseURL) => {
    const response = await fetch(`${base}/v1/allot/entitlements/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown>; message?: string } };
  };

  it('allows what the pool less open holds covers, and says what remains', async () => {
    const customer = await customerWithPool('check-a');
    const ask = (amount: number | string) => check({ customer_id: customer, credit_type_id: aiCredits, amount });
    expect((await ask(4)).body.data).toEqual({ allowed: true, amount: 4, remaining: 6 });
    expect((await ask(10)).body.data).toEqual({ allowed: true, amount: 10, remaining: 0 });
    expect((await ask('10.5')).body.data).toEqual({ allowed: false, amount: 10.5, remaining: 10, reason: 'insufficient_balance' });
    // 3 units of usage leave 7.
    await ingest('check-a', 3);
    expect((await ask(0)).body.data).toEqual({ allowed: true, amount: 0, remaining: 7 });
    expect((await ask(8)).body.data).toEqual({ allowed: false, amount: 8, remaining: 7, reason: 'insufficient_balance' });
  });

  it('holds a reserve until its event is ingested, then counts the event’s actual cost instead', async () => {
    const customer = await customerWithPool('check-b');
    const reserve = (amount: number, transactionId: string, extra: Record<string, unknown> = {}) =>
      check({ customer_id: customer, credit_type_id: aiCredits, amount, reserve: true, transaction_id: transactionId, ...extra });

    const first = (await reserve(5, 'job-1')).body.data!;
    expect(first).toMatchObject({ allowed: true, remaining: 5 });
    expect(first.hold_id).toEqual(expect.any(String));
    expect(first.hold_expires_at).toBe('2024-04-10T00:05:00.000Z');
    // A retry of the same reserve gets the same hold, and holds nothing more.
    const retry = (await reserve(5, 'job-1')).body.data!;
    expect(retry).toMatchObject({ allowed: true, remaining: 5, hold_id: first.hold_id });
    // 6 more is refused while 5 are held; 5 is allowed.
    expect((await reserve(6, 'job-2')).body.data).toEqual({ allowed: false, amount: 6, remaining: 5, reason: 'insufficient_balance' });
    expect((await check({ customer_id: customer, credit_type_id: aiCredits, amount: 5 })).body.data).toEqual({ allowed: true, amount: 5, remaining: 0 });

    // The job cost 4, not 5: once its event is in, the pool holds 6 and nothing is held.
    await ingest('check-b', 4, 'job-1');
    expect((await check({ customer_id: customer, credit_type_id: aiCredits, amount: 0 })).body.data).toEqual({ allowed: true, amount: 0, remaining: 6 });
    // A reserve for an event already ingested holds nothing.
    expect((await reserve(2, 'job-1')).body.data).toEqual({ allowed: true, amount: 2, remaining: 6 });
  });

  it('lets a hold expire after hold_seconds', async () => {
    const customer = await customerWithPool('check-c');
    const held = await check({ customer_id: customer, credit_type_id: aiCredits, amount: 8, reserve: true, transaction_id: 'expiring', hold_seconds: 60 });
    expect(held.body.data).toMatchObject({ allowed: true, remaining: 2, hold_expires_at: '2024-04-10T00:01:00.000Z' });
    expect((await server.advanceClock('2024-04-10T00:00:59.999Z')).status).toBe(200);
    expect((await check({ customer_id: customer, credit_type_id: aiCredits, amount: 0 })).body.data).toEqual({ allowed: true, amount: 0, remaining: 2 });
    expect((await server.advanceClock('2024-04-10T00:01:00Z')).status).toBe(200);
    expect((await check({ customer_id: customer, credit_type_id: aiCredits, amount: 0 })).body.data).toEqual({ allowed: true, amount: 0, remaining: 10 });
    // The expired hold's transaction id can hold again.
    expect((await check({ customer_id: customer, credit_type_id: aiCredits, amount: 1, reserve: true, transaction_id: 'expiring' })).body.data).toMatchObject({ allowed: true, remaining: 9 });
  });

  it('prices an event with the contract’s rates: 3 units cost 3; images cost 3 for the first two of the period, then 1', async () => {
    const customer = await customerWithPool('check-e');
    const event = (event_type: string, properties: Record<string, unknown> = {}) => check({ customer_id: customer, credit_type_id: aiCredits, event: { event_type, properties } });
    expect((await event('usage', { units: 3 })).body.data).toEqual({ allowed: true, amount: 3, remaining: 7 });
    expect((await event('usage', { units: '10.5' })).body.data).toEqual({ allowed: false, amount: 10.5, remaining: 10, reason: 'insufficient_balance' });
    // An event no metric counts costs nothing.
    expect((await event('other', { units: 3 })).body.data).toEqual({ allowed: true, amount: 0, remaining: 10 });
    expect((await event('image')).body.data).toEqual({ allowed: true, amount: 3, remaining: 7 });
    await client.v1.usage.ingest({ usage: [1, 2].map((n) => ({ transaction_id: `image-${n}`, customer_id: 'check-e', event_type: 'image', timestamp: '2024-04-09T10:00:00Z' })) });
    // Two images used 6 of 10: the third is past the first tier.
    expect((await event('image')).body.data).toEqual({ allowed: true, amount: 1, remaining: 3 });
    // A reserve of an event holds what it costs.
    expect((await check({ customer_id: customer, credit_type_id: aiCredits, event: { event_type: 'usage', properties: { units: 2 } }, reserve: true, transaction_id: 'priced-1' })).body.data).toMatchObject({ allowed: true, amount: 2, remaining: 2 });
    const both = await check({ customer_id: customer, credit_type_id: aiCredits, amount: 1, event: { event_type: 'usage' } });
    expect(both.status).toBe(400);
    expect(both.body.message).toContain('event');
  });

  it('holds a user to a cap on their spend this period, beside the pool', async () => {
    const customer = await customerWithPool('check-f');
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${server.baseURL}${path}`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as { data?: unknown; message?: string } };
    };
    const setCap = await post('/v1/allot/entitlements/caps', { customer_id: customer, credit_type_id: aiCredits, group_key: 'user_id', group_value: 'ada', amount: 4 });
    expect(setCap.status).toBe(200);
    expect(setCap.body.data).toMatchObject({ customer_id: customer, credit_type_id: aiCredits, group_key: 'user_id', group_value: 'ada', amount: 4 });
    const ada = [{ key: 'user_id', value: 'ada' }];
    const bob = [{ key: 'user_id', value: 'bob' }];
    const ask = (amount: number, group_values: unknown, extra: Record<string, unknown> = {}) => check({ customer_id: customer, credit_type_id: aiCredits, amount, group_values, ...extra });

    expect((await ask(3, ada)).body.data).toEqual({ allowed: true, amount: 3, remaining: 1 });
    // Ada uses 3: 1 is left of her cap, 7 of the pool.
    await client.v1.usage.ingest({ usage: [{ transaction_id: 'ada-used-3', customer_id: 'check-f', event_type: 'seat_usage', timestamp: '2024-04-09T10:00:00Z', properties: { user_id: 'ada', units: 3 } }] });
    expect((await ask(2, ada)).body.data).toEqual({ allowed: false, amount: 2, remaining: 1, reason: 'cap_reached' });
    expect((await ask(5, bob)).body.data).toEqual({ allowed: true, amount: 5, remaining: 2 });
    // A hold for ada counts against her cap too.
    expect((await ask(1, ada, { reserve: true, transaction_id: 'ada-next' })).body.data).toMatchObject({ allowed: true, amount: 1, remaining: 0 });
    expect((await ask(0.5, ada)).body.data).toEqual({ allowed: false, amount: 0.5, remaining: 0, reason: 'cap_reached' });
    // Priced from the event itself, with the event's user as the group.
    expect((await check({ customer_id: customer, credit_type_id: aiCredits, event: { event_type: 'seat_usage', properties: { user_id: 'ada', units: 1 } }, group_values: ada })).body.data).toEqual({ allowed: false, amount: 1, remaining: 0, reason: 'cap_reached' });

    const listed = await fetch(`${server.baseURL}/v1/allot/entitlements/caps?customer_id=${customer}`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(((await listed.json()) as { data: unknown[] }).data).toEqual([expect.objectContaining({ group_value: 'ada', amount: 4 })]);
    expect((await post('/v1/allot/entitlements/caps/remove', { customer_id: customer, credit_type_id: aiCredits, group_key: 'user_id', group_value: 'ada' })).status).toBe(200);
    expect((await post('/v1/allot/entitlements/caps/remove', { customer_id: customer, credit_type_id: aiCredits, group_key: 'user_id', group_value: 'ada' })).status).toBe(404);
    // Without the cap only the pool counts: 7 less the 1 held.
    expect((await ask(2, ada)).body.data).toEqual({ allowed: true, amount: 2, remaining: 4 });

    const badCap = await post('/v1/allot/entitlements/caps', { customer_id: customer, credit_type_id: aiCredits, group_key: '', amount: -1 });
    expect(badCap.status).toBe(400);
    for (const field of ['group_key', 'group_value', 'amount']) expect(badCap.body.message).toContain(field);
    const twice = await ask(1, [...ada, { key: 'user_id', value: 'bob' }]);
    expect(twice.status).toBe(400);
    expect(twice.body.message).toContain('group_values');
  });

  it('refuses a customer without a live contract', async () => {
    const customer = (await client.v1.customers.create({ name: 'No contract' })).data.id;
    expect((await check({ customer_id: customer, credit_type_id: aiCredits, amount: 1 })).body.data).toEqual({ allowed: false, amount: 1, remaining: 0, reason: 'no_contract' });
  });

  it('names every offending field in one 400, and answers 404 for an unknown customer', async () => {
    const customer = await customerWithPool('check-d');
    const bad = await check({ customer_id: customer, credit_type_id: aiCredits, amount: -1, transaction_id: '', hold_seconds: 0, group_values: [{ key: 'user_id' }], colour: 'red' });
    expect(bad.status).toBe(400);
    for (const field of ['amount', 'transaction_id', 'hold_seconds', 'group_values', 'colour']) expect(bad.body.message).toContain(field);
    const noTransaction = await check({ customer_id: customer, credit_type_id: aiCredits, amount: 1, reserve: true });
    expect(noTransaction.status).toBe(400);
    expect(noTransaction.body.message).toContain('transaction_id');
    const unknownUnit = await check({ customer_id: customer, credit_type_id: '00000000-0000-4000-8000-000000000000', amount: 1 });
    expect(unknownUnit.status).toBe(400);
    expect(unknownUnit.body.message).toContain('credit_type_id');
    expect((await check({ customer_id: '00000000-0000-4000-8000-000000000000', credit_type_id: aiCredits, amount: 1 })).status).toBe(404);
  });

  if (engine === 'postgres') {
    describe('concurrent reserves', () => {
      let second: RunningCli;
      let secondUrl: string;
      beforeAll(async () => {
        second = await startServe(['--port', '0', '--test-clock', '2024-04-10T00:00:00Z'], { DATABASE_URL: server.database.url!, LOG_LEVEL: 'silent' });
        secondUrl = /is listening on (\S+)/.exec(second.output())![1]!;
      }, 60_000);
      afterAll(() => second?.stop());

      it('allow exactly 10 of 50 reserves of 1 against a pool of 10, over two processes', async () => {
        const customer = await customerWithPool('check-race');
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            check({ customer_id: customer, credit_type_id: aiCredits, amount: 1, reserve: true, transaction_id: `race-${index}` }, index % 2 === 0 ? server.baseURL : secondUrl),
          ),
        );
        expect(results.every((result) => result.status === 200)).toBe(true);
        expect(results.filter((result) => result.body.data!.allowed).length).toBe(10);
        expect((await check({ customer_id: customer, credit_type_id: aiCredits, amount: 0 })).body.data).toEqual({ allowed: true, amount: 0, remaining: 0 });
      });
    });
  }
});
