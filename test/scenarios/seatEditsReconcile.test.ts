import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { runCli } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type Row = Record<string, string | boolean | null>;
interface Report {
  data: Row[];
  checks: { rows: number; failing: number };
}

/**
 * Seat edits at hours inside a period, reconciled (docs/rules.md rules 5, 11 and 19): 100 seats
 * with 50 AI credits each pooled from May 1, then +4 +3 at 06:00, +3 +1 +2 at 12:00, +2 +4 −2 at
 * 18:00 and +3 −1 −2 on May 2 at 00:00, prorated. The increases add 7 × 50 × 738/744,
 * 6 × 50 × 732/744 and 4 × 50 × 726/744 — no term a finite decimal, together exactly 837.5 — and
 * 1,000.25 credits of usage are drawn. May closes, and the ledger report adds up to the last digit.
 */
describe.each(ENGINES)('reconciling a month of seat edits at odd hours on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let customer: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-05-01T00:00:00Z' });
    client = server.client();
    const catalog = await seatCatalog(server, { aiCreditsInCents: 100 });
    const metric = (
      await client.v1.billableMetrics.create({ name: 'Tokens', event_type_filter: { in_values: ['tokens'] }, aggregation_type: 'SUM', aggregation_key: 'credits', property_filters: [{ name: 'credits', exists: true }] })
    ).data.id;
    const chat = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: chat, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: catalog.aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    const contract = await createSeatContract(client, { catalog, seats: 100, startingAt: '2024-05-01T00:00:00Z' });
    customer = contract.customer;
    const deltas: [string, number[]][] = [
      ['2024-05-01T06:00:00Z', [4, 3]],
      ['2024-05-01T12:00:00Z', [3, 1, 2]],
      ['2024-05-01T18:00:00Z', [2, 4, -2]],
      ['2024-05-02T00:00:00Z', [3, -1, -2]],
    ];
    await client.v2.contracts.edit({
      customer_id: customer,
      contract_id: contract.contract,
      update_subscriptions: [
        { subscription_id: contract.subscription, quantity_updates: deltas.flatMap(([starting_at, each]) => each.map((quantity_delta) => ({ starting_at, quantity_delta }))) },
      ],
    });
    await server.advanceClock('2024-05-10T00:00:00Z');
    await client.v1.usage.ingest({ usage: [{ transaction_id: 'may-1', customer_id: customer, event_type: 'tokens', timestamp: '2024-05-09T10:00:00Z', properties: { credits: '1000.25' } }] });
    expect((await server.advanceClock('2024-06-01T00:00:00Z')).status).toBe(200);
  });
  afterAll(() => server.stop());

  const report = async (kind: 'ledger' | 'invoices'): Promise<Report> => {
    const response = await fetch(`${server.baseURL}/v1/allot/reports/${kind}?starting_on=2024-05-01T00:00:00Z&ending_before=2024-06-01T00:00:00Z&customer_id=${customer}`, {
      headers: { authorization: `Bearer ${server.key}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Report;
  };
  const allotReport = () => runCli(['report', '--from', '2024-05-01', '--to', '2024-06-01', '--customer', customer, '--url', server.baseURL], { ALLOT_KEY: server.key });

  it('grants each increase rounded once to 20 decimals, adding up to exactly 837.5, and expires exactly what is left', async () => {
    const { data } = await client.v1.contracts.listBalances({ customer_id: customer, include_ledgers: true, covering_date: '2024-05-15T00:00:00Z' });
    expect(data.map((grant) => (grant.ledger ?? []).map((entry) => [entry.type, entry.amount]))).toEqual([
      [
        ['CREDIT_SEGMENT_START', 5000],
        ['CREDIT_SEAT_BASED_ADJUSTMENT', 347.17741935483870967742],
        ['CREDIT_SEAT_BASED_ADJUSTMENT', 295.16129032258064516129],
        ['CREDIT_SEAT_BASED_ADJUSTMENT', 195.16129032258064516129],
        ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -1000.25],
        ['CREDIT_EXPIRATION', -4837.25],
      ],
    ]);
  });

  it('reports May with every check passing, to the last digit, and allot report exits 0', async () => {
    const ledger = await report('ledger');
    expect(ledger.checks).toEqual({ rows: 1, failing: 0 });
    expect(ledger.data[0]).toMatchObject({
      opening_balance: '0',
      grants: '5000',
      seat_adjustments: '837.5',
      deductions: '-1000.25',
      manual: '0',
      rollovers: '0',
      expirations: '-4837.25',
      closing_balance: '0',
      adds_up: true,
    });
    const invoices = await report('invoices');
    expect(invoices.checks).toEqual({ rows: 1, failing: 0 });
    expect(invoices.data[0]).toMatchObject({ total: '0', ledger_deductions: '-1000.25', applied_all_units: '-1000.25', ledger_agrees: true });

    const printed = await allotReport();
    expect(printed.code).toBe(0);
    // Amounts as a billing engineer reads them: to at most 4 decimals, grouped, in the grant's unit.
    expect(printed.stdout).toMatch(/AI credits\s+0\.00\s+5,000\.00\s+837\.50\s+-1,000\.25\s+0\.00\s+0\.00\s+-4,837\.25\s+0\.00\s+adds up/);
    expect(printed.stdout).not.toMatch(/\d\.\d{5}/);
    expect(printed.stdout).toContain('Checks: 1 of 1 segments add up; 1 of 1 invoices add up and agree with the ledger; 0 periods with unbilled usage.');
  });

  it('fails when a ledger entry is changed behind its back: the invoice check disagrees and allot report exits 1', async () => {
    const changed = await server.database.db.query<{ amount: string }>(
      "UPDATE ledger_entries SET amount = amount - 0.01 WHERE kind = 'AUTOMATED_INVOICE_DEDUCTION' AND invoice_id IS NOT NULL RETURNING amount::text AS amount",
    );
    expect(changed.map((row) => row.amount)).toEqual(['-1000.26']);
    const invoices = await report('invoices');
    expect(invoices.checks).toEqual({ rows: 1, failing: 1 });
    expect(invoices.data[0]).toMatchObject({ ledger_deductions: '-1000.26', applied_all_units: '-1000.25', ledger_agrees: false });
    const printed = await allotReport();
    expect(printed.code).toBe(1);
    expect(printed.stdout).toContain('LEDGER DISAGREES');
    expect(printed.stdout).toContain('SOME CHECKS FAILED');

    // A hand-written change is read when the terms are next loaded (the next hour). The ledger
    // derives its expiration from the entries, so the segment itself still adds up, with the
    // changed deduction in it; it is the invoice check that catches the change.
    await server.advanceClock('2024-06-01T01:00:00Z');
    const ledger = await report('ledger');
    expect(ledger.data[0]).toMatchObject({ deductions: '-1000.26', expirations: '-4837.24', closing_balance: '0', adds_up: true });
  });
});
