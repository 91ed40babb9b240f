import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { createSeatContract, seatCatalog, type SeatContractOptions } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Pooled seat credits, whole stories on a fixed clock (docs/rules.md rules 2–7 and 11): 100 seats × 50
 * AI credits pooled, seats added and removed, periods rolling over. The clock starts on
 * 2024-04-01 and only moves forward, so every story is set up first and checked as the clock
 * reaches each instant.
 */

type Balance = Awaited<ReturnType<Metronome['v1']['contracts']['listBalances']>>['data'][number];


describe.each(ENGINES)('pooled seat credits on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let aiCredits: string;
  let seatsProduct: string;
  let poolProduct: string;
  let rateCard: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-01T00:00:00Z' });
    client = server.client();
    // A $0 seat: Allot tracks seats to drive the pooled credit; another system may bill them.
    ({ aiCredits, seatsProduct, poolProduct, rateCard } = await seatCatalog(server, { seatPrice: 0, aiCreditsInCents: 100 }));
  });
  afterAll(() => server.stop());

  const seatContract = (options: Omit<SeatContractOptions, 'catalog'>) =>
    createSeatContract(client, { catalog: { aiCredits, seatsProduct, poolProduct, rateCard }, ...options });

  async function balancesOf(customer: string): Promise<Balance[]> {
    return (await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true, include_ledgers: true })).data;
  }

  async function pool(customer: string): Promise<number> {
    return (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits })).data.balance;
  }

  function ledger(balance: Balance) {
    return (balance.ledger ?? []).map((entry) => [entry.type, entry.amount, entry.timestamp]);
  }

  const quantityUpdate = (c: { customer: string; contract: string; subscription: string }, updates: { starting_at: string; quantity?: number; quantity_delta?: number }[]) =>
    client.v2.contracts.edit({ customer_id: c.customer, contract_id: c.contract, update_subscriptions: [{ subscription_id: c.subscription, quantity_updates: updates }] });

  let prorated: Awaited<ReturnType<typeof seatContract>>;
  let unprorated: Awaited<ReturnType<typeof seatContract>>;
  let shrinking: Awaited<ReturnType<typeof seatContract>>;
  let bouncing: Awaited<ReturnType<typeof seatContract>>;
  let rolling: Awaited<ReturnType<typeof seatContract>>;

  it('grants 100 seats × 50 credits = a pool of 5,000 at period start', async () => {
    prorated = await seatContract({ seats: 100 });
    const [credit] = await balancesOf(prorated.customer);
    expect(credit).toMatchObject({ type: 'CREDIT', balance: 5000, product: { id: poolProduct, name: 'Pooled AI credits' }, contract: { id: prorated.contract } });
    expect(credit!.access_schedule!.schedule_items).toEqual([
      { id: expect.any(String), amount: 5000, starting_at: '2024-04-01T00:00:00.000Z', ending_before: '2024-05-01T00:00:00.000Z' },
    ]);
    expect(ledger(credit!)).toEqual([['CREDIT_SEGMENT_START', 5000, '2024-04-01T00:00:00.000Z']]);
    expect(await pool(prorated.customer)).toBe(5000);
    // USD holds nothing: the pool is in AI credits.
    expect((await client.v1.contracts.getNetBalance({ customer_id: prorated.customer })).data.balance).toBe(0);
  });

  it('schedules seat changes, and rejects bad ones with a 400 naming the field', async () => {
    unprorated = await seatContract({ seats: 100, isProrated: false });
    shrinking = await seatContract({ seats: 110 });
    bouncing = await seatContract({ seats: 100 });
    rolling = await seatContract({ seats: 100, rolloverFraction: 0.5 });
    // +10 seats at exactly half of April (15 of 30 days left).
    await quantityUpdate(prorated, [{ starting_at: '2024-04-16T00:00:00Z', quantity_delta: 10 }]);
    await quantityUpdate(unprorated, [{ starting_at: '2024-04-16T00:00:00Z', quantity: 110 }]);
    await quantityUpdate(shrinking, [{ starting_at: '2024-04-10T00:00:00Z', quantity: 100 }]);
    await quantityUpdate(bouncing, [
      { starting_at: '2024-04-05T00:00:00Z', quantity: 90 },
      { starting_at: '2024-04-20T00:00:00Z', quantity: 100 },
    ]);

    const field = 'update_subscriptions.0.quantity_updates.0';
    await expect400(quantityUpdate(prorated, [{ starting_at: '2024-04-20T00:00:00Z', quantity_delta: 0 }]), `${field}.quantity_delta`);
    await expect400(quantityUpdate(prorated, [{ starting_at: '2024-04-20T00:00:00Z', quantity: -1 }]), `${field}.quantity`);
    await expect400(quantityUpdate(prorated, [{ starting_at: '2024-04-20T00:00:00Z', quantity_delta: -111 }]), `${field}.quantity_delta`);
    // Any instant with a zone is taken (rule 1); one without a zone is not.
    await expect400(quantityUpdate(prorated, [{ starting_at: '2024-04-20T00:30:00', quantity: 5 }]), `${field}.starting_at`);
    await expect400(quantityUpdate(prorated, [{ starting_at: '2024-03-31T00:00:00Z', quantity: 5 }]), `${field}.starting_at`);
    await expect400(quantityUpdate(prorated, [{ starting_at: '2024-04-20T00:00:00Z', quantity: 5, quantity_delta: 1 }]), `${field}.quantity_delta`);
    await expect400(
      client.v2.contracts.edit({
        customer_id: prorated.customer,
        contract_id: prorated.contract,
        update_subscriptions: [{ subscription_id: '0192f6a0-0000-7000-8000-000000000000', quantity_updates: [{ starting_at: '2024-04-20T00:00:00Z', quantity: 5 }] }],
      }),
      'update_subscriptions.0.subscription_id',
    );
    // None of the refused edits changed anything.
    const schedule = (await client.v2.contracts.retrieve({ customer_id: prorated.customer, contract_id: prorated.contract })).data.subscriptions![0]!.quantity_schedule;
    expect(schedule).toEqual([
      { quantity: 100, starting_at: '2024-04-01T00:00:00.000Z', ending_before: '2024-04-16T00:00:00.000Z' },
      { quantity: 110, starting_at: '2024-04-16T00:00:00.000Z' },
    ]);
  });

  it('applies changes at the same instant in the order sent: 12, then −1 → 11', async () => {
    const team = await seatContract({ seats: 5 });
    await quantityUpdate(team, [
      { starting_at: '2024-04-08T00:00:00Z', quantity: 12 },
      { starting_at: '2024-04-08T00:00:00Z', quantity_delta: -1 },
    ]);
    const history = await client.v1.contracts.retrieveSubscriptionQuantityHistory({ customer_id: team.customer, contract_id: team.contract, subscription_id: team.subscription });
    expect(history.data.history).toEqual([
      { starting_at: '2024-04-01T00:00:00.000Z', data: [{ quantity: 5, unit_price: 0, total: 0 }] },
      { starting_at: '2024-04-08T00:00:00.000Z', data: [{ quantity: 11, unit_price: 0, total: 0 }] },
    ]);
    const edits = await client.v2.contracts.getEditHistory({ customer_id: team.customer, contract_id: team.contract });
    expect(edits.data.map((edit) => edit.update_subscriptions)).toEqual([
      [
        {
          id: team.subscription,
          quantity_updates: [
            { starting_at: '2024-04-08T00:00:00.000Z', quantity: 12 },
            { starting_at: '2024-04-08T00:00:00.000Z', quantity_delta: -1 },
          ],
        },
      ],
    ]);
  });

  it('rejects what Allot does not support yet, naming the field', async () => {
    const customer = (await client.v1.customers.create({ name: 'Unsupported' })).data.id;
    const subscription = {
      collection_schedule: 'ADVANCE' as const,
      initial_quantity: 1,
      proration: { is_prorated: true },
      subscription_rate: { product_id: seatsProduct, billing_frequency: 'MONTHLY' as const },
    };
    const create = (extra: Partial<Metronome.V1.ContractCreateParams>) =>
      client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard, ...extra });
    // SEAT_BASED takes its quantity from seat_config, not initial_quantity (test/scenarios/seatBasedSubscriptions.test.ts).
    await expect400(create({ subscriptions: [{ ...subscription, quantity_management_mode: 'SEAT_BASED' }] }), 'subscriptions.0.seat_config');
    await expect400(create({ subscriptions: [{ ...subscription, quantity_management_mode: 'SEAT_BASED' }] }), 'subscriptions.0.initial_quantity');
    await expect400(
      create({ subscriptions: [{ ...subscription, collection_schedule: 'ARREARS', proration: { invoice_behavior: 'BILL_IMMEDIATELY' } }] }),
      'subscriptions.0.proration.invoice_behavior',
    );
    await expect400(create({ starting_at: '2024-04-01T00:00:01Z' }), 'starting_at');
    await expect400(
      create({
        subscriptions: [{ ...subscription, temporary_id: 's' }],
        recurring_credits: [
          {
            product_id: poolProduct,
            access_amount: { credit_type_id: aiCredits, unit_price: 50 },
            commit_duration: { value: 1 },
            priority: 1,
            starting_at: '2024-04-01T00:00:00Z',
            subscription_config: { subscription_id: 's', allocation: 'INDIVIDUAL', apply_seat_increase_config: { is_prorated: true } },
          },
        ],
      }),
      'recurring_credits.0.subscription_config.allocation',
    );
    await expect400(create({ subscriptions: [{ ...subscription, subscription_rate: { product_id: poolProduct, billing_frequency: 'MONTHLY' } }] }), 'subscriptions.0.subscription_rate.product_id');
    await expect400(create({ subscriptions: [{ ...subscription, subscription_rate: { product_id: seatsProduct, billing_frequency: 'ANNUAL' } }] }), 'subscriptions.0.subscription_rate.billing_frequency');
    expect((await client.v1.contracts.list({ customer_id: customer })).data).toEqual([]);
  });

  it('adds +250 for 10 seats at half the period when prorated, +500 when not', async () => {
    await server.advanceClock('2024-04-16T00:00:00Z');
    const [credit] = await balancesOf(prorated.customer);
    expect(ledger(credit!)).toEqual([
      ['CREDIT_SEGMENT_START', 5000, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_SEAT_BASED_ADJUSTMENT', 250, '2024-04-16T00:00:00.000Z'],
    ]);
    expect(credit!.balance).toBe(5250);
    expect(await pool(unprorated.customer)).toBe(5500);
  });

  it('claws nothing back on a decrease, and grants nothing new for 100 → 90 → 100', async () => {
    await server.advanceClock('2024-04-25T00:00:00Z');
    expect(await pool(shrinking.customer)).toBe(5500);
    const [credit] = await balancesOf(bouncing.customer);
    expect(ledger(credit!)).toEqual([['CREDIT_SEGMENT_START', 5000, '2024-04-01T00:00:00.000Z']]);
  });

  it('treats a change backdated to the start of a period already under way as a seat change in it', async () => {
    // Created on April 25, starting April 1: the initial quantity is the period's start.
    const late = await seatContract({ seats: 110 });
    expect(await pool(late.customer)).toBe(5500);
    await quantityUpdate(late, [{ starting_at: '2024-04-01T00:00:00Z', quantity: 100 }]);
    expect(await pool(late.customer)).toBe(5500);
    await quantityUpdate(late, [{ starting_at: '2024-04-01T00:00:00Z', quantity: 120 }]);
    const [credit] = await balancesOf(late.customer);
    expect(ledger(credit!)).toEqual([
      ['CREDIT_SEGMENT_START', 5500, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_SEAT_BASED_ADJUSTMENT', 500, '2024-04-01T00:00:00.000Z'],
    ]);
    const field = 'update_subscriptions.0.quantity_updates.0.quantity_delta';
    await expect400(quantityUpdate(late, [{ starting_at: '2024-04-26T00:00:00Z', quantity_delta: 3_000_000_000 }]), field);
    await expect400(
      quantityUpdate(late, [
        { starting_at: '2024-04-26T00:00:00Z', quantity_delta: 600_000_000 },
        { starting_at: '2024-04-27T00:00:00Z', quantity_delta: 600_000_000 },
      ]),
      'update_subscriptions.0.quantity_updates.1.quantity_delta',
    );
  });

  it('takes manual entries into the ledger and the pool', async () => {
    const [credit] = await balancesOf(rolling.customer);
    await client.v1.contracts.addManualBalanceEntry({
      id: credit!.id,
      customer_id: rolling.customer,
      contract_id: rolling.contract,
      segment_id: credit!.access_schedule!.schedule_items[0]!.id,
      amount: -1000,
      reason: 'Usage before the migration',
      timestamp: '2024-04-20T00:00:00Z',
    });
    expect(await pool(rolling.customer)).toBe(4000);
    await expect400(
      client.v1.contracts.addManualBalanceEntry({ id: credit!.id, customer_id: rolling.customer, segment_id: credit!.access_schedule!.schedule_items[0]!.id, amount: 5, reason: 'x', timestamp: '2024-05-02T00:00:00Z' }),
      'timestamp',
    );
    await expect400(
      client.v1.contracts.addManualBalanceEntry({ id: credit!.id, customer_id: rolling.customer, segment_id: rolling.contract, amount: 5, reason: 'x' }),
      'segment_id',
    );
  });

  it('expires the old segment and starts the next one at the period boundary, rolling over when asked', async () => {
    await server.advanceClock('2024-05-01T00:00:00Z');
    const [april, may] = await balancesOf(prorated.customer);
    expect(ledger(april!)).toEqual([
      ['CREDIT_SEGMENT_START', 5000, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_SEAT_BASED_ADJUSTMENT', 250, '2024-04-16T00:00:00.000Z'],
      ['CREDIT_EXPIRATION', -5250, '2024-05-01T00:00:00.000Z'],
    ]);
    expect(april!.balance).toBe(0);
    expect(may).toMatchObject({ balance: 5500, recurring_credit_id: (april as Metronome.Credit).recurring_credit_id });
    expect(await pool(prorated.customer)).toBe(5500);
    // 110 → 100 in April: May's grant follows the new quantity.
    expect(await pool(shrinking.customer)).toBe(5000);
    expect(await pool(unprorated.customer)).toBe(5500);

    // April's remainder was 4,000 after the manual entry: half rolls over, half expires.
    const rolled = await balancesOf(rolling.customer);
    const aprilRolling = rolled.find((b) => b.access_schedule!.schedule_items[0]!.starting_at === '2024-04-01T00:00:00.000Z' && !b.rolled_over_from)!;
    expect(ledger(aprilRolling)).toEqual([
      ['CREDIT_SEGMENT_START', 5000, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_MANUAL', -1000, '2024-04-20T00:00:00.000Z'],
      ['CREDIT_ROLLOVER', -2000, '2024-05-01T00:00:00.000Z'],
      ['CREDIT_EXPIRATION', -2000, '2024-05-01T00:00:00.000Z'],
    ]);
    const carried = rolled.find((b) => b.rolled_over_from)!;
    expect(carried).toMatchObject({ balance: 2000, rolled_over_from: { contract_id: rolling.contract, credit_id: aprilRolling.id } });
    expect(await pool(rolling.customer)).toBe(7000);
    // An ended segment takes no more manual entries: its remainder has already expired or rolled over.
    await expect400(
      client.v1.contracts.addManualBalanceEntry({
        id: aprilRolling.id,
        customer_id: rolling.customer,
        segment_id: aprilRolling.access_schedule!.schedule_items[0]!.id,
        amount: -5000,
        reason: 'late',
        timestamp: '2024-04-10T00:00:00Z',
      }),
      'segment_id',
    );
    // Zero balances can be left out.
    const live = (await client.v1.contracts.listBalances({ customer_id: rolling.customer, include_balance: true, exclude_zero_balances: true })).data;
    expect(live.map((b) => b.balance).sort()).toEqual([2000, 5000]);
  });

  it('clamps the anchor day (Jan 31 → Feb 28 → Mar 31) and gives FIRST_OF_MONTH a short first period', async () => {
    const clamped = await seatContract({ seats: 1, startingAt: '2023-01-31T00:00:00Z', day: 'CONTRACT_START' });
    const windows = (await balancesOf(clamped.customer)).map((b) => b.access_schedule!.schedule_items[0]!.starting_at).sort();
    expect(windows.slice(0, 4)).toEqual(['2023-01-31T00:00:00.000Z', '2023-02-28T00:00:00.000Z', '2023-03-31T00:00:00.000Z', '2023-04-30T00:00:00.000Z']);

    const midMonth = await seatContract({ seats: 100, startingAt: '2024-05-15T00:00:00Z' });
    const contract = (await client.v2.contracts.retrieve({ customer_id: midMonth.customer, contract_id: midMonth.contract })).data;
    expect(contract.subscriptions![0]!.billing_periods).toEqual({ next: { starting_at: '2024-05-15T00:00:00.000Z', ending_before: '2024-06-01T00:00:00.000Z' } });
    await server.advanceClock('2024-05-15T00:00:00Z');
    const [credit] = await balancesOf(midMonth.customer);
    // 17 of May's 31 days: 5,000 × 17/31.
    expect(credit!.balance).toBeCloseTo((5000 * 17) / 31, 9);
    expect(credit!.access_schedule!.schedule_items[0]).toMatchObject({ starting_at: '2024-05-15T00:00:00.000Z', ending_before: '2024-06-01T00:00:00.000Z' });
  });

  it('prorates 15/28 of February 2011 and 14/29 of February 2012 (rule 3)', async () => {
    const customer = (await client.v1.customers.create({ name: 'Historic' })).data.id;
    const recurring = (startingAt: string, unitPrice: number, endingBefore?: string) => ({
      product_id: poolProduct,
      access_amount: { credit_type_id: aiCredits, unit_price: unitPrice, quantity: 1 },
      commit_duration: { value: 1 },
      priority: 1,
      starting_at: startingAt,
      ...(endingBefore && { ending_before: endingBefore }),
    });
    await client.v1.contracts.create({ customer_id: customer, starting_at: '2011-02-14T00:00:00Z', ending_before: '2011-03-01T00:00:00Z', recurring_credits: [recurring('2011-02-14T00:00:00Z', 2800)] });
    await client.v1.contracts.create({ customer_id: customer, starting_at: '2012-02-01T00:00:00Z', ending_before: '2012-02-15T00:00:00Z', recurring_credits: [recurring('2012-02-01T00:00:00Z', 2900)] });
    const starts = (await balancesOf(customer)).map((b) => ledger(b)[0]);
    expect(starts).toEqual([
      ['CREDIT_SEGMENT_START', 1500, '2011-02-14T00:00:00.000Z'],
      ['CREDIT_SEGMENT_START', 1400, '2012-02-01T00:00:00.000Z'],
    ]);
  });
});
