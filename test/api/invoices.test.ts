import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClock } from '../../src/lib/clock.js';
import { closeCustomer } from '../../src/modules/invoices/close.js';
import { createCreditType } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
let sequence = 0;

type Entry = { type: string; amount: number };
type Line = { type: string; name: string; total: number; quantity?: number; credit_type: { id: string } };

/**
 * Invoices and period close through the SDK on a real server (docs/rules.md rules 8, 10, 11), on a test
 * clock that starts at 2024-04-10: usage and seats billed on April's invoice, finalised when the
 * clock passes May 1, with the ledger deductions and expirations that follow.
 */
describe.each(ENGINES)('invoices and period close on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let fixed: string;
  let units: string;
  let rateCard: string;
  let aiCredits: string;
  let tokens: string;
  let seats1000: string;
  let seats2500: string;
  let seatsFree: string;
  let seatsProduct: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    aiCredits = await createCreditType(server, 'AI credits');
    fixed = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
    seatsProduct = (await client.v1.contracts.products.create({ name: 'Seats', type: 'SUBSCRIPTION' })).data.id;
    const metric = async (name: string) =>
      (
        await client.v1.billableMetrics.create({
          name,
          event_type_filter: { in_values: [name] },
          aggregation_type: 'SUM',
          aggregation_key: 'value',
          property_filters: [{ name: 'value', exists: true }],
        })
      ).data.id;
    units = (await client.v1.contracts.products.create({ name: 'API calls', type: 'USAGE', billable_metric_id: await metric('units') })).data.id;
    tokens = (await client.v1.contracts.products.create({ name: 'Chat tokens', type: 'USAGE', billable_metric_id: await metric('tokens') })).data.id;
    // Three rate cards: USD usage at 1 cent a unit; seats at 1,000 and at 2,500 cents (the latter with AI credit usage).
    // The $10 seat is a FLAT rate with a billing frequency, as Metronome's subscription guide adds it; the $25 one a SUBSCRIPTION rate.
    const card = async (name: string, seatPrice: number | null, seatRateType: 'FLAT' | 'SUBSCRIPTION' = 'SUBSCRIPTION') => {
      const id = (await client.v1.contracts.rateCards.create({ name, credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
      await client.v1.contracts.rateCards.rates.add({ rate_card_id: id, product_id: units, entitled: true, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:00:00Z' });
      await client.v1.contracts.rateCards.rates.add({ rate_card_id: id, product_id: tokens, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });
      if (seatPrice !== null) {
        await client.v1.contracts.rateCards.rates.add({ rate_card_id: id, product_id: seatsProduct, entitled: true, rate_type: seatRateType, price: seatPrice, billing_frequency: 'MONTHLY', starting_at: '2024-01-01T00:00:00Z' });
      }
      return id;
    };
    rateCard = await card('Usage plan', null);
    seats1000 = await card('Seats at $10', 1000, 'FLAT');
    seats2500 = await card('Seats at $25', 2500);
    seatsFree = await card('Seats at $0', 0);
  });
  afterAll(() => server.stop());

  async function customer() {
    const alias = `invoiced-${engine}-${++sequence}`;
    return { id: (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id, alias };
  }

  async function ingest(alias: string, event_type: string, value: number, timestamp = '2024-04-05T10:00:00Z') {
    await client.v1.usage.ingest({ usage: [{ transaction_id: `tx-${engine}-${++sequence}`, customer_id: alias, event_type, timestamp, properties: { value } }] });
  }

  async function invoicesOf(customerId: string, query: { status?: string } = {}) {
    const invoices = [];
    for await (const invoice of client.v1.customers.invoices.list({ customer_id: customerId, ...query })) invoices.push(invoice);
    return invoices;
  }

  const lines = (invoice: { line_items: Line[] }) => invoice.line_items.map((line) => [line.type, line.total]);

  async function ledgers(customerId: string) {
    const { data } = await client.v1.contracts.listBalances({ customer_id: customerId, include_balance: true, include_ledgers: true });
    return Object.fromEntries(data.map((grant) => [grant.name ?? grant.id, ((grant.ledger ?? []) as unknown as Entry[]).map((entry) => [entry.type, entry.amount])]));
  }

  async function seatContract(
    rateCardId: string,
    options: { seats: number; isProrated: boolean; invoiceBehavior?: 'BILL_IMMEDIATELY' | 'BILL_ON_NEXT_COLLECTION_DATE'; pooled?: boolean },
  ) {
    const { id, alias } = await customer();
    const contract = (
      await client.v1.contracts.create({
        customer_id: id,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: rateCardId,
        subscriptions: [
          {
            temporary_id: 'seats',
            collection_schedule: 'ADVANCE',
            initial_quantity: options.seats,
            proration: { is_prorated: options.isProrated, invoice_behavior: options.invoiceBehavior ?? 'BILL_ON_NEXT_COLLECTION_DATE' },
            subscription_rate: { product_id: seatsProduct, billing_frequency: 'MONTHLY' },
          },
        ],
        ...(options.pooled && {
          recurring_credits: [
            {
              product_id: fixed,
              name: 'Pool',
              access_amount: { credit_type_id: aiCredits, unit_price: 50 },
              commit_duration: { value: 1 },
              priority: 1,
              starting_at: '2024-04-01T00:00:00Z',
              subscription_config: { subscription_id: 'seats', allocation: 'POOLED' as const, apply_seat_increase_config: { is_prorated: true } },
            },
          ],
        }),
      })
    ).data.id;
    const subscription = (await client.v2.contracts.retrieve({ customer_id: id, contract_id: contract })).data.subscriptions![0]!.id!;
    const changeSeats = (updates: Array<{ starting_at: string; quantity: number }>) =>
      client.v2.contracts.edit({ customer_id: id, contract_id: contract, update_subscriptions: [{ subscription_id: subscription, quantity_updates: updates }] });
    return { customer: id, alias, contract, subscription, changeSeats };
  }

  const seatLines = async (customerId: string) =>
    (await invoicesOf(customerId, { status: 'DRAFT' }))[0]!.line_items.filter((line) => line.type === 'subscription').map((line) => line.total);

  it('lists seats at a price of 0 once on the draft, however often they were raised, while the pool follows every increase', async () => {
    const free = await seatContract(seatsFree, { seats: 10, isProrated: true, pooled: true });
    await free.changeSeats([
      { starting_at: '2024-04-05T00:00:00Z', quantity: 15 },
      { starting_at: '2024-04-08T00:00:00Z', quantity: 20 },
    ]);
    const [draft] = await invoicesOf(free.customer, { status: 'DRAFT' });
    const subscriptionLines = (draft!.line_items as Line[]).filter((line) => line.type === 'subscription');
    expect(subscriptionLines.map((line) => [line.name, line.quantity, line.total])).toEqual([['Seats', 10, 0]]);
    expect(draft!.total).toBe(0);
    // 10 seats × 50 for April, then +5 × 50 for 26 of 30 days and +5 × 50 for 23 of 30 days.
    const [pool] = (await client.v1.contracts.listBalances({ customer_id: free.customer, include_balance: true })).data;
    expect(pool!.balance).toBeCloseTo(500 + 250 * (26 / 30) + 250 * (23 / 30), 8);
  });

  it('bills seats in advance from the high-water mark, not prorated: 10 seats at 1,000 cents', async () => {
    const initial = await seatContract(seats1000, { seats: 10, isProrated: false });
    expect(await seatLines(initial.customer)).toEqual([10000]);

    const up = await seatContract(seats1000, { seats: 10, isProrated: false });
    await up.changeSeats([{ starting_at: '2024-04-10T00:00:00Z', quantity: 15 }]);
    expect(await seatLines(up.customer)).toEqual([10000, 5000]);

    const down = await seatContract(seats1000, { seats: 10, isProrated: false });
    await down.changeSeats([{ starting_at: '2024-04-10T00:00:00Z', quantity: 5 }]);
    expect(await seatLines(down.customer)).toEqual([10000]);

    const downUp = await seatContract(seats1000, { seats: 10, isProrated: false });
    await downUp.changeSeats([
      { starting_at: '2024-04-05T00:00:00Z', quantity: 5 },
      { starting_at: '2024-04-08T00:00:00Z', quantity: 15 },
    ]);
    expect(await seatLines(downUp.customer)).toEqual([10000, 5000]);

    const twice = await seatContract(seats1000, { seats: 10, isProrated: false });
    await twice.changeSeats([{ starting_at: '2024-04-05T00:00:00Z', quantity: 15 }]);
    await twice.changeSeats([{ starting_at: '2024-04-08T00:00:00Z', quantity: 20 }]);
    expect(await seatLines(twice.customer)).toEqual([10000, 5000, 5000]);
  });

  it('bills a prorated increase of 4 $25 seats at half of April immediately, on an invoice of its own: 5,000 cents', async () => {
    const { customer: id, changeSeats } = await seatContract(seats2500, { seats: 10, isProrated: true, invoiceBehavior: 'BILL_IMMEDIATELY' });
    await changeSeats([{ starting_at: '2024-04-16T00:00:00Z', quantity: 14 }]);
    expect((await invoicesOf(id)).map((invoice) => invoice.type)).toEqual(['USAGE']);
    expect((await server.advanceClock('2024-04-16T00:00:00Z')).status).toBe(200);

    const scheduled = (await invoicesOf(id)).filter((invoice) => invoice.type === 'SCHEDULED');
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toMatchObject({ status: 'FINALIZED', total: 5000, issued_at: '2024-04-16T00:00:00.000Z', credit_type: { id: USD } });
    expect(lines(scheduled[0] as never)).toEqual([['subscription', 5000]]);
    // The April draft bills the period's 10 seats only: the increase is on its own invoice.
    expect(await seatLines(id)).toEqual([25000]);
    expect((await client.v1.customers.invoices.retrieve({ customer_id: id, invoice_id: scheduled[0]!.id })).data.total).toBe(5000);

    // Raising the same change to 20 seats bills the 6 more (7,500) with the edit itself, so lowering it
    // to 16 right after bills and credits nothing, however soon it comes.
    const scheduledTotals = async () => (await invoicesOf(id)).filter((invoice) => invoice.type === 'SCHEDULED').map((invoice) => invoice.total).sort((a, b) => a - b);
    await changeSeats([{ starting_at: '2024-04-16T00:00:00Z', quantity: 20 }]);
    expect(await scheduledTotals()).toEqual([5000, 7500]);
    await changeSeats([{ starting_at: '2024-04-16T00:00:00Z', quantity: 16 }]);
    expect(await scheduledTotals()).toEqual([5000, 7500]);
    await server.advanceClock('2024-04-16T01:00:00Z');
    expect(await scheduledTotals()).toEqual([5000, 7500]);
  });

  it('closes April: $10 of usage against a $4 prepaid commit bills 1000 − 400 = 600, and a $100 credit with $63 used expires 3700', async () => {
    const commitCustomer = await customer();
    await client.v1.contracts.create({
      customer_id: commitCustomer.id,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: rateCard,
      commits: [{ product_id: fixed, type: 'PREPAID', name: 'Prepaid', priority: 1, access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 400, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] } }],
    });
    await ingest(commitCustomer.alias, 'units', 1000);

    const creditCustomer = await customer();
    await client.v1.contracts.create({
      customer_id: creditCustomer.id,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: rateCard,
      credits: [{ product_id: fixed, name: 'Promo', priority: 1, access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 10000, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] } }],
    });
    await ingest(creditCustomer.alias, 'units', 6300);

    const [draft] = await invoicesOf(commitCustomer.id);
    expect(draft).toMatchObject({ status: 'DRAFT', total: 600 });
    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);

    const april = (await invoicesOf(commitCustomer.id, { status: 'FINALIZED' }))[0]!;
    expect(april).toMatchObject({ id: draft!.id, status: 'FINALIZED', total: 600, start_timestamp: '2024-04-01T00:00:00.000Z', end_timestamp: '2024-05-01T00:00:00.000Z' });
    expect(lines(april as never)).toEqual([
      ['usage', 1000],
      ['applied_commit_or_credit', -400],
    ]);
    expect((await ledgers(commitCustomer.id)).Prepaid).toEqual([
      ['PREPAID_COMMIT_SEGMENT_START', 400],
      ['PREPAID_COMMIT_AUTOMATED_INVOICE_DEDUCTION', -400],
    ]);
    expect((await ledgers(creditCustomer.id)).Promo).toEqual([
      ['CREDIT_SEGMENT_START', 10000],
      ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -6300],
      ['CREDIT_EXPIRATION', -3700],
    ]);
    // May is the open period now: a new draft, and April's invoice as finalised.
    expect((await invoicesOf(creditCustomer.id)).map((invoice) => [invoice.status, invoice.total])).toEqual([
      ['FINALIZED', 0],
      ['DRAFT', 0],
    ]);
  });

  it('closes a month with seats, a pooled credit and overage, and catches up on every period missed', async () => {
    const { customer: id, alias } = await seatContract(seats1000, { seats: 100, isProrated: true, pooled: true });
    const mayUsage = '2024-05-20T10:00:00Z';
    expect((await server.advanceClock('2024-05-20T12:00:00Z')).status).toBe(200);
    // 5,050 AI credits against a pool of 5,000: 50 credits of overage at 100 cents.
    await ingest(alias, 'tokens', 5050, mayUsage);
    expect((await server.advanceClock('2024-07-01T00:00:00Z')).status).toBe(200);
    const finalized = await invoicesOf(id, { status: 'FINALIZED' });
    expect(finalized.map((invoice) => invoice.start_timestamp)).toEqual(['2024-04-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z', '2024-06-01T00:00:00.000Z']);
    const may = finalized[1]!;
    expect(lines(may as never)).toEqual([
      ['usage', 5050],
      ['applied_commit_or_credit', -5000],
      ['subscription', 100000],
      ['cpu_conversion', 5000],
    ]);
    expect(may.total).toBe(105000);
    const mayPool = (await client.v1.contracts.listBalances({ customer_id: id, include_ledgers: true, starting_at: '2024-05-01T00:00:00Z', effective_before: '2024-05-02T00:00:00Z' })).data;
    expect(mayPool.map((grant) => ((grant.ledger ?? []) as unknown as Entry[]).map((entry) => [entry.type, entry.amount]))).toEqual([
      [
        ['CREDIT_SEGMENT_START', 5000],
        ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -5000],
      ],
    ]);
  });

  it('voids a finalised invoice; a draft or an unknown id cannot be voided, and a missing id is a 400 naming it', async () => {
    const { id } = await customer();
    await client.v1.contracts.create({ customer_id: id, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard });
    // Period close runs on the clock: the invoice of each month since April is written by the next look.
    const clock = server.clock as TestClock;
    await server.advanceClock(new Date(clock.now().getTime() + 3_600_000).toISOString());
    const [first, ...rest] = await invoicesOf(id);
    expect(first!.status).toBe('FINALIZED');
    expect((await client.v1.invoices.void({ id: first!.id })).data).toEqual({ id: first!.id });
    expect((await client.v1.customers.invoices.retrieve({ customer_id: id, invoice_id: first!.id })).data.status).toBe('VOID');
    const draft = rest.at(-1)!;
    expect(draft.status).toBe('DRAFT');
    await expect(client.v1.invoices.void({ id: draft.id })).rejects.toMatchObject({ status: 404 });
    const bad = await fetch(`${server.baseURL}/v1/invoices/void`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' }, body: '{}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('id');
  });
});

