import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type Row = Record<string, string | boolean | null>;

/**
 * Seats change at any instant (docs/rules.md rules 1, 5, 7 and 8): 10 seats at 1,000 cents a month
 * with 50 AI credits each pooled, +2 seats on April 16 at 12:30. 14 days 11.5 hours of April's 30
 * days are left, 347.5/720 of the period: the seat charge is 2 × 1,000 × 347.5/720 and the pool
 * grows by 2 × 50 × 347.5/720, rounded once to 20 decimals. The clock starts at 12:00, before the
 * change, and usage of 520 credits was rated at 10:00, before it too.
 */
describe.each(ENGINES)('a seat change off the hour on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let team: { customer: string; contract: string; subscription: string };

  const pool = async () => (await client.v1.contracts.getNetBalance({ customer_id: team.customer, credit_type_id: catalog.aiCredits })).data.balance;
  const draft = async () => (await client.v1.customers.invoices.list({ customer_id: team.customer, status: 'DRAFT' })).data[0]!;
  const lines = (invoice: { line_items: { type: string; total: number }[] }, type: string) => invoice.line_items.filter((line) => line.type === type).map((line) => line.total);
  const ledger = async () => {
    const [credit] = (await client.v1.contracts.listBalances({ customer_id: team.customer, include_ledgers: true })).data;
    return (credit!.ledger ?? []).map((entry) => [entry.type, entry.amount, entry.timestamp]);
  };
  const report = async (kind: 'ledger' | 'invoices') =>
    (await (
      await fetch(`${server.baseURL}/v1/allot/reports/${kind}?starting_on=2024-04-01T00:00:00Z&ending_before=2024-05-01T00:00:00Z&customer_id=${team.customer}`, {
        headers: { authorization: `Bearer ${server.key}` },
      })
    ).json()) as { data: Row[]; checks: { rows: number; failing: number } };

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-16T12:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 100 });
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
    team = await createSeatContract(client, { catalog, seats: 10 });
    await client.v1.usage.ingest({ usage: [{ transaction_id: 'before-the-change', customer_id: team.customer, event_type: 'tokens', timestamp: '2024-04-16T10:00:00Z', properties: { credits: 520 } }] });
  });
  afterAll(() => server.stop());

  it('takes a quantity change at 12:30 and keeps it to the millisecond; it counts once the clock reaches it', async () => {
    await client.v2.contracts.edit({
      customer_id: team.customer,
      contract_id: team.contract,
      update_subscriptions: [{ subscription_id: team.subscription, quantity_updates: [{ starting_at: '2024-04-16T14:30:00+02:00', quantity_delta: 2 }] }],
    });
    const schedule = (await client.v2.contracts.retrieve({ customer_id: team.customer, contract_id: team.contract })).data.subscriptions![0]!.quantity_schedule;
    expect(schedule).toEqual([
      { quantity: 10, starting_at: '2024-04-01T00:00:00.000Z', ending_before: '2024-04-16T12:30:00.000Z' },
      { quantity: 12, starting_at: '2024-04-16T12:30:00.000Z' },
    ]);
    // At 12:00 the change has not come: the pool of 500 is spent by the 520 of usage, 20 over, and only April's seats are charged.
    expect(await pool()).toBe(0);
    const before = await draft();
    expect(lines(before, 'subscription')).toEqual([10000]);
    expect(lines(before, 'cpu_conversion')).toEqual([2000]);
  });

  it('charges +2 seats × 1,000 × 347.5/720 and grows the pool by 2 × 50 × 347.5/720 at 12:30 exactly', async () => {
    expect((await server.advanceClock('2024-04-16T12:29:59.999Z')).status).toBe(200);
    expect(await pool()).toBe(0);
    expect((await server.advanceClock('2024-04-16T12:30:00Z')).status).toBe(200);
    const now = await draft();
    // 2,000 × 347.5/720 = 965.2777… cents, exact until the invoice rounds it.
    expect(lines(now, 'subscription')).toEqual([10000, 2000 * (347.5 / 720)]);
    // The adjustment funds the period's usage, the 20 over from 10:00 included: 500 + 48.2638… − 520.
    expect(lines(now, 'cpu_conversion')).toEqual([]);
    expect(await pool()).toBe(Number('28.26388888888888888889'));
    expect(await ledger()).toEqual([
      ['CREDIT_SEGMENT_START', 500, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_SEAT_BASED_ADJUSTMENT', Number('48.26388888888888888889'), '2024-04-16T12:30:00.000Z'],
      ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -520, '2024-05-01T00:00:00.000Z'],
    ]);
  });

  it('closes April: the seat lines rounded to cents, and the ledger report adds up to the last digit', async () => {
    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);
    const [april] = (await client.v1.customers.invoices.list({ customer_id: team.customer, status: 'FINALIZED' })).data;
    expect(lines(april!, 'subscription')).toEqual([10000, 965]);
    expect(april!.total).toBe(10965);
    const rows = await report('ledger');
    expect(rows.checks).toEqual({ rows: 1, failing: 0 });
    expect(rows.data[0]).toMatchObject({
      opening_balance: '0',
      grants: '500',
      seat_adjustments: '48.26388888888888888889',
      deductions: '-520',
      expirations: '-28.26388888888888888889',
      closing_balance: '0',
      adds_up: true,
    });
    const invoices = await report('invoices');
    expect(invoices.checks).toEqual({ rows: 1, failing: 0 });
    expect(invoices.data[0]).toMatchObject({ total: '10965', ledger_deductions: '-520', ledger_agrees: true });
  });

  it('still refuses contract, subscription and credit boundaries off the hour, naming the field', async () => {
    const other = await createSeatContract(client, { catalog, seats: 3, startingAt: '2024-05-01T00:00:00Z' });
    await expect400(
      client.v1.contracts.create({ customer_id: other.customer, starting_at: '2024-05-01T00:30:00Z', rate_card_id: catalog.rateCard }),
      'starting_at',
    );
    await expect400(
      client.v2.contracts.edit({ customer_id: other.customer, contract_id: other.contract, update_subscriptions: [{ subscription_id: other.subscription, ending_before: '2024-05-20T10:30:00Z' }] }),
      'update_subscriptions.0.ending_before',
    );
    await expect400(
      client.v2.contracts.edit({
        customer_id: other.customer,
        contract_id: other.contract,
        add_credits: [
          {
            product_id: catalog.poolProduct,
            access_schedule: { credit_type_id: catalog.aiCredits, schedule_items: [{ amount: 10, starting_at: '2024-05-02T00:00:30Z', ending_before: '2024-06-01T00:00:00Z' }] },
          },
        ],
      }),
      'add_credits.0.access_schedule.schedule_items.0.starting_at',
    );
    // A quantity change keeps the other rules: not before the open period, not without a zone.
    const update = (starting_at: string) =>
      client.v2.contracts.edit({ customer_id: other.customer, contract_id: other.contract, update_subscriptions: [{ subscription_id: other.subscription, quantity_updates: [{ starting_at, quantity: 4 }] }] });
    await expect400(update('2024-04-30T23:59:59.999Z'), 'update_subscriptions.0.quantity_updates.0.starting_at');
    await expect400(update('2024-05-10T10:30:00'), 'update_subscriptions.0.quantity_updates.0.starting_at');
    // Digits past the millisecond are dropped.
    await update('2024-05-10T10:30:00.1239Z');
    const schedule = (await client.v2.contracts.retrieve({ customer_id: other.customer, contract_id: other.contract })).data.subscriptions![0]!.quantity_schedule;
    expect(schedule!.map((step) => step.starting_at)).toEqual(['2024-05-01T00:00:00.000Z', '2024-05-10T10:30:00.123Z']);
  });
});
