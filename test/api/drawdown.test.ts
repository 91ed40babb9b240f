import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { createCreditType } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const APRIL = { starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' };
let sequence = 0;

/**
 * Usage drawing down credits through the SDK (docs/rules.md rules 9–11), on a clock fixed at
 * 2024-04-10: an "AI credits" unit worth 100 cents, usage products priced in it, and credits and
 * commits that fund the open April period.
 */
describe.each(ENGINES)('drawdown of usage on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let aiCredits: string;
  let fixed: string;
  let tokensMetric: string;
  let rateCard: string;
  let chat: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    aiCredits = await createCreditType(server, 'AI credits');
    fixed = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
    tokensMetric = (
      await client.v1.billableMetrics.create({
        name: 'Units',
        event_type_filter: { in_values: ['usage'] },
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
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'AI plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
    // Usage already counted in credits: 1 AI credit per unit.
    const direct = (
      await client.v1.billableMetrics.create({
        name: 'Credits used',
        event_type_filter: { in_values: ['credits'] },
        aggregation_type: 'SUM',
        aggregation_key: 'credits',
        property_filters: [{ name: 'credits', exists: true }],
      })
    ).data.id;
    const product = (await client.v1.contracts.products.create({ name: 'Direct', type: 'USAGE', billable_metric_id: direct })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });
  });
  afterAll(() => server.stop());

  /** A USAGE product on the units metric, priced on the card from 2024-01-01. */
  async function usageProduct(name: string, rate: { price?: number; tiers?: Array<{ size?: number; price: number }>; credit_type_id?: string }, extra: { tags?: string[]; pricing_group_key?: string[] } = {}) {
    const product = (await client.v1.contracts.products.create({ name, type: 'USAGE', billable_metric_id: tokensMetric, ...extra })).data.id;
    await client.v1.contracts.rateCards.rates.add({
      rate_card_id: rateCard,
      product_id: product,
      entitled: true,
      rate_type: rate.tiers ? 'TIERED' : 'FLAT',
      starting_at: '2024-01-01T00:00:00Z',
      credit_type_id: rate.credit_type_id ?? aiCredits,
      ...(rate.price !== undefined && { price: rate.price }),
      ...(rate.tiers && { tiers: rate.tiers }),
    });
    return product;
  }

  type Grant = { kind: 'credits' | 'commits'; amount: number; priority: number; name: string; products?: string[]; tags?: string[]; endingBefore?: string; creditType?: string };

  async function customerWith(grants: Grant[]) {
    const alias = `customer-${++sequence}-${engine}`;
    const customer = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
    const schedule = (grant: Grant) => ({
      credit_type_id: grant.creditType ?? aiCredits,
      schedule_items: [{ amount: grant.amount, starting_at: APRIL.starting_at, ending_before: grant.endingBefore ?? APRIL.ending_before }],
    });
    const contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: rateCard,
        credits: grants
          .filter((g) => g.kind === 'credits')
          .map((g) => ({ product_id: fixed, name: g.name, priority: g.priority, access_schedule: schedule(g), ...(g.products && { applicable_product_ids: g.products }), ...(g.tags && { applicable_product_tags: g.tags }) })),
        commits: grants
          .filter((g) => g.kind === 'commits')
          .map((g) => ({ product_id: fixed, type: 'PREPAID' as const, name: g.name, priority: g.priority, access_schedule: schedule(g), ...(g.products && { applicable_product_ids: g.products }) })),
      })
    ).data.id;
    return { customer, contract, alias };
  }

  async function ingest(alias: string, units: Array<number | string>, extra: Record<string, string> = {}) {
    await client.v1.usage.ingest({
      usage: units.map((value) => ({
        transaction_id: `tx-${++sequence}`,
        customer_id: alias,
        event_type: 'usage',
        timestamp: '2024-04-05T10:30:00Z',
        properties: { units: value, user_id: 'user_1', team: 'research', ...extra },
      })),
    });
  }

  async function spend(alias: string, credits: number) {
    await client.v1.usage.ingest({ usage: [{ transaction_id: `tx-${++sequence}`, customer_id: alias, event_type: 'credits', timestamp: '2024-04-05T10:30:00Z', properties: { credits } }] });
  }

  async function balancesByName(customer: string) {
    const { data } = await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true, include_ledgers: true });
    return Object.fromEntries(data.map((grant) => [grant.name ?? grant.id, grant]));
  }

  const net = async (customer: string, creditTypeId: string = aiCredits) => (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: creditTypeId })).data.balance;

  async function draft(customer: string) {
    const invoices = [];
    for await (const invoice of client.v1.customers.invoices.list({ customer_id: customer, status: 'DRAFT' })) invoices.push(invoice);
    expect(invoices).toHaveLength(1);
    return invoices[0]!;
  }

  it('draws 10 units at 12 credits each from a pool of 400, leaving 280, as soon as the ingest call returns', async () => {
    chat = await usageProduct('Chat', { price: 12 });
    const { customer, alias } = await customerWith([{ kind: 'credits', amount: 400, priority: 1, name: 'Pool' }]);
    expect(await net(customer)).toBe(400);
    await ingest(alias, [4, 6]);
    expect(await net(customer)).toBe(280);

    const pool = (await balancesByName(customer)).Pool!;
    expect(pool.balance).toBe(280);
    const invoice = await draft(customer);
    const deduction = pool.ledger!.find((entry) => entry.type === 'CREDIT_AUTOMATED_INVOICE_DEDUCTION');
    expect(deduction).toMatchObject({ amount: -120, invoice_id: invoice.id, timestamp: '2024-05-01T00:00:00.000Z' });
    expect(invoice).toMatchObject({ status: 'DRAFT', total: 0, start_timestamp: '2024-04-01T00:00:00.000Z', end_timestamp: '2024-05-01T00:00:00.000Z' });
    const lines = invoice.line_items.filter((line) => line.product_id === chat);
    expect(lines.map((line) => [line.type, line.name, line.total, line.credit_type.id])).toEqual([
      ['usage', 'Chat', 120, aiCredits],
      ['applied_commit_or_credit', 'Pool', -120, aiCredits],
    ]);
    expect(lines[0]).toMatchObject({ quantity: 10, unit_price: 12 });
    expect(lines[1]!.applied_commit_or_credit).toEqual({ id: pool.id, type: 'CREDIT' });
    // Retrieving the draft by id gives the same invoice.
    expect((await client.v1.customers.invoices.retrieve({ customer_id: customer, invoice_id: invoice.id })).data).toEqual(invoice);
  });

  it('draws at most what the pool holds: 450 credits against 400 → 400 drawn, 50 over, converted to 5,000 cents', async () => {
    const { customer, alias } = await customerWith([{ kind: 'credits', amount: 400, priority: 1, name: 'Pool' }]);
    await ingest(alias, ['37.5']);
    expect(await net(customer)).toBe(0);
    const invoice = await draft(customer);
    expect(invoice.line_items.filter((line) => line.product_id === chat).map((line) => [line.type, line.total])).toEqual([
      ['usage', 450],
      ['applied_commit_or_credit', -400],
    ]);
    const conversion = invoice.line_items.find((line) => line.type === 'cpu_conversion');
    expect(conversion).toMatchObject({ total: 5000, quantity: 50, unit_price: 100, credit_type: { id: USD } });
    expect(invoice.total).toBe(5000);
  });

  it('draws the credit at priority 1 before the commit at priority 100: usage 500 → credit 0, commit 900', async () => {
    const { customer, alias } = await customerWith([
      { kind: 'commits', amount: 1000, priority: 100, name: 'Commit' },
      { kind: 'credits', amount: 400, priority: 1, name: 'Included' },
    ]);
    await spend(alias, 500);
    const byName = await balancesByName(customer);
    expect(byName.Included!.balance).toBe(0);
    expect(byName.Commit!.balance).toBe(900);
    expect(byName.Commit!.ledger!.map((entry) => [entry.type, entry.amount])).toEqual([
      ['PREPAID_COMMIT_SEGMENT_START', 1000],
      ['PREPAID_COMMIT_AUTOMATED_INVOICE_DEDUCTION', -100],
    ]);
  });

  it('at equal priority draws a credit before a commit', async () => {
    const { customer, alias } = await customerWith([
      { kind: 'commits', amount: 100, priority: 5, name: 'Commit' },
      { kind: 'credits', amount: 100, priority: 5, name: 'Credit' },
    ]);
    await spend(alias, 60);
    const byName = await balancesByName(customer);
    expect([byName.Credit!.balance, byName.Commit!.balance]).toEqual([40, 100]);
  });

  it('draws the grant ending sooner first', async () => {
    const { customer, alias } = await customerWith([
      { kind: 'credits', amount: 100, priority: 5, name: 'Later' },
      { kind: 'credits', amount: 100, priority: 5, name: 'Sooner', endingBefore: '2024-04-20T00:00:00Z' },
    ]);
    await spend(alias, 60);
    const byName = await balancesByName(customer);
    expect([byName.Sooner!.balance, byName.Later!.balance]).toEqual([40, 100]);
  });

  it('never draws a grant in another pricing unit', async () => {
    const { customer, alias } = await customerWith([
      { kind: 'credits', amount: 10000, priority: 1, name: 'Dollars', creditType: USD },
      { kind: 'credits', amount: 100, priority: 5, name: 'Credits' },
    ]);
    await spend(alias, 60);
    expect(await net(customer, USD)).toBe(10000);
    expect(await net(customer)).toBe(40);
  });
  it('draws a product-specific grant before an all-products one, and never for another product', async () => {
    const images = await usageProduct('Images', { price: 1 });
    const { customer, alias } = await customerWith([
      { kind: 'credits', amount: 100, priority: 5, name: 'Any product' },
      { kind: 'credits', amount: 100, priority: 5, name: 'Chat only', products: [chat] },
      { kind: 'credits', amount: 100, priority: 1, name: 'Images only', products: [images] },
    ]);
    await ingest(alias, [5]); // 60 credits of Chat, 5 of Images
    const byName = await balancesByName(customer);
    expect([byName['Chat only']!.balance, byName['Any product']!.balance, byName['Images only']!.balance]).toEqual([40, 100, 95]);
  });

  it("counts a tagged grant's products over the whole catalog, not only those with usage yet", async () => {
    // Three products tagged "batch": two on the credits metric, one on the units metric (no usage here).
    const tagged = async (name: string, metric: 'credits' | 'units') => {
      const metricId = metric === 'units' ? tokensMetric : (await client.v1.billableMetrics.list()).data.find((m) => m.name === 'Credits used')!.id;
      const id = (await client.v1.contracts.products.create({ name, type: 'USAGE', billable_metric_id: metricId, tags: ['batch'] })).data.id;
      await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: id, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });
      return id;
    };
    const first = await tagged('Batch A', 'credits');
    const second = await tagged('Batch B', 'credits');
    await tagged('Batch C', 'units');
    // Listed first, so the tagged grant has the smaller id and would win a tie on scope.
    const { customer, alias } = await customerWith([
      { kind: 'credits', amount: 1000, priority: 5, name: 'Tagged batch (3 products)', tags: ['batch'] },
      { kind: 'credits', amount: 1000, priority: 5, name: 'Two products', products: [first, second] },
    ]);
    await spend(alias, 10); // 10 credits on Direct (neither grant), Batch A and Batch B each
    const byName = await balancesByName(customer);
    expect([byName['Two products']!.balance, byName['Tagged batch (3 products)']!.balance]).toEqual([980, 1000]);
  });
});

