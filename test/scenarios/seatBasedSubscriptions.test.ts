import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * SEAT_BASED subscriptions (docs/rules.md rule 28), through the SDK on a fixed clock: seats ada,
 * bob and cy plus 1 unassigned seat (a quantity of 4) at 1,000 cents a seat, with 50 AI credits a
 * seat pooled: 200 credits in April. On April 16 (15 of April's 30 days left) dan fills the
 * unassigned seat (the quantity stays 4) and eve adds a fifth (+50 × 15/30 = 25 credits); on
 * April 20 bob leaves (4 seats; nothing is taken back) and removing "ghost", never assigned,
 * changes nothing. May grants 4 × 50 = 200.
 */
describe.each(ENGINES)('SEAT_BASED subscriptions on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let team: { customer: string; contract: string; subscription: string };

  const pool = async () => (await client.v1.contracts.getNetBalance({ customer_id: team.customer, credit_type_id: catalog.aiCredits })).data.balance;
  const seatUpdates = (seat_updates: Record<string, unknown>) =>
    client.v2.contracts.edit({ customer_id: team.customer, contract_id: team.contract, update_subscriptions: [{ subscription_id: team.subscription, seat_updates }] });
  const history = async (body: Record<string, unknown> = {}) =>
    client.v1.contracts.getSubscriptionSeatsHistory({ customer_id: team.customer, contract_id: team.contract, subscription_id: team.subscription, ...body });

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-01T00:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 100 });
    const customer = (await client.v1.customers.create({ name: 'Seat team' })).data.id;
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
            seat_config: { initial_seat_ids: ['ada', 'bob', 'cy'], seat_group_key: 'user_id', initial_unassigned_seats: 1 },
            proration: { is_prorated: true, invoice_behavior: 'BILL_ON_NEXT_COLLECTION_DATE' },
            subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
          },
        ],
        recurring_credits: [
          {
            product_id: catalog.poolProduct,
            name: 'Pooled AI credits',
            access_amount: { credit_type_id: catalog.aiCredits, unit_price: 50 },
            commit_duration: { value: 1, unit: 'PERIODS' },
            priority: 2,
            starting_at: '2024-04-01T00:00:00Z',
            subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: true } },
          },
        ],
      })
    ).data.id;
    const retrieved = await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract });
    team = { customer, contract, subscription: retrieved.data.subscriptions![0]!.id! };
  });
  afterAll(() => server.stop());

  it('creates the subscription with its seats; the quantity is assigned + unassigned seats', async () => {
    const { data } = await client.v2.contracts.retrieve({ customer_id: team.customer, contract_id: team.contract });
    expect(data.subscriptions![0]).toMatchObject({
      quantity_management_mode: 'SEAT_BASED',
      seat_config: { seat_group_key: 'user_id' },
      quantity_schedule: [{ quantity: 4, starting_at: '2024-04-01T00:00:00.000Z' }],
    });
    const v1 = await client.v1.contracts.retrieve({ customer_id: team.customer, contract_id: team.contract });
    expect(v1.data.subscriptions![0]).toMatchObject({ quantity_management_mode: 'SEAT_BASED', seat_config: { seat_group_key: 'user_id' } });
    expect(await pool()).toBe(200);
    expect((await history()).data).toEqual([{ assigned_seat_ids: ['ada', 'bob', 'cy'], starting_at: '2024-04-01T00:00:00.000Z', ending_before: null, total_quantity: 4 }]);
  });

  it('refuses bad seat configurations and updates with a 400 naming each field', async () => {
    const base = {
      customer_id: team.customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: catalog.rateCard,
    };
    const subscription = {
      collection_schedule: 'ADVANCE' as const,
      proration: { is_prorated: true },
      subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' as const },
    };
    await expect400(client.v1.contracts.create({ ...base, subscriptions: [{ ...subscription, quantity_management_mode: 'SEAT_BASED' }] }), 'subscriptions.0.seat_config');
    await expect400(
      client.v1.contracts.create({ ...base, subscriptions: [{ ...subscription, quantity_management_mode: 'SEAT_BASED', initial_quantity: 3, seat_config: { initial_seat_ids: ['a'], seat_group_key: 'user_id' } }] }),
      'subscriptions.0.initial_quantity',
    );
    await expect400(
      client.v1.contracts.create({ ...base, subscriptions: [{ ...subscription, quantity_management_mode: 'SEAT_BASED', seat_config: { initial_seat_ids: ['a', 'a'], seat_group_key: 'user_id' } }] }),
      'subscriptions.0.seat_config.initial_seat_ids.1',
    );
    // ada is assigned: adding her again is a 400 naming the very id.
    await expect400(seatUpdates({ add_seat_ids: [{ seat_ids: ['zoe', 'ada'], starting_at: '2024-04-10T00:00:00Z' }] }), 'update_subscriptions.0.seat_updates.add_seat_ids.0.seat_ids.1');
    await expect400(
      client.v2.contracts.edit({
        customer_id: team.customer,
        contract_id: team.contract,
        update_subscriptions: [{ subscription_id: team.subscription, quantity_updates: [{ starting_at: '2024-04-10T00:00:00Z', quantity: 9 }] }],
      }),
      'update_subscriptions.0.quantity_updates',
    );
    await expect400(seatUpdates({ add_unassigned_seats: [{ quantity: 0, starting_at: '2024-04-10T00:00:00Z' }] }), 'update_subscriptions.0.seat_updates.add_unassigned_seats.0.quantity');
    await expect400(seatUpdates({ remove_seat_ids: [{ seat_ids: ['ada'], starting_at: '2024-03-31T00:00:00Z' }] }), 'update_subscriptions.0.seat_updates.remove_seat_ids.0.starting_at');
    // Nothing refused was written.
    expect((await history()).data).toHaveLength(1);
  });

  it('follows seat updates: a new id fills an unassigned seat first, then adds one; removing an absent id is a no-op', async () => {
    await seatUpdates({
      add_seat_ids: [{ seat_ids: ['dan', 'eve'], starting_at: '2024-04-16T00:00:00Z' }],
      remove_seat_ids: [
        { seat_ids: ['bob'], starting_at: '2024-04-20T00:00:00Z' },
        { seat_ids: ['ghost'], starting_at: '2024-04-20T00:00:00Z' },
      ],
    });
    expect((await history()).data).toEqual([
      { assigned_seat_ids: ['ada', 'bob', 'cy'], starting_at: '2024-04-01T00:00:00.000Z', ending_before: '2024-04-16T00:00:00.000Z', total_quantity: 4 },
      { assigned_seat_ids: ['ada', 'bob', 'cy', 'dan', 'eve'], starting_at: '2024-04-16T00:00:00.000Z', ending_before: '2024-04-20T00:00:00.000Z', total_quantity: 5 },
      { assigned_seat_ids: ['ada', 'cy', 'dan', 'eve'], starting_at: '2024-04-20T00:00:00.000Z', ending_before: null, total_quantity: 4 },
    ]);
    expect((await history({ covering_date: '2024-04-17T00:00:00Z' })).data.map((entry) => entry.total_quantity)).toEqual([5]);
    const page = await history({ limit: 2 });
    expect(page.data).toHaveLength(2);
    expect((await history({ limit: 2, cursor: page.next_page })).data.map((entry) => entry.starting_at)).toEqual(['2024-04-20T00:00:00.000Z']);
    const quantities = await client.v1.contracts.retrieveSubscriptionQuantityHistory({ customer_id: team.customer, contract_id: team.contract, subscription_id: team.subscription });
    expect(quantities.data.history!.map((step) => [step.starting_at, step.data[0]!.quantity])).toEqual([
      ['2024-04-01T00:00:00.000Z', 4],
      ['2024-04-16T00:00:00.000Z', 5],
      ['2024-04-20T00:00:00.000Z', 4],
    ]);
    // eve, assigned from April 16, cannot be added again from April 25.
    await expect400(seatUpdates({ add_seat_ids: [{ seat_ids: ['eve'], starting_at: '2024-04-25T00:00:00Z' }] }), 'update_subscriptions.0.seat_updates.add_seat_ids.0.seat_ids.0');
  });

  it('moves the pool and the seat charges with the quantity', async () => {
    await server.advanceClock('2024-04-16T00:00:00Z');
    // One seat above the high-water mark of 4, with 15 of 30 days left: +50 × 15/30.
    expect(await pool()).toBe(225);
    await server.advanceClock('2024-04-25T00:00:00Z');
    expect(await pool()).toBe(225);
    const [draft] = (await client.v1.customers.invoices.list({ customer_id: team.customer, status: 'DRAFT' })).data;
    // 4 seats at 1,000 cents, then one more for half of April.
    expect(draft!.line_items.filter((line) => line.product_id === catalog.seatsProduct).reduce((sum, line) => sum + line.total, 0)).toBe(4500);
    await server.advanceClock('2024-05-01T00:00:00Z');
    expect(await pool()).toBe(200);
  });

  it('adds a SEAT_BASED subscription in an edit (v2 add_subscriptions) and shows the seat updates in the edit history', async () => {
    await client.v2.contracts.edit({
      customer_id: team.customer,
      contract_id: team.contract,
      add_subscriptions: [
        {
          collection_schedule: 'ARREARS',
          quantity_management_mode: 'SEAT_BASED',
          seat_config: { initial_seat_ids: ['ops-1'], seat_group_key: 'user_id' },
          proration: { is_prorated: true },
          subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
          starting_at: '2024-05-01T00:00:00Z',
        },
      ],
    });
    const { data } = await client.v2.contracts.retrieve({ customer_id: team.customer, contract_id: team.contract });
    expect(data.subscriptions!.map((s) => [s.quantity_management_mode, s.quantity_schedule[0]!.quantity])).toEqual(
      expect.arrayContaining([
        ['SEAT_BASED', 4],
        ['SEAT_BASED', 1],
      ]),
    );
    const edits = (await client.v2.contracts.getEditHistory({ customer_id: team.customer, contract_id: team.contract })).data;
    expect(edits[0]!.update_subscriptions![0]).toMatchObject({
      id: team.subscription,
      seat_updates: { add_seat_ids: [{ seat_ids: ['dan', 'eve'], starting_at: '2024-04-16T00:00:00.000Z' }] },
    });
    // A second seat group key on one contract would let one event draw two seats' credits.
    await expect400(
      client.v2.contracts.edit({
        customer_id: team.customer,
        contract_id: team.contract,
        add_subscriptions: [
          {
            collection_schedule: 'ARREARS',
            quantity_management_mode: 'SEAT_BASED',
            seat_config: { initial_seat_ids: [], seat_group_key: 'email' },
            proration: { is_prorated: true },
            subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
            starting_at: '2024-05-01T00:00:00Z',
          },
        ],
      }),
      'add_subscriptions.0.seat_config.seat_group_key',
    );
  });
});
