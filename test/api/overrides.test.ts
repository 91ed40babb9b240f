import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCreditType } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const APRIL = { starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' };
let sequence = 0;

type Override = NonNullable<Metronome.V1.ContractCreateParams['overrides']>[number];

/**
 * Per-contract overrides of the rate card's usage prices, through the SDK, on a clock fixed at
 * 2024-04-10: "Chat" is listed at 10 AI credits a unit (an AI credit is worth 100 cents), so
 * 10 units list at 100 credits; customers hold a pool of 400 credits for April.
 */
describe.each(ENGINES)('contract overrides on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let aiCredits: string;
  let fixed: string;
  let rateCard: string;
  let chat: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    aiCredits = await createCreditType(server, 'AI credits');
    fixed = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({
        name: 'Units',
        event_type_filter: { in_values: ['usage'] },
        aggregation_type: 'SUM',
        aggregation_key: 'units',
        property_filters: [{ name: 'units', exists: true }],
      })
    ).data.id;
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'AI plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
    chat = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric, tags: ['ai'] })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: chat, entitled: true, rate_type: 'FLAT', price: 10, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });
  });
  afterAll(() => server.stop());

  async function customerWith(overrides: Override[], extra: Partial<Metronome.V1.ContractCreateParams> = {}) {
    const alias = `customer-${++sequence}-${engine}`;
    const customer = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
    const contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: APRIL.starting_at,
        rate_card_id: rateCard,
        credits: [{ product_id: fixed, name: 'Pool', priority: 1, access_schedule: { credit_type_id: aiCredits, schedule_items: [{ amount: 400, ...APRIL }] } }],
        ...(overrides.length && { overrides }),
        ...extra,
      })
    ).data.id;
    return { customer, contract, alias };
  }

  async function ingest(alias: string, units: number, timestamp = '2024-04-05T10:30:00Z') {
    await client.v1.usage.ingest({ usage: [{ transaction_id: `tx-${++sequence}`, customer_id: alias, event_type: 'usage', timestamp, properties: { units } }] });
  }

  const pool = async (customer: string) => (await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true })).data.find((grant) => grant.name === 'Pool')!.balance;

  async function chatLines(customer: string) {
    const invoices = [];
    for await (const invoice of client.v1.customers.invoices.list({ customer_id: customer, status: 'DRAFT' })) invoices.push(invoice);
    expect(invoices).toHaveLength(1);
    return { invoice: invoices[0]!, lines: invoices[0]!.line_items.filter((line) => line.product_id === chat) };
  }

  const half = (extra: Partial<Override> = {}): Override => ({ type: 'MULTIPLIER', multiplier: 0.5, starting_at: APRIL.starting_at, override_specifiers: [{ product_id: chat }], ...extra });

  it('a MULTIPLIER of 0.5 makes usage listed at 100 credits cost 50: the draft and the pool say so', async () => {
    const { customer, contract, alias } = await customerWith([half()]);
    await ingest(alias, 10);
    expect(await pool(customer)).toBe(350);
    expect((await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits })).data.balance).toBe(350);
    const { invoice, lines } = await chatLines(customer);
    expect(lines.map((line) => [line.type, line.total, line.credit_type.id])).toEqual([
      ['usage', 50, aiCredits],
      ['applied_commit_or_credit', -50, aiCredits],
    ]);
    expect(lines[0]).toMatchObject({ quantity: 10, unit_price: 5 });
    expect(invoice.total).toBe(0);

    const v2 = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    expect(v2.multiplier_override_prioritization).toBe('LOWEST_MULTIPLIER');
    expect(v2.overrides).toEqual([
      {
        id: expect.any(String),
        created_at: '2024-04-10T00:00:00.000Z',
        starting_at: '2024-04-01T00:00:00.000Z',
        type: 'MULTIPLIER',
        multiplier: 0.5,
        override_specifiers: [{ product_id: chat }],
        is_commit_specific: false,
      },
    ]);
    const v1 = (await client.v1.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    expect(v1.current.overrides).toEqual(v2.overrides);
    const listed = (await client.v2.contracts.list({ customer_id: customer })).data;
    expect(listed[0]!.overrides).toEqual(v2.overrides);
  });

  it('an OVERWRITE to a flat price of 2 makes 10 units cost 20, in the pricing unit it names', async () => {
    const { customer, contract, alias } = await customerWith([
      { type: 'OVERWRITE', product_id: chat, starting_at: APRIL.starting_at, overwrite_rate: { rate_type: 'FLAT', price: 2, credit_type_id: USD } },
    ]);
    await ingest(alias, 10);
    // Priced in cents now, the usage no longer draws the pool of AI credits.
    expect(await pool(customer)).toBe(400);
    const { invoice, lines } = await chatLines(customer);
    expect(lines.map((line) => [line.type, line.total, line.credit_type.id])).toEqual([['usage', 20, USD]]);
    expect(lines[0]).toMatchObject({ quantity: 10, unit_price: 2 });
    expect(invoice.total).toBe(20);
    const [override] = (await client.v1.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.current.overrides;
    expect(override).toMatchObject({
      type: 'OVERWRITE',
      product: { id: chat, name: 'Chat' },
      overwrite_rate: { rate_type: 'FLAT', price: 2, credit_type: { id: USD, name: 'USD (cents)' } },
      rate_type: 'FLAT',
      price: 2,
    });
  });

  it('an OVERWRITE in the rate’s own unit draws the pool at the overwritten price: 10 units at 2 → 380 left', async () => {
    const { customer, alias } = await customerWith([{ type: 'OVERWRITE', override_specifiers: [{ product_tags: ['ai'] }], starting_at: APRIL.starting_at, overwrite_rate: { rate_type: 'FLAT', price: 2 } }]);
    await ingest(alias, 10);
    expect(await pool(customer)).toBe(380);
    expect((await chatLines(customer)).lines.map((line) => [line.type, line.total])).toEqual([
      ['usage', 20],
      ['applied_commit_or_credit', -20],
    ]);
  });

  it('an override starting mid-period cuts it there: 4 units before April 8 at 10, 6 after at 5 → 70', async () => {
    const { customer, alias } = await customerWith([{ type: 'MULTIPLIER', multiplier: 0.5, applicable_product_tags: ['ai', 'other'], starting_at: '2024-04-08T00:00:00Z' }]);
    await ingest(alias, 4, '2024-04-05T10:30:00Z');
    await ingest(alias, 6, '2024-04-09T10:30:00Z');
    expect(await pool(customer)).toBe(330);
    const { lines } = await chatLines(customer);
    expect(lines.map((line) => [line.type, line.total])).toEqual([
      ['usage', 70],
      ['applied_commit_or_credit', -70],
    ]);
    // Two prices made the total: no one unit price explains it.
    expect(lines[0]).toMatchObject({ quantity: 10 });
    expect(lines[0]!.unit_price).toBeUndefined();
  });

  it('an override that has ended leaves later usage at the list price: 0.5 until April 8, then 10 → 20 + 60 = 80', async () => {
    const { customer, alias } = await customerWith([half({ ending_before: '2024-04-08T00:00:00Z' })]);
    await ingest(alias, 4, '2024-04-05T10:30:00Z');
    await ingest(alias, 6, '2024-04-09T10:30:00Z');
    expect(await pool(customer)).toBe(320);
  });

  it('picks the lowest multiplier by default, and the lowest priority under EXPLICIT; an OVERWRITE beats both', async () => {
    const both = [half(), half({ multiplier: 0.8 })];
    const lowest = await customerWith(both);
    await ingest(lowest.alias, 10);
    expect(await pool(lowest.customer)).toBe(350);

    const explicit = await customerWith([half({ priority: 2 }), half({ multiplier: 0.8, priority: 1 })], { multiplier_override_prioritization: 'EXPLICIT' });
    await ingest(explicit.alias, 10);
    expect(await pool(explicit.customer)).toBe(320);
    expect((await client.v2.contracts.retrieve({ customer_id: explicit.customer, contract_id: explicit.contract })).data).toMatchObject({
      multiplier_override_prioritization: 'EXPLICIT',
      overrides: [{ priority: 2 }, { priority: 1 }].map((fields) => expect.objectContaining(fields)),
    });

    const overwritten = await customerWith([...both, { type: 'OVERWRITE', product_id: chat, starting_at: APRIL.starting_at, overwrite_rate: { rate_type: 'FLAT', price: 30 } }]);
    await ingest(overwritten.alias, 10);
    expect(await pool(overwritten.customer)).toBe(100);
  });

  it('add_overrides on an edit reprices the open period, live: 100 drawn becomes 50', async () => {
    const { customer, contract, alias } = await customerWith([]);
    await ingest(alias, 10);
    expect(await pool(customer)).toBe(300);
    await client.v2.contracts.edit({ customer_id: customer, contract_id: contract, add_overrides: [half()] });
    expect(await pool(customer)).toBe(350);
    expect((await chatLines(customer)).lines[0]).toMatchObject({ total: 50, unit_price: 5 });
    const [edit] = (await client.v2.contracts.getEditHistory({ customer_id: customer, contract_id: contract })).data;
    expect(edit!.add_overrides).toEqual([expect.objectContaining({ type: 'MULTIPLIER', multiplier: 0.5 })]);
  });

  it('refuses what it does not build, naming the field', async () => {
    const { customer, contract } = await customerWith([]);
    const create = (override: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      client.v1.contracts.create({ customer_id: customer, starting_at: APRIL.starting_at, rate_card_id: rateCard, overrides: [{ ...half(), ...override } as Override], ...extra });
    const edit = (override: Record<string, unknown>) => client.v2.contracts.edit({ customer_id: customer, contract_id: contract, add_overrides: [{ ...half(), ...override } as never] });

    await expect400(create({ type: undefined }), 'overrides.0.type');
    await expect400(create({ type: 'TIERED' }), 'overrides.0.type');
    await expect400(create({ tiers: [{ multiplier: 0.5 }] }), 'overrides.0.tiers');
    await expect400(create({ is_commit_specific: true }), 'overrides.0.is_commit_specific');
    await expect400(create({ target: 'COMMIT_RATE' }), 'overrides.0.target');
    await expect400(create({ override_specifiers: [{ product_id: chat, billing_frequency: 'MONTHLY' }] }), 'overrides.0.override_specifiers.0.billing_frequency');
    await expect400(create({ override_specifiers: [{ product_id: chat, pricing_group_values: { region: 'EU' } }] }), 'overrides.0.override_specifiers.0.pricing_group_values');
    await expect400(create({ override_specifiers: [{ product_id: chat, presentation_group_values: { region: 'EU' } }] }), 'overrides.0.override_specifiers.0.presentation_group_values');
    await expect400(create({ override_specifiers: [{ product_id: chat, commit_ids: [UNKNOWN] }] }), 'overrides.0.override_specifiers.0.commit_ids');
    await expect400(create({ override_specifiers: [{ product_id: chat, recurring_commit_ids: [UNKNOWN] }] }), 'overrides.0.override_specifiers.0.recurring_commit_ids');
    await expect400(create({ override_specifiers: [{ product_id: chat, any_commit_or_credit_ids: [UNKNOWN] }] }), 'overrides.0.override_specifiers.0.any_commit_or_credit_ids');
    await expect400(create({ override_specifiers: [{}] }), 'overrides.0.override_specifiers.0');
    await expect400(create({ override_specifiers: [{ product_id: UNKNOWN }] }), 'overrides.0.override_specifiers.0.product_id');
    await expect400(create({ override_specifiers: [{ product_id: fixed }] }), 'overrides.0.override_specifiers.0.product_id');
    await expect400(create({ override_specifiers: [{ product_tags: [] }] }), 'overrides.0.override_specifiers.0.product_tags');
    await expect400(create({ override_specifiers: undefined }), 'overrides.0.override_specifiers');
    await expect400(create({ product_id: chat }), 'overrides.0.product_id');
    await expect400(create({ override_specifiers: undefined, product_id: chat, applicable_product_tags: ['ai'] }), 'overrides.0.applicable_product_tags');
    await expect400(create({ override_specifiers: undefined, product_id: UNKNOWN }), 'overrides.0.product_id');
    await expect400(create({ multiplier: -1 }), 'overrides.0.multiplier');
    await expect400(create({ multiplier: undefined }), 'overrides.0.multiplier');
    await expect400(create({ overwrite_rate: { rate_type: 'FLAT', price: 2 } }), 'overrides.0.overwrite_rate');
    await expect400(create({ type: 'OVERWRITE', multiplier: undefined }), 'overrides.0.overwrite_rate');
    const overwrite = (rate: Record<string, unknown>) => create({ type: 'OVERWRITE', multiplier: undefined, overwrite_rate: rate });
    await expect400(overwrite({ rate_type: 'PERCENTAGE', price: 0.1 }), 'overrides.0.overwrite_rate.rate_type');
    await expect400(overwrite({ rate_type: 'FLAT' }), 'overrides.0.overwrite_rate.price');
    await expect400(overwrite({ rate_type: 'FLAT', price: -1 }), 'overrides.0.overwrite_rate.price');
    await expect400(overwrite({ rate_type: 'FLAT', price: 2, credit_type_id: UNKNOWN }), 'overrides.0.overwrite_rate.credit_type_id');
    await expect400(overwrite({ rate_type: 'FLAT', price: 2, is_prorated: true }), 'overrides.0.overwrite_rate.is_prorated');
    await expect400(overwrite({ rate_type: 'FLAT', price: 2, quantity: 1 }), 'overrides.0.overwrite_rate.quantity');
    await expect400(overwrite({ rate_type: 'TIERED' }), 'overrides.0.overwrite_rate.tiers');
    await expect400(overwrite({ rate_type: 'TIERED', tiers: [{ price: 2, size: 10 }] }), 'overrides.0.overwrite_rate.tiers.0.size');
    await expect400(create({ priority: 1 }), 'overrides.0.priority');
    await expect400(create({ priority: 0 }, { multiplier_override_prioritization: 'EXPLICIT' }), 'overrides.0.priority');
    await expect400(create({}, { multiplier_override_prioritization: 'EXPLICIT' }), 'overrides.0.priority');
    await expect400(create({}, { multiplier_override_prioritization: 'HIGHEST' }), 'multiplier_override_prioritization');
    await expect400(create({ starting_at: '2024-04-01T00:30:00Z' }), 'overrides.0.starting_at');
    await expect400(create({ starting_at: '2024-03-01T00:00:00Z' }), 'overrides.0.starting_at');
    await expect400(create({ ending_before: '2024-04-01T00:00:00Z' }), 'overrides.0.ending_before');
    await expect400(create({ entitled: 'yes' }), 'overrides.0.entitled');
    await expect400(client.v1.contracts.create({ customer_id: customer, starting_at: APRIL.starting_at, overrides: [half()] }), 'overrides');

    await expect400(edit({ starting_at: '2024-03-01T00:00:00Z' }), 'add_overrides.0.starting_at');
    await expect400(edit({ override_specifiers: [{ product_id: chat, billing_frequency: 'MONTHLY' }] }), 'add_overrides.0.override_specifiers.0.billing_frequency');
    await expect400(edit({ priority: 1 }), 'add_overrides.0.priority');
    // Nothing refused was kept.
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.overrides).toEqual([]);
  });

  // Last: it moves the shared clock to May.
  it('period close finalises April at the overridden price and records the deduction at it: 50', async () => {
    const { customer, alias } = await customerWith([half()]);
    await ingest(alias, 10);
    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);
    const finalized = [];
    for await (const invoice of client.v1.customers.invoices.list({ customer_id: customer, status: 'FINALIZED' })) finalized.push(invoice);
    expect(finalized).toHaveLength(1);
    expect(finalized[0]!.line_items.filter((line) => line.product_id === chat).map((line) => [line.type, line.total])).toEqual([
      ['usage', 50],
      ['applied_commit_or_credit', -50],
    ]);
    const { data } = await client.v1.contracts.listBalances({ customer_id: customer, include_ledgers: true, include_archived: true });
    expect(data.find((grant) => grant.name === 'Pool')!.ledger!.map((entry) => [entry.type, entry.amount])).toEqual([
      ['CREDIT_SEGMENT_START', 400],
      ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -50],
      ['CREDIT_EXPIRATION', -350],
    ]);
  });
});
