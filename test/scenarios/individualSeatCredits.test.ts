import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeatChat, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { expect400, rejection } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type Balance = Awaited<ReturnType<Metronome['v1']['contracts']['listBalances']>>['data'][number] & { seat_id?: string };

/**
 * INDIVIDUAL seat credits (docs/rules.md rule 29), through the SDK on a fixed clock: seats ada, bob
 * and cy on a SEAT_BASED subscription, 50 AI credits per seat per month, each seat its own credit;
 * chat costs 1 credit a unit and its events name the seat in `user_id`. ada uses 30 and then 40:
 * her credit pays 50 and 20 is overage; bob's and cy's stay whole. dan joins on April 16 (15 of 30
 * days left): 50 × 15/30 = 25. bob leaves on April 20 and keeps his credit to April's end; he
 * uses 10 on April 21. zed, never assigned, uses 5: no seat credit pays for it. May: ada, cy and
 * dan get 50 each, bob nothing, and April's remainders expire.
 */
describe.each(ENGINES)('INDIVIDUAL seat credits on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let team: { customer: string; contract: string; subscription: string };

  const seatBalances = async () => {
    const all = (await client.v1.contracts.listBalances({ customer_id: team.customer, include_balance: true, include_ledgers: true })).data as Balance[];
    return all.filter((b) => b.seat_id !== undefined);
  };
  const bySeat = async (from: string) =>
    Object.fromEntries((await seatBalances()).filter((b) => b.access_schedule!.schedule_items[0]!.starting_at === from).map((b) => [b.seat_id, b.balance]));
  const use = (id: string, user: string, credits: number, timestamp: string) =>
    client.v1.usage.ingest({ usage: [{ transaction_id: id, customer_id: team.customer, event_type: 'tokens', timestamp, properties: { credits, user_id: user } }] });
  const seatUpdates = (seat_updates: Record<string, unknown>) =>
    client.v2.contracts.edit({ customer_id: team.customer, contract_id: team.contract, update_subscriptions: [{ subscription_id: team.subscription, seat_updates }] });

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-01T00:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 0, aiCreditsInCents: 100 });
    await addSeatChat(client, catalog);
    const customer = (await client.v1.customers.create({ name: 'Seat credits team' })).data.id;
    const contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: catalog.rateCard,
        subscriptions: [
          {
            temporary_id: 'seats',
            collection_schedule: 'ADVANCE',
            quantity_management_mode: 'SEAT_BASED',
            seat_config: { initial_seat_ids: ['ada', 'bob', 'cy'], seat_group_key: 'user_id' },
            proration: { is_prorated: true },
            subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
          },
        ],
        recurring_credits: [
          {
            product_id: catalog.poolProduct,
            name: 'Seat AI credits',
            access_amount: { credit_type_id: catalog.aiCredits, unit_price: 50 },
            commit_duration: { value: 1, unit: 'PERIODS' },
            priority: 1,
            starting_at: '2024-04-01T00:00:00Z',
            subscription_config: { subscription_id: 'seats', allocation: 'INDIVIDUAL', apply_seat_increase_config: { is_prorated: true } },
          },
        ],
      })
    ).data.id;
    const retrieved = await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract });
    team = { customer, contract, subscription: retrieved.data.subscriptions![0]!.id! };
  });
  afterAll(() => server.stop());

  it('grants each assigned seat its own 50 credits', async () => {
    const credits = await seatBalances();
    expect(credits.map((b) => [b.seat_id, b.balance])).toEqual(
      expect.arrayContaining([
        ['ada', 50],
        ['bob', 50],
        ['cy', 50],
      ]),
    );
    expect(credits).toHaveLength(3);
    expect(credits[0]).toMatchObject({ type: 'CREDIT', name: 'Seat AI credits', subscription_config: { allocation: 'INDIVIDUAL', subscription_id: team.subscription } });
    const retrieved = await client.v2.contracts.retrieve({ customer_id: team.customer, contract_id: team.contract });
    expect(retrieved.data.recurring_credits![0]!.subscription_config).toMatchObject({ allocation: 'INDIVIDUAL' });
  });

  it('refuses INDIVIDUAL on a QUANTITY_ONLY subscription and a quantity beside it, naming the fields', async () => {
    await expect400(
      client.v1.contracts.create({
        customer_id: team.customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: catalog.rateCard,
        subscriptions: [
          {
            temporary_id: 'q',
            collection_schedule: 'ADVANCE',
            initial_quantity: 3,
            proration: { is_prorated: true },
            subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
          },
        ],
        recurring_credits: [
          {
            product_id: catalog.poolProduct,
            access_amount: { credit_type_id: catalog.aiCredits, unit_price: 50, quantity: 3 },
            commit_duration: { value: 1 },
            priority: 1,
            starting_at: '2024-04-01T00:00:00Z',
            subscription_config: { subscription_id: 'q', allocation: 'INDIVIDUAL', apply_seat_increase_config: { is_prorated: true } },
          },
        ],
      }),
      'recurring_credits.0.access_amount.quantity',
    );
  });

  it("draws only the seat's own credit for usage naming it: ada 30 + 40 → ada 0, 20 over; bob and cy untouched", async () => {
    await use('ada-1', 'ada', 30, '2024-04-01T00:00:00Z');
    expect(await bySeat('2024-04-01T00:00:00.000Z')).toEqual({ ada: 20, bob: 50, cy: 50 });
    await use('ada-2', 'ada', 40, '2024-04-01T00:00:00Z');
    expect(await bySeat('2024-04-01T00:00:00.000Z')).toEqual({ ada: 0, bob: 50, cy: 50 });
    expect((await client.v1.contracts.getNetBalance({ customer_id: team.customer, credit_type_id: catalog.aiCredits })).data.balance).toBe(100);
  });

  it('grants a seat added on April 16 50 × 15/30 = 25, starting then', async () => {
    await seatUpdates({ add_seat_ids: [{ seat_ids: ['dan'], starting_at: '2024-04-16T00:00:00Z' }], remove_seat_ids: [{ seat_ids: ['bob'], starting_at: '2024-04-20T00:00:00Z' }] });
    expect(Object.keys(await bySeat('2024-04-01T00:00:00.000Z')).sort()).toEqual(['ada', 'bob', 'cy']);
    await server.advanceClock('2024-04-16T00:00:00Z');
    expect(await bySeat('2024-04-01T00:00:00.000Z')).toEqual({ ada: 0, bob: 50, cy: 50, dan: 25 });
    const dan = (await seatBalances()).find((b) => b.seat_id === 'dan')!;
    expect((dan.ledger ?? []).map((e) => [e.type, e.amount, e.timestamp])).toEqual([['CREDIT_SEGMENT_START', 25, '2024-04-16T00:00:00.000Z']]);
  });

  it('lets a removed seat keep its credit to the period end; an unassigned seat id draws no seat credit', async () => {
    await server.advanceClock('2024-04-21T00:00:00Z');
    await use('bob-1', 'bob', 10, '2024-04-21T00:00:00Z');
    await use('zed-1', 'zed', 5, '2024-04-21T00:00:00Z');
    expect(await bySeat('2024-04-01T00:00:00.000Z')).toEqual({ ada: 0, bob: 40, cy: 50, dan: 25 });
    // ada's 20 and zed's 5 are over: the draft's chat line in AI credits carries 85 units, 25 of them uncovered.
    const [draft] = (await client.v1.customers.invoices.list({ customer_id: team.customer, status: 'DRAFT' })).data;
    const chatCredits = draft!.line_items.filter((line) => line.credit_type.id === catalog.aiCredits && line.type === 'usage');
    expect(chatCredits.reduce((sum, line) => sum + (line.quantity ?? 0), 0)).toBe(85);
    // What no seat credit covered (ada's 20, zed's 5) is overage, converted at 100 cents a credit.
    expect(draft!.line_items.filter((line) => line.type === 'cpu_conversion').map((line) => line.total)).toEqual([2500]);
  });

  it('lists seat balances per seat and pricing unit, with starting balances, credits and ledgers (listSeatBalances)', async () => {
    const list = (body: Record<string, unknown> = {}) => client.v1.contracts.listSeatBalances({ customer_id: team.customer, contract_id: team.contract, ...body });
    const all = await list();
    expect(all.data.map((seat) => [seat.seat_id, seat.balances])).toEqual([
      ['ada', [{ credit_type_id: catalog.aiCredits, balance: 0, starting_balance: 50 }]],
      ['bob', [{ credit_type_id: catalog.aiCredits, balance: 40, starting_balance: 50 }]],
      ['cy', [{ credit_type_id: catalog.aiCredits, balance: 50, starting_balance: 50 }]],
      ['dan', [{ credit_type_id: catalog.aiCredits, balance: 25, starting_balance: 25 }]],
    ]);
    expect(all.data[0]!.credits).toBeUndefined();
    expect(all.pagination).toEqual({ seats_included: 4, seats_available_for_next_page: 0, next_page: null });
    const bob = await list({ seat_ids: ['bob'], include_credits_and_commits: true, include_ledgers: true });
    expect(bob.data[0]!.credits).toEqual([
      {
        id: expect.any(String),
        balance: 40,
        start_date: '2024-04-01T00:00:00.000Z',
        end_date: '2024-05-01T00:00:00.000Z',
        ledger_entries: [
          { type: 'CREDIT_SEGMENT_START', amount: 50, timestamp: '2024-04-01T00:00:00.000Z' },
          { type: 'CREDIT_AUTOMATED_INVOICE_DEDUCTION', amount: -10, timestamp: '2024-05-01T00:00:00.000Z' },
        ],
      },
    ]);
    const page = await list({ limit: 3 });
    expect(page.data.map((seat) => seat.seat_id)).toEqual(['ada', 'bob', 'cy']);
    expect(page.pagination).toMatchObject({ seats_included: 3, seats_available_for_next_page: 1 });
    expect((await list({ limit: 3, cursor: page.pagination.next_page! })).data.map((seat) => seat.seat_id)).toEqual(['dan']);
    await expect400(list({ seat_ids: ['bob', 'nobody'] }), 'seat_ids.1');
    expect((await list({ seat_ids: ['bob', 'nobody'], skip_missing_seat_ids: true })).data.map((seat) => seat.seat_id)).toEqual(['bob']);
    await expect400(list({ subscription_ids: [team.contract] }), 'subscription_ids.0');
    // A contract the customer does not have is a 404, another customer's as much as an unknown one.
    const other = (await client.v1.customers.create({ name: 'Another team' })).data.id;
    expect((await rejection(client.v1.contracts.listSeatBalances({ customer_id: other, contract_id: team.contract }))).status).toBe(404);
    expect((await rejection(list({ contract_id: '00000000-0000-7000-8000-000000000000' }))).status).toBe(404);
    // May's credits are not granted yet: nothing covers May 15.
    expect((await list({ covering_date: '2024-05-15T00:00:00Z' })).data.map((seat) => seat.balances)).toEqual([[], [], [], []]);
  });

  it("takes a manual entry on one seat's credit, on its own segment; per_group_amounts is refused", async () => {
    const cy = (await seatBalances()).find((b) => b.seat_id === 'cy')!;
    const entry = { id: cy.id, customer_id: team.customer, contract_id: team.contract, segment_id: cy.access_schedule!.schedule_items[0]!.id, reason: 'Goodwill' };
    await expect400(client.v1.contracts.addManualBalanceEntry({ ...entry, amount: 5, per_group_amounts: { cy: 5 } }), 'per_group_amounts');
    await client.v1.contracts.addManualBalanceEntry({ ...entry, amount: 5 });
    expect(await bySeat('2024-04-01T00:00:00.000Z')).toEqual({ ada: 0, bob: 40, cy: 55, dan: 25 });
  });

  it('grants every seat assigned on May 1 a fresh 50; April’s remainders expire and bob gets nothing', async () => {
    await server.advanceClock('2024-05-01T00:00:00Z');
    expect(await bySeat('2024-05-01T00:00:00.000Z')).toEqual({ ada: 50, cy: 50, dan: 50 });
    const bob = (await seatBalances()).find((b) => b.seat_id === 'bob')!;
    expect((bob.ledger ?? []).map((e) => [e.type, e.amount])).toEqual([
      ['CREDIT_SEGMENT_START', 50],
      ['CREDIT_AUTOMATED_INVOICE_DEDUCTION', -10],
      ['CREDIT_EXPIRATION', -40],
    ]);
  });

  it("closes April: the invoice bills the overage, and the reconciliation report covers every seat's segment", async () => {
    const [april] = (await client.v1.customers.invoices.list({ customer_id: team.customer, status: 'FINALIZED' })).data;
    expect(april!.line_items.filter((line) => line.type === 'cpu_conversion').map((line) => line.total)).toEqual([2500]);
    expect(april!.total).toBe(2500);
    const report = async (kind: 'ledger' | 'invoices') =>
      (await (
        await fetch(`${server.baseURL}/v1/allot/reports/${kind}?starting_on=2024-04-01T00:00:00Z&ending_before=2024-05-01T00:00:00Z&customer_id=${team.customer}`, {
          headers: { authorization: `Bearer ${server.key}` },
        })
      ).json()) as { data: Array<Record<string, string | boolean | null>>; checks: { rows: number; failing: number } };
    const ledger = await report('ledger');
    // ada, bob, cy and dan: one segment each, each adding up.
    expect(ledger.checks).toEqual({ rows: 4, failing: 0 });
    expect(ledger.data.map((row) => [row.seat_id, row.grants, row.manual, row.deductions, row.expirations, row.closing_balance]).sort()).toEqual([
      ['ada', '50', '0', '-50', '0', '0'],
      ['bob', '50', '0', '-10', '-40', '0'],
      ['cy', '50', '5', '0', '-55', '0'],
      ['dan', '25', '0', '0', '-25', '0'],
    ]);
    const invoices = await report('invoices');
    expect(invoices.checks).toEqual({ rows: 1, failing: 0 });
    expect(invoices.data[0]).toMatchObject({ ledger_deductions: '-60', ledger_agrees: true });
  });
});
