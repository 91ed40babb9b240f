import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { runCli } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';

type Line = { type: string; total: number; quantity?: number };

const ingestUnits = (client: Metronome, transactionId: string, units: number, timestamp: string) =>
  client.v1.usage.ingest({ usage: [{ transaction_id: transactionId, customer_id: 'late-co', event_type: 'units', timestamp, properties: { value: units } }] });

/** The customer's usage invoices, oldest first: start, status, total and lines other than subscriptions. */
const usageInvoices = async (client: Metronome, customer: string) =>
  (await client.v1.customers.invoices.list({ customer_id: customer })).data
    .filter((invoice) => invoice.type === 'USAGE')
    .map((invoice) => ({
      start: invoice.start_timestamp,
      status: invoice.status,
      total: invoice.total,
      lines: (invoice.line_items as Line[]).filter((line) => line.type !== 'subscription').map((line) => [line.type, line.total]),
    }))
    .sort((a, b) => a.start!.localeCompare(b.start!));

/** Late Co: a $1 credit a month from April 1, units at 1 cent, ingest alias `late-co`. Its customer id and billable metric. */
async function createLateCo(client: Metronome): Promise<{ customer: string; metric: string }> {
  const fixed = (await client.v1.contracts.products.create({ name: 'Monthly credit', type: 'FIXED' })).data.id;
  const metric = (await client.v1.billableMetrics.create({ name: 'units', event_type_filter: { in_values: ['units'] }, aggregation_type: 'SUM', aggregation_key: 'value', property_filters: [{ name: 'value', exists: true }] })).data.id;
  const product = (await client.v1.contracts.products.create({ name: 'Units', type: 'USAGE', billable_metric_id: metric })).data.id;
  const rateCard = (await client.v1.contracts.rateCards.create({ name: 'Plan' })).data.id;
  await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:00:00Z' });
  const customer = (await client.v1.customers.create({ name: 'Late Co', ingest_aliases: ['late-co'] })).data.id;
  await client.v1.contracts.create({
    customer_id: customer,
    starting_at: '2024-04-01T00:00:00Z',
    rate_card_id: rateCard,
    recurring_credits: [
      {
        product_id: fixed,
        access_amount: { credit_type_id: USD, unit_price: 100, quantity: 1 },
        commit_duration: { value: 1, unit: 'PERIODS' },
        priority: 1,
        starting_at: '2024-04-01T00:00:00Z',
        recurrence_frequency: 'MONTHLY',
      },
    ],
  });
  return { customer, metric };
}

/**
 * Late usage and the invoice grace period (docs/rules.md rule 12), through the SDK on a test clock
 * that starts on 2024-04-10: a $1 credit a month, usage at 1 cent a unit, the tenant's grace
 * period 24 hours. An event dated April 30 that arrives on May 1 is on April's invoice and draws
 * April's credit; one that arrives after April's invoice is finalised is listed as unbilled.
 */