describe('period close run twice at once on postgres', () => {
  let server: TestServer;
  afterAll(() => server.stop());

  it('writes one invoice per contract and period, and deducts once', async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: '2024-04-10T00:00:00Z', periodClose: { intervalMs: 3_600_000 } });
    const client = server.client();
    const fixed = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
    const metric = (await client.v1.billableMetrics.create({ name: 'units', event_type_filter: { in_values: ['units'] }, aggregation_type: 'SUM', aggregation_key: 'value', property_filters: [{ name: 'value', exists: true }] })).data.id;
    const product = (await client.v1.contracts.products.create({ name: 'Units', type: 'USAGE', billable_metric_id: metric })).data.id;
    const rateCard = (await client.v1.contracts.rateCards.create({ name: 'Plan' })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:00:00Z' });
    const customer = (await client.v1.customers.create({ name: 'Racer', ingest_aliases: ['racer'] })).data.id;
    await client.v1.contracts.create({
      customer_id: customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: rateCard,
      credits: [{ product_id: fixed, name: 'Credit', priority: 1, access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 500, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-07-01T00:00:00Z' }] } }],
    });
    await client.v1.usage.ingest({ usage: [{ transaction_id: 'race-1', customer_id: 'racer', event_type: 'units', timestamp: '2024-04-05T00:00:00Z', properties: { value: 120 } }] });
    // Moved directly, so that no close runs before the two below.
    (server.clock as TestClock).advanceTo(new Date('2024-05-01T00:00:00Z'));
    const tenantId = (await server.database.db.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'acme'`))[0]!.id;
    const context = { db: server.database.db, clock: server.clock, invoiceGracePeriodHours: 0 };
    const runs = await Promise.all([closeCustomer(context, { tenantId, customerId: customer }), closeCustomer(context, { tenantId, customerId: customer }), closeCustomer(context, { tenantId, customerId: customer })]);
    expect(runs.map((run) => run.finalized.length).sort()).toEqual([0, 0, 1]);
    const invoices = await server.database.db.query(`SELECT id FROM invoices WHERE customer_id = $1`, [customer]);
    expect(invoices).toHaveLength(1);
    const deductions = await server.database.db.query<{ amount: string }>(`SELECT amount FROM ledger_entries WHERE customer_id = $1 AND kind = 'AUTOMATED_INVOICE_DEDUCTION'`, [customer]);
    expect(deductions.map((row) => Number(row.amount))).toEqual([-120]);
    const balance = (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: USD })).data.balance;
    expect(balance).toBe(380);
  });
});

describe.each(ENGINES)('closing several contracts of one customer on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let rateCard: string;
  let fixed: string;
  afterAll(() => server.stop());

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    fixed = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({ name: 'units', event_type_filter: { in_values: ['units'] }, aggregation_type: 'SUM', aggregation_key: 'value', property_filters: [{ name: 'value', exists: true }] })
    ).data.id;
    const product = (await client.v1.contracts.products.create({ name: 'Units', type: 'USAGE', billable_metric_id: metric })).data.id;
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'Plan' })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:00:00Z' });
  });

  /** A customer with contracts A and B from April 1, a shared credit of 10,000 cents until `creditEnds`, and 6,000 units each contract rates. */
  async function twoContracts(alias: string, creditEnds: string) {
    const customer = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
    for (const name of ['A', 'B']) await client.v1.contracts.create({ customer_id: customer, name, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard });
    await client.v1.customers.credits.create({
      customer_id: customer,
      product_id: fixed,
      priority: 1,
      name: 'Shared',
      access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 10000, starting_at: '2024-04-01T00:00:00Z', ending_before: creditEnds }] },
    });
    // Each contract rates the customer's usage: 6,000 cents on each, 12,000 against a credit of 10,000.
    await client.v1.usage.ingest({ usage: [{ transaction_id: `${alias}-1`, customer_id: alias, event_type: 'units', timestamp: '2024-04-02T00:00:00Z', properties: { value: 6000 } }] });
    return customer;
  }
  const totals = async (customer: string, status: string) => (await client.v1.customers.invoices.list({ customer_id: customer, status })).data.map((invoice) => invoice.total).sort((a, b) => a - b);
  const ledger = async (customer: string) =>
    ((await client.v1.customers.credits.list({ customer_id: customer, include_ledgers: true })).data[0]!.ledger ?? []).map((entry) => [entry.type, entry.amount]);

  it('draws a shared credit once when both contracts close at the same instant, whether the credit ends inside the period or outlives it', async () => {
    const endsInside = await twoContracts('inside', '2024-04-15T00:00:00Z');
    const outlives = await twoContracts('outlives', '2025-01-01T00:00:00Z');
    expect(await totals(endsInside, 'DRAFT')).toEqual([0, 2000]);
    expect(await totals(outlives, 'DRAFT')).toEqual([0, 2000]);

    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);
    expect(await totals(endsInside, 'FINALIZED')).toEqual([0, 2000]);
    expect(await totals(outlives, 'FINALIZED')).toEqual([0, 2000]);
    expect(await ledger(endsInside)).toEqual([
      ['CREDIT_SEGMENT_START', 10000],
      ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -6000],
      ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -4000],
    ]);
    expect(await ledger(outlives)).toEqual([
      ['CREDIT_SEGMENT_START', 10000],
      ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -6000],
      ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -4000],
    ]);
  });
});
