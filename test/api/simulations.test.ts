import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const APRIL = { starting_on: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' };
const MAY = { starting_on: '2024-05-01T00:00:00Z', ending_before: '2024-06-01T00:00:00Z' };

interface CustomerResult {
  customer_id: string;
  credit_type_id: string;
  actual_total: number;
  simulated_total: number;
  credits_burned_actual: number;
  credits_burned_simulated: number;
  runs_out_at_actual: string | null;
  runs_out_at_simulated: string | null;
  crosses_pool_simulated: boolean;
  burn_down: { date: string; actual_remaining: number | null; simulated_remaining: number | null }[];
}

/** The pool of 1,000 at each midnight from `first` (day 0) to `days` later, burning 50 a day now and `simulatedPerDay` simulated, never below 0. */
const burnDown = (first: string, days: number, simulatedPerDay: number) =>
  Array.from({ length: days + 1 }, (_, k) => ({
    date: new Date(Date.parse(first) + k * 86_400_000).toISOString(),
    actual_remaining: Math.max(1_000 - 50 * k, 0),
    simulated_remaining: Math.max(1_000 - simulatedPerDay * k, 0),
  }));

interface SimulationResponse {
  data: { id: string; status: string; percent: number; totals: { actual: number; simulated: number }; customers: CustomerResult[] };
}

/**
 * Pricing simulations on a fixed clock: 20 seats at $10 with 50 pooled AI credits each (a pool of
 * 1,000 a month), Chat at 5 AI credits a unit, an AI credit worth 10 cents. Every day of April at
 * noon 10 units (50 credits a day, 1,500 in April); every day of May up to the 9th the same. The
 * clock stands at May 10: April is finalised, May is open.
 */
describe.each(ENGINES)('pricing simulations on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let chat: string;
  let customer: string;

  const simulate = async (body: Record<string, unknown>) => {
    const response = await fetch(`${server.baseURL}/v1/allot/pricing/simulations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as SimulationResponse & { message?: string } };
  };
  const day = (month: number, date: number) => `2024-${String(month).padStart(2, '0')}-${String(date).padStart(2, '0')}T12:00:00Z`;
  const events = (month: number, days: number) =>
    Array.from({ length: days }, (_, i) => ({ transaction_id: `${month}-${i + 1}`, customer_id: customer, event_type: 'chat', timestamp: day(month, i + 1), properties: { units: 10 } }));

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-30T13:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 10 });
    const metric = (
      await client.v1.billableMetrics.create({ name: 'Units', event_type_filter: { in_values: ['chat'] }, aggregation_type: 'SUM', aggregation_key: 'units', property_filters: [{ name: 'units', exists: true }] })
    ).data.id;
    chat = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: chat, entitled: true, rate_type: 'FLAT', price: 5, credit_type_id: catalog.aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    ({ customer } = await createSeatContract(client, { catalog, seats: 20 }));
    // A customer without a contract, and one whose contract starts in June: April has nothing of theirs to replay.
    await client.v1.customers.create({ name: 'Prospect' });
    await createSeatContract(client, { catalog, seats: 5, startingAt: '2024-06-01T00:00:00Z' });
    await client.v1.usage.ingest({ usage: events(4, 30) });
    expect((await server.advanceClock('2024-05-10T00:00:00Z')).status).toBe(200);
    await client.v1.usage.ingest({ usage: events(5, 9) });
  });
  afterAll(() => server.stop());

  const aprilInvoice = async () => {
    const invoices = [];
    for await (const invoice of client.v1.customers.invoices.list({ customer_id: customer, status: 'FINALIZED' })) invoices.push(invoice);
    expect(invoices).toHaveLength(1);
    return invoices[0]!;
  };

  it('replays April under the unchanged rate card exactly as it was finalised: 20,000 of seats + 500 credits over the pool × 10 = 25,000 cents', async () => {
    const invoice = await aprilInvoice();
    expect(invoice.total).toBe(25_000);
    const { status, body } = await simulate({ ...APRIL, customer_ids: [customer] });
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ status: 'completed', percent: 100, totals: { actual: 25_000, simulated: 25_000 } });
    expect(body.data.customers).toEqual([
      {
        customer_id: customer,
        credit_type_id: catalog.aiCredits,
        actual_total: 25_000,
        simulated_total: 25_000,
        credits_burned_actual: 1_500,
        credits_burned_simulated: 1_500,
        // 1,000 credits at 50 a day: 20 days.
        runs_out_at_actual: '2024-04-21T00:00:00.000Z',
        runs_out_at_simulated: '2024-04-21T00:00:00.000Z',
        crosses_pool_simulated: true,
        // April 1 to May 1 at each midnight: 1,000, 950, …, 0 from April 21.
        burn_down: burnDown('2024-04-01T00:00:00Z', 30, 50),
      },
    ]);
    expect(body.data.customers[0]!.burn_down.slice(19, 22).map((point) => point.actual_remaining)).toEqual([50, 0, 0]);
  });

  it('re-rates April at a doubled burn rate: usage doubles (1,500 → 3,000 credits), the pool runs out on April 11, not 21, and the total is 20,000 + 2,000 × 10', async () => {
    const body = { ...APRIL, rate_changes: [{ product_id: chat, starting_at: '2024-04-01T00:00:00Z', rate_type: 'FLAT', price: 10, credit_type_id: catalog.aiCredits }] };
    const first = await simulate(body);
    expect(first.status).toBe(200);
    expect(first.body.data.totals).toEqual({ actual: 25_000, simulated: 40_000 });
    // Without customer_ids: the live customers with a contract in force in April, only.
    expect(first.body.data.customers.map((result) => result.customer_id)).toEqual([customer]);
    expect(first.body.data.customers[0]).toMatchObject({
      credits_burned_actual: 1_500,
      credits_burned_simulated: 3_000,
      runs_out_at_actual: '2024-04-21T00:00:00.000Z',
      runs_out_at_simulated: '2024-04-11T00:00:00.000Z',
      crosses_pool_simulated: true,
    });
    // The burn-down, day by day: 1,000 − 50 a day now, 1,000 − 100 a day simulated (900 on April 2, 0 from April 11).
    expect(first.body.data.customers[0]!.burn_down).toEqual(burnDown('2024-04-01T00:00:00Z', 30, 100));
    expect(first.body.data.customers[0]!.burn_down[1]).toEqual({ date: '2024-04-02T00:00:00.000Z', actual_remaining: 950, simulated_remaining: 900 });
    // Read-only and repeatable: the same answer again, and nothing billed moved.
    const balances = (await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true, include_ledgers: true })).data;
    const again = await simulate(body);
    expect(again.body.data.customers).toEqual(first.body.data.customers);
    expect((await aprilInvoice()).total).toBe(25_000);
    expect((await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true, include_ledgers: true })).data).toEqual(balances);
  });

  it('takes contract changes: 100 credits a seat hold the doubled burn for 20 days, and $5 seats halve the seat charge', async () => {
    const { body } = await simulate({
      ...APRIL,
      customer_ids: [customer],
      rate_changes: [{ product_id: chat, starting_at: '2024-04-01T00:00:00Z', rate_type: 'FLAT', price: 10, credit_type_id: catalog.aiCredits }],
      contract_changes: { credits_per_seat: 100, seat_price: 500 },
    });
    // 20 × 500 of seats, and 3,000 − 2,000 credits over the pool at 10 cents.
    expect(body.data.customers[0]).toMatchObject({ simulated_total: 20_000, credits_burned_simulated: 3_000, runs_out_at_simulated: '2024-04-21T00:00:00.000Z', crosses_pool_simulated: true });
  });

  it('replays the open period so far and projects the run-out date at the last 7 days’ burn (rule 24)', async () => {
    const { body } = await simulate({ ...MAY, rate_changes: [{ product_id: chat, starting_at: '2024-05-01T00:00:00Z', rate_type: 'FLAT', price: 10, credit_type_id: catalog.aiCredits }] });
    // May so far: 9 days. At 50 a day, 550 of 1,000 left last 11 more days; at 100 a day, 100 left last 1.
    expect(body.data.customers[0]).toMatchObject({
      actual_total: 20_000,
      simulated_total: 20_000,
      credits_burned_actual: 450,
      credits_burned_simulated: 900,
      runs_out_at_actual: '2024-05-21T00:00:00.000Z',
      runs_out_at_simulated: '2024-05-11T00:00:00.000Z',
      crosses_pool_simulated: false,
    });
    // May 1 to now (May 10): 550 left now, 100 simulated; nothing after now.
    expect(body.data.customers[0]!.burn_down).toEqual(burnDown('2024-05-01T00:00:00Z', 9, 100));
    expect(body.data.customers[0]!.burn_down.at(-1)).toEqual({ date: '2024-05-10T00:00:00.000Z', actual_remaining: 550, simulated_remaining: 100 });
  });

  it('names every offending field in one 400', async () => {
    const { status, body } = await simulate({
      starting_on: '2024-05-01T00:00:00Z',
      ending_before: '2024-04-01T00:00:00Z',
      customer_ids: [customer, '00000000-0000-4000-8000-000000000000'],
      credit_type_id: 'nope',
      rate_changes: [
        { product_id: catalog.seatsProduct, starting_at: '2024-04-01T00:00:00Z', rate_type: 'FLAT', price: 1 },
        { product_id: chat, starting_at: '2024-04-01T00:00:00Z', rate_type: 'FLAT', tiers: [{ price: 1 }] },
      ],
      contract_changes: { credits_per_seat: -1 },
    });
    expect(status).toBe(400);
    for (const field of ['ending_before', 'customer_ids.1', 'credit_type_id', 'rate_changes.0.product_id', 'rate_changes.1.price', 'rate_changes.1.tiers', 'contract_changes.credits_per_seat']) {
      expect(body.message).toContain(`${field}:`);
    }
  });

  it('ships a simulation’s rate change from a chosen date through the rate card: Chat at 10 from May 11, still 5 before; nothing in the past', async () => {
    const doubled = { product_id: chat, starting_at: '2024-04-01T00:00:00Z', rate_type: 'FLAT', price: 10, credit_type_id: catalog.aiCredits };
    const { body } = await simulate({ ...APRIL, customer_ids: [customer], rate_changes: [doubled] });
    const ship = (id: string, shipBody: unknown) =>
      fetch(`${server.baseURL}/v1/allot/pricing/simulations/${id}/ship`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(shipBody),
      });
    const past = await ship(body.data.id, { starting_at: '2024-05-01T00:00:00Z', rate_card_ids: ['00000000-0000-4000-8000-000000000000'] });
    expect(past.status).toBe(400);
    const message = ((await past.json()) as { message: string }).message;
    expect(message).toContain('starting_at:');
    expect(message).toContain('rate_card_ids.0:');
    const unchanged = (await simulate({ ...APRIL, customer_ids: [customer] })).body.data.id;
    expect((await ship(unchanged, { starting_at: '2024-05-11T00:00:00Z' })).status).toBe(400);

    const shipped = await ship(body.data.id, { starting_at: '2024-05-11T00:00:00Z' });
    expect(shipped.status).toBe(200);
    const { data } = (await shipped.json()) as { data: { rate_cards: { rate_card_id: string; rate_ids: string[] }[] } };
    expect(data.rate_cards).toEqual([{ rate_card_id: catalog.rateCard, rate_ids: [expect.any(String)] }]);
    const chatPrice = async (at: string) => {
      const rates = [];
      for await (const rate of client.v1.contracts.rateCards.rates.list({ rate_card_id: catalog.rateCard, at, selectors: [{ product_id: chat }] })) rates.push(rate);
      return rates.map((rate) => rate.rate.price);
    };
    expect(await chatPrice('2024-05-10T12:00:00Z')).toEqual([5]);
    expect(await chatPrice('2024-05-11T00:00:00Z')).toEqual([10]);
  });
});
