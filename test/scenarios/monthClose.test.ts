import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startStripeSandbox, type StripeSandbox } from '../../src/stripeSandbox/server.js';
import { runCli } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

type Row = Record<string, string | boolean | null>;

/**
 * A month closed end to end on a fixed clock: 100 seats at $10 with 50 AI credits each pooled,
 * +10 seats at half of April, and more usage than the pool holds. The finalised invoice, the
 * ledger, the reconciliation reports and the invoice pushed to Stripe (a local stand-in speaking
 * its API) agree to the cent.
 */
describe.each(ENGINES)('closing April for seats, a pooled credit and overage on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let customer: string;
  let stripe: StripeSandbox;
  let receiver: Receiver;

  beforeAll(async () => {
    stripe = await startStripeSandbox({ customers: ['cus_acme'] });
    receiver = await startReceiver();
    server = await startTestServer({ engine, clockStart: '2024-04-01T00:00:00Z', stripe: { secretKey: stripe.secretKey, apiBase: stripe.apiBase } });
    client = server.client();
    await client.post('/v1/allot/webhooks', { body: { url: `${receiver.url}/invoices`, event_types: ['invoice.finalized'] } });
    const catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 100 });
    const metric = (
      await client.v1.billableMetrics.create({
        name: 'Tokens',
        event_type_filter: { in_values: ['tokens'] },
        aggregation_type: 'SUM',
        aggregation_key: 'credits',
        property_filters: [{ name: 'credits', exists: true }],
      })
    ).data.id;
    const chat = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: chat, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: catalog.aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    const contract = await createSeatContract(client, { catalog, seats: 100 });
    customer = contract.customer;
    await client.v1.customers.setBillingConfigurations({
      data: [{ customer_id: customer, billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider', configuration: { stripe_customer_id: 'cus_acme', stripe_collection_method: 'send_invoice' } }],
    });
    await client.v2.contracts.edit({
      customer_id: customer,
      contract_id: contract.contract,
      update_subscriptions: [{ subscription_id: contract.subscription, quantity_updates: [{ starting_at: '2024-04-16T00:00:00Z', quantity_delta: 10 }] }],
    });
    await server.advanceClock('2024-04-20T00:00:00Z');
    // 5,400 AI credits against a pool of 5,000 + 250: 150 credits of overage at 100 cents.
    await client.v1.usage.ingest({
      usage: [3000, 2400].map((credits, i) => ({ transaction_id: `april-${i}`, customer_id: customer, event_type: 'tokens', timestamp: '2024-04-19T10:00:00Z', properties: { credits } })),
    });
    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);
  });
  afterAll(async () => {
    await server.stop();
    await stripe.close();
    await receiver.close();
  });

  const report = async (kind: 'ledger' | 'invoices', format = 'json') =>
    fetch(`${server.baseURL}/v1/allot/reports/${kind}?starting_on=2024-04-01T00:00:00Z&ending_before=2024-05-01T00:00:00Z&customer_id=${customer}&format=${format}`, {
      headers: { authorization: `Bearer ${server.key}` },
    });

  it('finalises the invoice: seats, the prorated increase, usage, the pool applied and the overage converted', async () => {
    const [april] = (await client.v1.customers.invoices.list({ customer_id: customer, status: 'FINALIZED' })).data;
    expect(april).toMatchObject({ status: 'FINALIZED', type: 'USAGE', total: 120000, start_timestamp: '2024-04-01T00:00:00.000Z', end_timestamp: '2024-05-01T00:00:00.000Z' });
    expect(april!.line_items.map((line) => [line.type, line.total])).toEqual([
      ['usage', 5400],
      ['applied_commit_or_credit', -5250],
      ['subscription', 100000],
      ['subscription', 5000],
      ['cpu_conversion', 15000],
    ]);
  });

  it('announces the finalised invoice with one invoice.finalized webhook', async () => {
    const [april] = (await client.v1.customers.invoices.list({ customer_id: customer, status: 'FINALIZED' })).data;
    const [delivered] = await receiver.waitForRequests(1);
    expect(JSON.parse(delivered!.body)).toMatchObject({
      type: 'invoice.finalized',
      properties: { invoice_id: april!.id, customer_id: customer, invoice_type: 'USAGE', total: 120000, start_timestamp: '2024-04-01T00:00:00.000Z', end_timestamp: '2024-05-01T00:00:00.000Z' },
    });
    expect(receiver.requests).toHaveLength(1);
  });

  it("records the pool's deduction in its ledger, leaving nothing to expire", async () => {
    const { data } = await client.v1.contracts.listBalances({ customer_id: customer, include_ledgers: true, covering_date: '2024-04-15T00:00:00Z' });
    expect(data.map((grant) => (grant.ledger ?? []).map((entry) => [entry.type, entry.amount]))).toEqual([
      [
        ['CREDIT_SEGMENT_START', 5000],
        ['CREDIT_SEAT_BASED_ADJUSTMENT', 250],
        ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -5250],
      ],
    ]);
  });

  it('reports the same figures, with every check passing, as JSON, CSV and from allot report', async () => {
    const ledger = (await (await report('ledger')).json()) as { data: Row[]; checks: { rows: number; failing: number } };
    expect(ledger.checks).toEqual({ rows: 1, failing: 0 });
    expect(ledger.data[0]).toMatchObject({
      opening_balance: '0',
      grants: '5000',
      seat_adjustments: '250',
      deductions: '-5250',
      expirations: '0',
      rollovers: '0',
      closing_balance: '0',
      adds_up: true,
    });
    const invoices = (await (await report('invoices')).json()) as { data: Row[]; checks: { rows: number; failing: number } };
    expect(invoices.checks).toEqual({ rows: 1, failing: 0 });
    expect(invoices.data[0]).toMatchObject({ subscriptions: '105000', usage: '0', applied: '0', conversions: '15000', total: '120000', ledger_deductions: '-5250', applied_all_units: '-5250', ledger_agrees: true });

    const csv = await report('invoices', 'csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const [header, row] = (await csv.text()).trim().split('\n');
    expect(header!.split(',')).toContain('ledger_deductions');
    expect(row).toContain(',120000,');

    const printed = await runCli(['report', '--from', '2024-04-01', '--to', '2024-05-01', '--customer', customer, '--url', server.baseURL], { ALLOT_KEY: server.key });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('Checks: 1 of 1 segments add up; 1 of 1 invoices add up and agree with the ledger; 0 periods with unbilled usage.');
    expect(printed.stdout).toMatch(/5,000\.00\s+250\.00\s+-5,250\.00/);
    // The invoice's fiat lines in dollars (105,000 cents of seats, 15,000 of conversion), the pool's deductions in AI credits.
    expect(printed.stdout).toMatch(/\$1,050\.00\s+\$0\.00\s+\$0\.00\s+\$150\.00\s+\$1,200\.00\s+-5,250\.00\s+lines = total, ledger agrees/);
  });

  it('pushes the same invoice to Stripe: the fiat lines as items, totalling 120,000 cents, finalised', async () => {
    const [april] = (await client.v1.customers.invoices.list({ customer_id: customer, status: 'FINALIZED' })).data;
    await waitFor(async () => [...stripe.invoices.values()].some((invoice) => invoice.status === 'open'), { what: 'the Stripe invoice' });
    const pushed = [...stripe.invoices.values()];
    expect(pushed).toHaveLength(1);
    expect(pushed[0]).toMatchObject({ customer: 'cus_acme', collection_method: 'send_invoice', currency: 'usd', total: 120000, amount_due: 120000, status: 'open' });
    expect(pushed[0]!.metadata).toMatchObject({ allot_invoice_id: april!.id });
    // Every fiat line of the Allot invoice, and nothing in AI credits.
    expect(pushed[0]!.lines.data.map((item) => item.amount).sort((a, b) => a - b)).toEqual([5000, 15000, 100000]);
  });

  it('refuses a window that ends before it starts, naming the field', async () => {
    const response = await fetch(`${server.baseURL}/v1/allot/reports/ledger?starting_on=2024-05-01T00:00:00Z&ending_before=2024-04-01T00:00:00Z`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('ending_before');
    const notAnId = await fetch(`${server.baseURL}/v1/allot/reports/invoices?starting_on=2024-04-01T00:00:00Z&ending_before=2024-05-01T00:00:00Z&customer_id=nope`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(notAnId.status).toBe(400);
    expect(((await notAnId.json()) as { message: string }).message).toContain('customer_id');
  });
});