describe.each(ENGINES)('rating on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let metric: string;
  let rateCard: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    metric = (
      await client.v1.billableMetrics.create({
        name: 'Requests',
        event_type_filter: { in_values: ['request'] },
        aggregation_type: 'COUNT',
        property_filters: [{ name: 'team', exists: true }],
        group_keys: [['team']],
      })
    ).data.id;
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'USD plan' })).data.id;
  });
  afterAll(() => server.stop());

  async function product(name: string, rates: Array<{ starting_at: string; price?: number; tiers?: Array<{ size?: number; price: number }>; pricing_group_values?: Record<string, string> }>, pricingGroupKey?: string[]) {
    const id = (await client.v1.contracts.products.create({ name, type: 'USAGE', billable_metric_id: metric, ...(pricingGroupKey && { pricing_group_key: pricingGroupKey }) })).data.id;
    for (const rate of rates) {
      await client.v1.contracts.rateCards.rates.add({
        rate_card_id: rateCard,
        product_id: id,
        entitled: true,
        rate_type: rate.tiers ? 'TIERED' : 'FLAT',
        starting_at: rate.starting_at,
        ...(rate.price !== undefined && { price: rate.price }),
        ...(rate.tiers && { tiers: rate.tiers }),
        ...(rate.pricing_group_values && { pricing_group_values: rate.pricing_group_values }),
      });
    }
    return id;
  }

  async function customer() {
    const alias = `rated-${++sequence}-${engine}`;
    const id = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
    await client.v1.contracts.create({ customer_id: id, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard });
    return { id, alias };
  }

  async function requests(alias: string, count: number, { team = 'research', timestamp = '2024-04-05T10:00:00Z' } = {}) {
    await client.v1.usage.ingest({
      usage: Array.from({ length: count }, () => ({ transaction_id: `rq-${++sequence}`, customer_id: alias, event_type: 'request', timestamp, properties: { team } })),
    });
  }

  async function usageLines(customerId: string, name: string) {
    const { data } = await client.v1.customers.invoices.list({ customer_id: customerId });
    return data[0]!.line_items.filter((line) => line.type === 'usage' && line.name === name);
  }

  it('refuses an unknown invoice or customer with a 404, and a bad sort with a 400 naming it', async () => {
    const { id } = await customer();
    const unknown = '01a20000-0000-7000-8000-000000000000';
    await expect(client.v1.customers.invoices.retrieve({ customer_id: id, invoice_id: unknown })).rejects.toMatchObject({ status: 404 });
    await expect(client.v1.customers.invoices.retrieve({ customer_id: id, invoice_id: 'not-an-id' })).rejects.toMatchObject({ status: 404 });
    await expect(client.v1.customers.invoices.list({ customer_id: unknown })).rejects.toMatchObject({ status: 404 });
    const badSort = client.v1.customers.invoices.list({ customer_id: id, sort: 'newest' as 'date_asc' });
    await expect(badSort).rejects.toMatchObject({ status: 400 });
    await expect(badSort).rejects.toThrow(/sort/);
    // A contract in force with no usage yet still has its (empty) draft.
    const { data } = await client.v1.customers.invoices.list({ customer_id: id, status: 'DRAFT' });
    expect(data.map((invoice) => [invoice.status, invoice.total])).toEqual([['DRAFT', 0]]);
    expect((await client.v1.customers.invoices.list({ customer_id: id, status: 'FINALIZED' })).data).toEqual([]);
  });

  it('prices graduated tiers over the period: 22 units → 182; after 12, the next 10 add 22', async () => {
    await product('Tiered', [{ starting_at: '2024-01-01T00:00:00Z', tiers: [{ size: 5, price: 20 }, { size: 5, price: 10 }, { size: 5, price: 5 }, { price: 1 }] }]);
    const { id, alias } = await customer();
    await requests(alias, 12);
    expect((await usageLines(id, 'Tiered')).map((line) => [line.quantity, line.total])).toEqual([[12, 160]]);
    await requests(alias, 10, { timestamp: '2024-04-08T00:00:00Z' });
    expect((await usageLines(id, 'Tiered')).map((line) => [line.quantity, line.total])).toEqual([[22, 182]]);
  });

  it('prices usage from a later rate start at the new rate', async () => {
    await product('Repriced', [
      { starting_at: '2024-01-01T00:00:00Z', price: 10 },
      { starting_at: '2024-04-06T00:00:00Z', price: 3 },
    ]);
    const { id, alias } = await customer();
    await requests(alias, 2, { timestamp: '2024-04-05T23:00:00Z' });
    await requests(alias, 5, { timestamp: '2024-04-06T00:00:00Z' });
    expect((await usageLines(id, 'Repriced')).map((line) => [line.quantity, line.total])).toEqual([[7, 35]]);
  });

  it('splits charges per pricing group value, with a rate for one value', async () => {
    await product(
      'Per team',
      [
        { starting_at: '2024-01-01T00:00:00Z', price: 2 },
        { starting_at: '2024-01-01T00:00:00Z', price: 7, pricing_group_values: { team: 'vision' } },
      ],
      ['team'],
    );
    const { id, alias } = await customer();
    await requests(alias, 3, { team: 'research' });
    await requests(alias, 4, { team: 'vision' });
    const lines = await usageLines(id, 'Per team');
    expect(lines.map((line) => [line.pricing_group_values, line.quantity, line.total]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      [{ team: 'research' }, 3, 6],
      [{ team: 'vision' }, 4, 28],
    ]);
  });
});