describe.each(ENGINES)('invoice grace period on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let customer: string;
  let metric: string;
  let sequence = 0;

  const ingest = (units: number, timestamp: string) => ingestUnits(client, `late-${++sequence}`, units, timestamp);
  const invoices = () => usageInvoices(client, customer);
  const report = async (kind: string) => {
    const response = await fetch(`${server.baseURL}/v1/allot/reports/${kind}?starting_on=2024-04-01T00:00:00Z&ending_before=2024-06-01T00:00:00Z`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as { data: Record<string, unknown>[]; checks: { rows: number; failing: number } };
  };

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z', periodClose: { intervalMs: 3_600_000 } });
    client = server.client();
    ({ customer, metric } = await createLateCo(client));
    await client.v1.alerts.create({ alert_type: 'usage_threshold_reached', name: 'Units', threshold: 120, billable_metric_id: metric, customer_id: customer });
  }, 120_000);

  afterAll(() => server?.stop());

  it('sets the grace period per tenant, 0 to 744 hours, and names a bad value', async () => {
    const settings = async (body?: unknown) => {
      const response = await fetch(`${server.baseURL}/v1/allot/settings`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as { data?: unknown; message?: string } };
    };
    // The test server's default is 0 (a real server's is ALLOT_INVOICE_GRACE_HOURS, 24 when unset).
    expect((await settings()).body.data).toEqual({ invoice_grace_period_hours: 0, invoice_grace_period_source: 'server_default' });
    for (const bad of [-1, 745, 1.5, '24']) {
      const refused = await settings({ invoice_grace_period_hours: bad });
      expect(refused.status).toBe(400);
      expect(refused.body.message).toContain('invoice_grace_period_hours');
    }
    expect((await settings({ invoice_grace_period_hours: 24 })).body.data).toEqual({ invoice_grace_period_hours: 24, invoice_grace_period_source: 'tenant' });
    expect((await settings()).body.data).toEqual({ invoice_grace_period_hours: 24, invoice_grace_period_source: 'tenant' });
  });

  it('keeps an ended period a draft during its grace period: late usage counts in it and draws its own credits', async () => {
    await ingest(80, '2024-04-10T00:00:00Z');
    expect(await invoices()).toEqual([{ start: '2024-04-01T00:00:00.000Z', status: 'DRAFT', total: 0, lines: [['usage', 80], ['applied_commit_or_credit', -80]] }]);

    await server.advanceClock('2024-05-01T00:00:00Z');
    // April ended, but its grace period runs to May 2: still a draft, beside May's.
    expect((await invoices()).map((invoice) => [invoice.start, invoice.status])).toEqual([
      ['2024-04-01T00:00:00.000Z', 'DRAFT'],
      ['2024-05-01T00:00:00.000Z', 'DRAFT'],
    ]);
    // 50 units dated in April arrive on May 1: 130 in April, April's $1 credit pays 100, 30 are owed.
    await ingest(50, '2024-04-30T23:00:00Z');
    const [april] = await invoices();
    expect(april).toEqual({ start: '2024-04-01T00:00:00.000Z', status: 'DRAFT', total: 30, lines: [['usage', 130], ['applied_commit_or_credit', -100]] });
    // May's credit is untouched: what can be spent now is May's $1.
    expect((await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: USD })).data.balance).toBe(100);
    // The usage alert (120 units) sees April's late usage during its grace period.
    await server.advanceClock('2024-05-01T01:00:00Z');
    const alerts = (await client.v1.customers.alerts.list({ customer_id: customer })).data;
    expect(alerts.map((alert) => alert.customer_status)).toEqual(['in_alarm']);
  });

  it('finalises the period once its grace period has passed, with the late usage on it', async () => {
    await server.advanceClock('2024-05-01T23:00:00Z');
    expect((await invoices())[0]!.status).toBe('DRAFT');
    await server.advanceClock('2024-05-02T00:00:00Z');
    const [april, may] = await invoices();
    expect(april).toEqual({ start: '2024-04-01T00:00:00.000Z', status: 'FINALIZED', total: 30, lines: [['usage', 130], ['applied_commit_or_credit', -100]] });
    expect(may!.status).toBe('DRAFT');
    expect((await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: USD })).data.balance).toBe(100);
    // April's credit expired with nothing left; the ledger and invoices reports agree.
    const ledger = await report('ledger');
    expect(ledger.checks.failing).toBe(0);
    expect((await report('invoices')).checks.failing).toBe(0);
    expect((await report('unbilled-usage')).data).toEqual([]);
  });

  it('lists usage that arrives after the invoice is finalised, and `allot report` fails for it', async () => {
    await server.advanceClock('2024-05-02T06:00:00Z');
    await ingest(7, '2024-04-15T00:00:00Z');
    // Stored, never billed: the finalised invoice does not change.
    expect((await invoices())[0]).toMatchObject({ status: 'FINALIZED', total: 30 });
    const unbilled = await report('unbilled-usage');
    expect(unbilled.checks).toEqual({ rows: 1, failing: 1 });
    expect(unbilled.data).toEqual([
      expect.objectContaining({
        customer_id: customer,
        start_timestamp: '2024-04-01T00:00:00.000Z',
        end_timestamp: '2024-05-01T00:00:00.000Z',
        finalized_at: '2024-05-02T00:00:00.000Z',
        late_events: '1',
        first_received_at: '2024-05-02T06:00:00.000Z',
      }),
    ]);
    const backwards = await fetch(`${server.baseURL}/v1/allot/reports/unbilled-usage?starting_on=2024-06-01T00:00:00Z&ending_before=2024-04-01T00:00:00Z`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(backwards.status).toBe(400);
    expect(((await backwards.json()) as { message: string }).message).toContain('ending_before');
    // The server is found through ALLOT_URL (no --url).
    const printed = await runCli(['report', '--key', server.key, '--from', '2024-04-01', '--to', '2024-06-01'], { ALLOT_URL: server.baseURL });
    expect(printed.code).toBe(1);
    expect(printed.stdout).toContain('USAGE THAT REACHED NO INVOICE');
    expect(printed.stdout).toContain('1 periods with unbilled usage. SOME CHECKS FAILED.');
  });
});

/**
 * An ended period in its grace period beside the open one, both with usage: each draft is funded
 * by its own period's credit only, and each credit is deducted once. (A line of a contract has the
 * same id in both periods; the drawdown once mixed the two periods' draws, showing both credits on
 * both drafts and deducting each twice.)
 */
describe.each(ENGINES)('late usage beside usage of the open period on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let customer: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z', invoiceGracePeriodHours: 24 });
    client = server.client();
    ({ customer } = await createLateCo(client));
  }, 120_000);

  afterAll(() => server?.stop());

  it('bills April\'s late usage on April, drawing April\'s credit, and May\'s on May, drawing May\'s', async () => {
    await ingestUnits(client, 'both-1', 80, '2024-04-10T00:00:00Z');
    await server.advanceClock('2024-05-01T00:00:00Z');
    await ingestUnits(client, 'both-2', 50, '2024-04-30T23:00:00Z');
    await ingestUnits(client, 'both-3', 20, '2024-05-01T00:00:00Z');
    expect(await usageInvoices(client, customer)).toEqual([
      { start: '2024-04-01T00:00:00.000Z', status: 'DRAFT', total: 30, lines: [['usage', 130], ['applied_commit_or_credit', -100]] },
      { start: '2024-05-01T00:00:00.000Z', status: 'DRAFT', total: 0, lines: [['usage', 20], ['applied_commit_or_credit', -20]] },
    ]);
    // What can be spent now: May's $1 less May's 20 cents.
    expect((await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: USD })).data.balance).toBe(80);
  });
});
