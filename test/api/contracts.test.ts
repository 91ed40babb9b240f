import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { expect400, rejection } from '../helpers/expectations.js';
import { seatCatalog } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Contracts through the SDK: the v1 and v2 read shapes, listing and archiving, uniqueness keys,
 * v2 edits and their history, what additions may not do, and recurring credits and commits that
 * are not linked to a subscription. The clock starts on 2024-04-10 (the open statement period is
 * April) and only moves forward, in the last test.
 */

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const UNKNOWN = '0192f6a0-0000-7000-8000-000000000000';

type Balance = Awaited<ReturnType<Metronome['v1']['contracts']['listBalances']>>['data'][number];

describe.each(ENGINES)('contracts through the SDK on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let aiCredits: string;
  let seatsProduct: string;
  let poolProduct: string;
  let rateCard: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    ({ aiCredits, seatsProduct, poolProduct, rateCard } = await seatCatalog(server, { seatPrice: 1000 }));
  });
  afterAll(() => server.stop());

  const newCustomer = async (name: string) => (await client.v1.customers.create({ name })).data.id;

  const seats = (extra: Partial<Metronome.V1.ContractCreateParams.Subscription> = {}): Metronome.V1.ContractCreateParams.Subscription => ({
    collection_schedule: 'ADVANCE',
    initial_quantity: 10,
    proration: { is_prorated: true },
    subscription_rate: { product_id: seatsProduct, billing_frequency: 'MONTHLY' },
    ...extra,
  });

  const oneOffCredit = (amount: number, startingAt: string, endingBefore: string, creditTypeId = USD) => ({
    product_id: poolProduct,
    access_schedule: { credit_type_id: creditTypeId, schedule_items: [{ amount, starting_at: startingAt, ending_before: endingBefore }] },
  });

  function ledger(balance: { ledger?: Array<{ type: string; amount: number; timestamp: string }> | undefined }) {
    return (balance.ledger ?? []).map((entry) => [entry.type, entry.amount, entry.timestamp]);
  }

  async function net(customer: string, creditTypeId?: string): Promise<number> {
    return (await client.v1.contracts.getNetBalance({ customer_id: customer, ...(creditTypeId && { credit_type_id: creditTypeId }) })).data.balance;
  }

  async function balancesOf(customer: string): Promise<Balance[]> {
    return (await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true, include_ledgers: true })).data;
  }

  it('creates through v1 and reads the v1 shape back: current and initial, no amendments', async () => {
    const customer = await newCustomer('V1 shape');
    const id = (
      await client.v1.contracts.create({
        customer_id: customer,
        name: 'Annual plan',
        starting_at: '2024-03-01T00:00:00Z',
        ending_before: '2025-03-01T00:00:00Z',
        rate_card_id: rateCard,
        net_payment_terms_days: 30,
        custom_fields: { region: 'eu' },
        uniqueness_key: `v1-shape-${engine}`,
        subscriptions: [seats()],
        credits: [{ ...oneOffCredit(500, '2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z'), name: 'Welcome credit' }],
      })
    ).data.id;
    const contract = (await client.v1.contracts.retrieve({ customer_id: customer, contract_id: id })).data;
    expect(contract).toMatchObject({ id, customer_id: customer, amendments: [], custom_fields: { region: 'eu' }, uniqueness_key: `v1-shape-${engine}` });
    expect(contract.archived_at).toBeUndefined();
    expect(contract.current).toMatchObject({
      name: 'Annual plan',
      starting_at: '2024-03-01T00:00:00.000Z',
      ending_before: '2025-03-01T00:00:00.000Z',
      rate_card_id: rateCard,
      net_payment_terms_days: 30,
      usage_statement_schedule: { frequency: 'MONTHLY', billing_anchor_date: '2024-03-01T00:00:00.000Z' },
      commits: [],
    });
    expect(contract.current.credits).toHaveLength(1);
    expect(contract.current.credits![0]).toMatchObject({ type: 'CREDIT', name: 'Welcome credit', product: { id: poolProduct, name: 'Pooled AI credits' } });
    expect(contract.initial).toEqual(contract.current);
    // The v1 contract carries subscriptions at the top, not inside current.
    expect(contract.subscriptions).toHaveLength(1);
    expect(contract.subscriptions![0]!.subscription_rate.product.id).toBe(seatsProduct);
    expect('subscriptions' in contract.current).toBe(false);
    expect('customer_id' in contract.current).toBe(false);

    const listed = (await client.v1.contracts.list({ customer_id: customer })).data;
    expect(listed.map((c) => c.id)).toEqual([id]);
    expect(listed[0]!.amendments).toEqual([]);
    expect(listed[0]!.current.name).toBe('Annual plan');
  });

  it('lists contracts covering a date, hides archived ones unless include_archived, and refuses to edit an archived contract (409)', async () => {
    const customer = await newCustomer('Lists');
    const old = (await client.v1.contracts.create({ customer_id: customer, name: 'Old', starting_at: '2024-01-01T00:00:00Z', ending_before: '2024-03-01T00:00:00Z' })).data.id;
    const current = (await client.v1.contracts.create({ customer_id: customer, name: 'Current', starting_at: '2024-03-01T00:00:00Z' })).data.id;
    const ids = (list: { data: Array<{ id: string }> }) => list.data.map((c) => c.id);

    expect(ids(await client.v1.contracts.list({ customer_id: customer }))).toEqual([old, current]);
    expect(ids(await client.v1.contracts.list({ customer_id: customer, covering_date: '2024-02-15T00:00:00Z' }))).toEqual([old]);
    // Half-open: the old contract ends where the current one starts.
    expect(ids(await client.v1.contracts.list({ customer_id: customer, covering_date: '2024-03-01T00:00:00Z' }))).toEqual([current]);
    expect(ids(await client.v2.contracts.list({ customer_id: customer, covering_date: '2023-12-31T00:00:00Z' }))).toEqual([]);

    await expect(client.v1.contracts.archive({ customer_id: customer, contract_id: old, void_invoices: false })).resolves.toEqual({ data: { id: old } });
    expect(ids(await client.v1.contracts.list({ customer_id: customer }))).toEqual([current]);
    expect(ids(await client.v2.contracts.list({ customer_id: customer }))).toEqual([current]);
    const all = await client.v1.contracts.list({ customer_id: customer, include_archived: true });
    expect(ids(all)).toEqual([old, current]);
    expect(all.data[0]!.archived_at).toBe('2024-04-10T00:00:00.000Z');
    expect(all.data[1]!.archived_at).toBeUndefined();
    expect((await client.v2.contracts.list({ customer_id: customer, include_archived: true })).data[0]!.archived_at).toBe('2024-04-10T00:00:00.000Z');
    // Still readable by id, marked archived.
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: old })).data.archived_at).toBe('2024-04-10T00:00:00.000Z');

    const edit = await rejection(client.v2.contracts.edit({ customer_id: customer, contract_id: old, update_contract_name: 'Revived' }));
    expect(edit.status).toBe(409);
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: old })).data.name).toBe('Old');
    // Archiving again changes nothing.
    await client.v1.contracts.archive({ customer_id: customer, contract_id: old, void_invoices: false });
    expect((await client.v1.contracts.list({ customer_id: customer, include_archived: true })).data[0]!.archived_at).toBe('2024-04-10T00:00:00.000Z');
  });

  it("stops an archived contract's credits, one-off and recurring, counting toward balances", async () => {
    const customer = await newCustomer('Archived credits');
    const contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        credits: [oneOffCredit(1000, '2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z')],
        recurring_credits: [
          {
            product_id: poolProduct,
            access_amount: { credit_type_id: aiCredits, unit_price: 10, quantity: 5 },
            commit_duration: { value: 1 },
            priority: 1,
            starting_at: '2024-04-01T00:00:00Z',
          },
        ],
      })
    ).data.id;
    expect(await net(customer)).toBe(1000);
    expect(await net(customer, aiCredits)).toBe(50);
    expect(await balancesOf(customer)).toHaveLength(2);

    await client.v1.contracts.archive({ customer_id: customer, contract_id: contract, void_invoices: false });
    expect(await net(customer, aiCredits)).toBe(0);
    expect(await net(customer)).toBe(0);
    expect(await balancesOf(customer)).toEqual([]);
    expect((await client.v1.contracts.listBalances({ customer_id: customer, include_archived: true })).data).toHaveLength(2);
  });

  it('shows usage_statement_schedule with its billing_anchor_date, and requires one for CUSTOM_DATE', async () => {
    const customer = await newCustomer('Statements');
    const create = (schedule?: Metronome.V1.ContractCreateParams['usage_statement_schedule'], extra: Partial<Metronome.V1.ContractCreateParams> = {}) =>
      client.v1.contracts.create({ customer_id: customer, starting_at: '2024-03-10T00:00:00Z', rate_card_id: rateCard, ...(schedule && { usage_statement_schedule: schedule }), ...extra });
    const scheduleOf = async (id: string) => (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: id })).data.usage_statement_schedule;

    const byDefault = (await create()).data.id;
    expect(await scheduleOf(byDefault)).toEqual({ frequency: 'MONTHLY', billing_anchor_date: '2024-03-01T00:00:00.000Z' });
    const contractStart = (await create({ frequency: 'QUARTERLY', day: 'CONTRACT_START' })).data.id;
    expect(await scheduleOf(contractStart)).toEqual({ frequency: 'QUARTERLY', billing_anchor_date: '2024-03-10T00:00:00.000Z' });
    const custom = (await create({ frequency: 'MONTHLY', day: 'CUSTOM_DATE', billing_anchor_date: '2024-03-15T00:00:00Z' }, { subscriptions: [seats()] })).data.id;
    expect(await scheduleOf(custom)).toEqual({ frequency: 'MONTHLY', billing_anchor_date: '2024-03-15T00:00:00.000Z' });
    // The subscription is billed from the statement anchor: a short first period Mar 10 → Mar 15.
    const subscription = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: custom })).data.subscriptions![0]!;
    expect(subscription.billing_periods).toEqual({
      previous: { starting_at: '2024-03-10T00:00:00.000Z', ending_before: '2024-03-15T00:00:00.000Z' },
      current: { starting_at: '2024-03-15T00:00:00.000Z', ending_before: '2024-04-15T00:00:00.000Z' },
      next: { starting_at: '2024-04-15T00:00:00.000Z', ending_before: '2024-05-15T00:00:00.000Z' },
    });
    expect(subscription.billing_cycle_config).toMatchObject({ anchor_date: '2024-03-15T00:00:00.000Z' });

    await expect400(create({ frequency: 'MONTHLY', day: 'CUSTOM_DATE' }), 'usage_statement_schedule.billing_anchor_date');
    await expect400(create({ frequency: 'MONTHLY', day: 'FIRST_OF_MONTH', billing_anchor_date: '2024-03-15T00:00:00Z' }), 'usage_statement_schedule.billing_anchor_date');
    await expect400(create({ frequency: 'MONTHLY', day: 'CUSTOM_DATE', billing_anchor_date: '2024-03-15T00:30:00Z' }), 'usage_statement_schedule.billing_anchor_date');
    expect((await client.v1.contracts.list({ customer_id: customer })).data).toHaveLength(3);
  });

  let seatCustomer: string;
  let seatContract: string;

  it('shows subscriptions, recurring credits and the credits they generate, with balances and ledgers on request', async () => {
    seatCustomer = await newCustomer('Seats');
    seatContract = (
      await client.v1.contracts.create({
        customer_id: seatCustomer,
        starting_at: '2024-03-01T00:00:00Z',
        rate_card_id: rateCard,
        subscriptions: [
          seats({ temporary_id: 'seats', name: 'Team seats', proration: { is_prorated: false, invoice_behavior: 'BILL_IMMEDIATELY' } }),
        ],
        recurring_credits: [
          {
            product_id: poolProduct,
            name: 'Pool',
            access_amount: { credit_type_id: aiCredits, unit_price: 30 },
            commit_duration: { value: 1, unit: 'PERIODS' },
            priority: 1,
            starting_at: '2024-03-01T00:00:00Z',
            subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: true } },
          },
        ],
      })
    ).data.id;
    const before = (await client.v2.contracts.retrieve({ customer_id: seatCustomer, contract_id: seatContract })).data;
    const subscriptionId = before.subscriptions![0]!.id!;
    // 10 → 12 seats on Apr 5 (inside the open period), → 20 from May 1.
    await client.v2.contracts.edit({
      customer_id: seatCustomer,
      contract_id: seatContract,
      update_subscriptions: [
        {
          subscription_id: subscriptionId,
          quantity_updates: [
            { starting_at: '2024-04-05T00:00:00Z', quantity: 12 },
            { starting_at: '2024-05-01T00:00:00Z', quantity: 20 },
          ],
        },
      ],
    });

    const contract = (await client.v2.contracts.retrieve({ customer_id: seatCustomer, contract_id: seatContract })).data;
    const [subscription] = contract.subscriptions!;
    expect(subscription).toMatchObject({
      id: subscriptionId,
      name: 'Team seats',
      collection_schedule: 'ADVANCE',
      proration: { is_prorated: false, invoice_behavior: 'BILL_IMMEDIATELY' },
      quantity_management_mode: 'QUANTITY_ONLY',
      starting_at: '2024-03-01T00:00:00.000Z',
      subscription_rate: { billing_frequency: 'MONTHLY', product: { id: seatsProduct, name: 'Seats' } },
    });
    expect(subscription!.billing_periods).toEqual({
      previous: { starting_at: '2024-03-01T00:00:00.000Z', ending_before: '2024-04-01T00:00:00.000Z' },
      current: { starting_at: '2024-04-01T00:00:00.000Z', ending_before: '2024-05-01T00:00:00.000Z' },
      next: { starting_at: '2024-05-01T00:00:00.000Z', ending_before: '2024-06-01T00:00:00.000Z' },
    });
    // The quantity in force now and the changes to come; March's 10 is history.
    expect(subscription!.quantity_schedule).toEqual([
      { quantity: 12, starting_at: '2024-04-05T00:00:00.000Z', ending_before: '2024-05-01T00:00:00.000Z' },
      { quantity: 20, starting_at: '2024-05-01T00:00:00.000Z' },
    ]);

    expect(contract.recurring_credits).toHaveLength(1);
    const recurring = contract.recurring_credits![0]!;
    expect(recurring).toMatchObject({
      name: 'Pool',
      access_amount: { credit_type_id: aiCredits, unit_price: 30 },
      commit_duration: { value: 1, unit: 'PERIODS' },
      product: { id: poolProduct, name: 'Pooled AI credits' },
      starting_at: '2024-03-01T00:00:00.000Z',
      recurrence_frequency: 'MONTHLY',
      subscription_config: { subscription_id: subscriptionId, allocation: 'POOLED', apply_seat_increase_config: { is_prorated: true } },
    });
    expect(recurring.access_amount).not.toHaveProperty('quantity');

    // One credit per started period: March (10 × 30) and April (10 × 30, +2 seats × 30 × 26/30 on Apr 5).
    const credits = contract.credits!;
    expect(credits.map((c) => c.recurring_credit_id)).toEqual([recurring.id, recurring.id]);
    expect(credits.map((c) => c.access_schedule!.schedule_items.map((item) => [item.amount, item.starting_at, item.ending_before]))).toEqual([
      [[300, '2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']],
      [[352, '2024-04-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z']],
    ]);
    expect(credits.map((c) => c.access_schedule!.credit_type)).toEqual([
      { id: aiCredits, name: 'AI credits' },
      { id: aiCredits, name: 'AI credits' },
    ]);
    for (const credit of credits) {
      expect(credit).not.toHaveProperty('balance');
      expect(credit).not.toHaveProperty('ledger');
    }

    const withBalance = (await client.v2.contracts.retrieve({ customer_id: seatCustomer, contract_id: seatContract, include_balance: true })).data.credits!;
    expect(withBalance.map((c) => c.balance)).toEqual([0, 352]);
    expect(withBalance.every((c) => c.ledger === undefined)).toBe(true);
    const withLedgers = (await client.v2.contracts.retrieve({ customer_id: seatCustomer, contract_id: seatContract, include_ledgers: true })).data.credits!;
    expect(withLedgers.every((c) => c.balance === undefined)).toBe(true);
    expect(withLedgers.map(ledger)).toEqual([
      [
        ['CREDIT_SEGMENT_START', 300, '2024-03-01T00:00:00.000Z'],
        ['CREDIT_EXPIRATION', -300, '2024-04-01T00:00:00.000Z'],
      ],
      [
        ['CREDIT_SEGMENT_START', 300, '2024-04-01T00:00:00.000Z'],
        ['CREDIT_SEAT_BASED_ADJUSTMENT', 52, '2024-04-05T00:00:00.000Z'],
      ],
    ]);

    // v2 list takes the same toggles.
    const listed = (await client.v2.contracts.list({ customer_id: seatCustomer, include_balance: true, include_ledgers: true })).data;
    expect(listed.map((c) => c.id)).toEqual([seatContract]);
    expect(listed[0]!.credits!.map((c) => [c.balance, c.ledger?.length])).toEqual([
      [0, 2],
      [352, 2],
    ]);
    const bare = (await client.v2.contracts.list({ customer_id: seatCustomer })).data;
    expect(bare[0]!.credits!.map((c) => c.balance)).toEqual([undefined, undefined]);
  });

  it('refuses a second contract or a second edit with the same uniqueness_key (409)', async () => {
    const customer = await newCustomer('Unique');
    const key = `contract-key-${engine}`;
    const first = (await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', uniqueness_key: key })).data.id;
    const again = await rejection(client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', uniqueness_key: key }));
    expect(again.status).toBe(409);
    // The key is the tenant's, whatever the customer.
    const otherCustomer = await newCustomer('Unique too');
    expect((await rejection(client.v1.contracts.create({ customer_id: otherCustomer, starting_at: '2024-04-01T00:00:00Z', uniqueness_key: key }))).status).toBe(409);
    expect((await client.v1.contracts.list({ customer_id: customer })).data.map((c) => c.id)).toEqual([first]);
    expect((await client.v1.contracts.list({ customer_id: otherCustomer })).data).toEqual([]);

    const second = (await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z' })).data.id;
    await client.v2.contracts.edit({ customer_id: customer, contract_id: first, update_contract_name: 'First', uniqueness_key: 'edit-1' });
    const repeat = await rejection(client.v2.contracts.edit({ customer_id: customer, contract_id: first, update_contract_name: 'Again', uniqueness_key: 'edit-1' }));
    expect(repeat.status).toBe(409);
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: first })).data.name).toBe('First');
    const history = (await client.v2.contracts.getEditHistory({ customer_id: customer, contract_id: first })).data;
    expect(history.map((edit) => [edit.uniqueness_key, edit.update_contract_name])).toEqual([['edit-1', 'First']]);
    // Edit keys are per contract.
    await client.v2.contracts.edit({ customer_id: customer, contract_id: second, update_contract_name: 'Second', uniqueness_key: 'edit-1' });
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: second })).data.name).toBe('Second');
  });

  it('edits a contract with additions linked by temporary_id, and lists every edit in order in getEditHistory', async () => {
    const customer = await newCustomer('Edits');
    const contract = (await client.v1.contracts.create({ customer_id: customer, name: 'Starter', starting_at: '2024-03-01T00:00:00Z', rate_card_id: rateCard })).data.id;
    const first = await client.v2.contracts.edit({
      customer_id: customer,
      contract_id: contract,
      update_contract_name: 'Team',
      add_subscriptions: [
        {
          temporary_id: 'new-seats',
          collection_schedule: 'ARREARS',
          initial_quantity: 4,
          starting_at: '2024-04-01T00:00:00Z',
          proration: { is_prorated: true },
          subscription_rate: { product_id: seatsProduct, billing_frequency: 'MONTHLY' },
        },
      ],
      add_recurring_credits: [
        {
          product_id: poolProduct,
          access_amount: { credit_type_id: aiCredits, unit_price: 25 },
          commit_duration: { value: 1 },
          priority: 1,
          starting_at: '2024-04-01T00:00:00Z',
          subscription_config: { subscription_id: 'new-seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: false } },
        },
      ],
      add_credits: [{ ...oneOffCredit(500, '2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z'), priority: 2, name: 'Goodwill' }],
      add_commits: [{ ...oneOffCredit(2000, '2024-04-01T00:00:00Z', '2024-07-01T00:00:00Z'), type: 'PREPAID', priority: 3, name: 'Prepaid' }],
    });
    const view = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract, include_balance: true })).data;
    expect(view.name).toBe('Team');
    const subscription = view.subscriptions![0]!;
    expect(subscription).toMatchObject({ collection_schedule: 'ARREARS', starting_at: '2024-04-01T00:00:00.000Z', quantity_schedule: [{ quantity: 4, starting_at: '2024-04-01T00:00:00.000Z' }] });
    expect(view.recurring_credits![0]!.subscription_config!.subscription_id).toBe(subscription.id);
    const goodwill = view.credits!.find((c) => c.name === 'Goodwill')!;
    const pool = view.credits!.find((c) => c.recurring_credit_id === view.recurring_credits![0]!.id)!;
    expect(goodwill.balance).toBe(500);
    expect(pool.balance).toBe(100);
    expect(view.commits!.map((c) => [c.type, c.name, c.balance])).toEqual([['PREPAID', 'Prepaid', 2000]]);
    expect(await net(customer)).toBe(2500);
    expect(await net(customer, aiCredits)).toBe(100);

    const second = await client.v2.contracts.edit({
      customer_id: customer,
      contract_id: contract,
      update_subscriptions: [{ subscription_id: subscription.id!, quantity_updates: [{ starting_at: '2024-04-20T00:00:00Z', quantity_delta: 1 }] }],
    });
    const third = await client.v2.contracts.edit({ customer_id: customer, contract_id: contract, update_contract_name: null });

    const history = (await client.v2.contracts.getEditHistory({ customer_id: customer, contract_id: contract })).data;
    expect(history.map((edit) => edit.id)).toEqual([first.data.id, second.data.id, third.data.id]);
    const [added, updated, renamed] = history;
    expect(added).toMatchObject({ timestamp: '2024-04-10T00:00:00.000Z', update_contract_name: 'Team' });
    expect(added!.add_subscriptions!.map((s) => s.id)).toEqual([subscription.id]);
    expect(added!.add_recurring_credits!.map((r) => [r.id, r.subscription_config?.subscription_id])).toEqual([[view.recurring_credits![0]!.id, subscription.id]]);
    expect(added!.add_credits!.map((c) => [c.id, c.access_schedule!.schedule_items[0]!.amount])).toEqual([[goodwill.id, 500]]);
    expect(added!.add_commits!.map((c) => [c.id, c.type, c.access_schedule!.schedule_items[0]!.amount])).toEqual([[view.commits![0]!.id, 'PREPAID', 2000]]);
    expect(added!.update_subscriptions).toBeUndefined();
    expect(updated!.update_subscriptions).toEqual([{ id: subscription.id, quantity_updates: [{ starting_at: '2024-04-20T00:00:00.000Z', quantity_delta: 1 }] }]);
    for (const key of ['add_subscriptions', 'add_recurring_credits', 'add_credits', 'add_commits', 'update_contract_name'] as const) expect(updated![key]).toBeUndefined();
    expect(renamed!.update_contract_name).toBeNull();
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.name).toBeUndefined();
  });

  it('refuses additions before the open period, unknown references, another tenant’s contract and products of the wrong type', async () => {
    const customer = await newCustomer('Refusals');
    const contract = (await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-03-01T00:00:00Z', rate_card_id: rateCard, subscriptions: [seats()] })).data.id;
    const edit = (extra: Partial<Metronome.V2.ContractEditParams>) => client.v2.contracts.edit({ customer_id: customer, contract_id: contract, ...extra });
    const recurringCredit = (extra: Partial<Metronome.V2.ContractEditParams.AddRecurringCredit> = {}): Metronome.V2.ContractEditParams.AddRecurringCredit => ({
      product_id: poolProduct,
      access_amount: { credit_type_id: aiCredits, unit_price: 1, quantity: 1 },
      commit_duration: { value: 1 },
      priority: 1,
      starting_at: '2024-04-01T00:00:00Z',
      ...extra,
    });

    // The open statement period is April: nothing added may start in March.
    await expect400(edit({ add_subscriptions: [seats({ starting_at: '2024-03-15T00:00:00Z' })] }), 'add_subscriptions.0.starting_at');
    await expect400(edit({ add_recurring_credits: [recurringCredit(), recurringCredit({ starting_at: '2024-03-31T00:00:00Z' })] }), 'add_recurring_credits.1.starting_at');
    await expect400(edit({ add_recurring_commits: [recurringCredit({ starting_at: '2024-03-01T00:00:00Z' })] }), 'add_recurring_commits.0.starting_at');
    // Unknown references.
    await expect400(
      edit({ add_recurring_credits: [recurringCredit({ access_amount: { credit_type_id: aiCredits, unit_price: 1 }, subscription_config: { subscription_id: 'seats', apply_seat_increase_config: { is_prorated: true } } })] }),
      'add_recurring_credits.0.subscription_config.subscription_id',
    );
    await expect400(
      edit({ add_recurring_credits: [recurringCredit({ access_amount: { credit_type_id: aiCredits, unit_price: 1 }, subscription_config: { subscription_id: UNKNOWN, apply_seat_increase_config: { is_prorated: true } } })] }),
      'add_recurring_credits.0.subscription_config.subscription_id',
    );
    await expect400(edit({ add_recurring_credits: [recurringCredit({ access_amount: { credit_type_id: UNKNOWN, unit_price: 1, quantity: 1 } })] }), 'add_recurring_credits.0.access_amount.credit_type_id');
    await expect400(client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: UNKNOWN }), 'rate_card_id');
    await expect400(client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: 'not-a-rate-card' }), 'rate_card_id');
    await expect400(client.v1.contracts.create({ customer_id: UNKNOWN, starting_at: '2024-04-01T00:00:00Z' }), 'customer_id');
    await expect400(client.v1.contracts.create({ customer_id: 'not-a-customer', starting_at: '2024-04-01T00:00:00Z' }), 'customer_id');
    // Products of the wrong type.
    await expect400(edit({ add_recurring_credits: [recurringCredit({ product_id: seatsProduct })] }), 'add_recurring_credits.0.product_id');
    await expect400(edit({ add_credits: [{ ...oneOffCredit(100, '2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z'), product_id: seatsProduct }] }), 'add_credits.0.product_id');
    await expect400(
      client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard, subscriptions: [seats({ subscription_rate: { product_id: poolProduct, billing_frequency: 'MONTHLY' } })] }),
      'subscriptions.0.subscription_rate.product_id',
    );
    await expect400(
      client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', commits: [{ ...oneOffCredit(100, '2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z'), type: 'PREPAID', product_id: seatsProduct }] }),
      'commits.0.product_id',
    );

    // None of the refused requests changed anything.
    const view = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    expect([view.subscriptions!.length, view.recurring_credits!.length, view.recurring_commits!.length, view.credits!.length]).toEqual([1, 0, 0, 0]);
    expect((await client.v1.contracts.list({ customer_id: customer })).data).toHaveLength(1);
    expect((await client.v2.contracts.getEditHistory({ customer_id: customer, contract_id: contract })).data).toEqual([]);

    // Another tenant sees nothing of it.
    const other = server.client(await server.keyFor('other'));
    expect((await rejection(other.v2.contracts.retrieve({ customer_id: customer, contract_id: contract }))).status).toBe(404);
    expect((await rejection(other.v1.contracts.retrieve({ customer_id: customer, contract_id: contract }))).status).toBe(404);
    expect((await rejection(other.v2.contracts.edit({ customer_id: customer, contract_id: contract, update_contract_name: 'Stolen' }))).status).toBe(404);
    expect((await rejection(other.v1.contracts.archive({ customer_id: customer, contract_id: contract, void_invoices: false }))).status).toBe(404);
    expect((await rejection(other.v2.contracts.getEditHistory({ customer_id: customer, contract_id: contract }))).status).toBe(404);
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.name).toBeUndefined();
  });

  it('takes invoice_placement ON_USAGE_INVOICE and refuses ON_SCHEDULED_INVOICE by name, on create and on edit', async () => {
    const customer = await newCustomer('Invoice placement');
    const placed = (invoicePlacement: 'ON_SCHEDULED_INVOICE' | 'ON_USAGE_INVOICE', startingAt?: string) =>
      seats({ billing_cycle_config: { invoice_placement: invoicePlacement }, ...(startingAt && { starting_at: startingAt }) });
    const create = (subscription: Metronome.V1.ContractCreateParams.Subscription) =>
      client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard, subscriptions: [subscription] });
    await expect400(create(placed('ON_SCHEDULED_INVOICE')), 'subscriptions.0.billing_cycle_config.invoice_placement');
    const contract = (await create(placed('ON_USAGE_INVOICE'))).data.id;
    const retrieved = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    expect(retrieved.subscriptions!.map((subscription) => subscription.billing_cycle_config?.invoice_placement)).toEqual(['ON_USAGE_INVOICE']);
    await expect400(
      client.v2.contracts.edit({ customer_id: customer, contract_id: contract, add_subscriptions: [placed('ON_SCHEDULED_INVOICE', '2024-05-01T00:00:00Z')] }),
      'add_subscriptions.0.billing_cycle_config.invoice_placement',
    );
    await client.v2.contracts.edit({ customer_id: customer, contract_id: contract, add_subscriptions: [placed('ON_USAGE_INVOICE', '2024-05-01T00:00:00Z')] });
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.subscriptions).toHaveLength(2);
  });

  it('takes temporary_id on commits and recurring grants, and refuses the commit-specific overrides that would refer to it', async () => {
    const customer = await newCustomer('Temporary ids');
    const recurring = (temporaryId: string) => ({
      product_id: poolProduct,
      access_amount: { credit_type_id: aiCredits, unit_price: 10, quantity: 1 },
      commit_duration: { value: 1 },
      priority: 1,
      starting_at: '2024-04-01T00:00:00Z',
      temporary_id: temporaryId,
    });
    const base = {
      customer_id: customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: rateCard,
      commits: [{ ...oneOffCredit(100, '2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z'), type: 'PREPAID' as const, temporary_id: 'welcome-commit' }],
      recurring_commits: [recurring('monthly-commit')],
      recurring_credits: [recurring('monthly-credit')],
    };
    const byCommit = (specifier: Metronome.V1.ContractCreateParams.Override.OverrideSpecifier) => ({
      starting_at: '2024-04-01T00:00:00Z',
      type: 'MULTIPLIER' as const,
      multiplier: 0.5,
      override_specifiers: [specifier],
    });
    await expect400(client.v1.contracts.create({ ...base, overrides: [byCommit({ commit_ids: ['welcome-commit'] })] }), 'overrides.0.override_specifiers.0.commit_ids');
    await expect400(client.v1.contracts.create({ ...base, overrides: [byCommit({ recurring_commit_ids: ['monthly-commit'] })] }), 'overrides.0.override_specifiers.0.recurring_commit_ids');
    const contract = (await client.v1.contracts.create(base)).data.id;
    const created = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    // The one-off commit of 100, and April's commit of 10 generated by the recurring one.
    expect(created.commits.map((commit) => commit.access_schedule?.schedule_items[0]?.amount).sort()).toEqual([10, 100]);
    expect([created.recurring_commits?.length, created.recurring_credits?.length]).toEqual([1, 1]);
    await client.v2.contracts.edit({
      customer_id: customer,
      contract_id: contract,
      add_commits: [{ ...base.commits[0]!, temporary_id: 'another-commit' }],
      add_recurring_credits: [recurring('another-credit')],
    });
  });

  it('refuses one-off credits and commits added by an edit that start before the open period', async () => {
    const customer = await newCustomer('Backdated');
    const contract = (await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-03-01T00:00:00Z' })).data.id;
    const edit = (extra: Partial<Metronome.V2.ContractEditParams>) => client.v2.contracts.edit({ customer_id: customer, contract_id: contract, ...extra });
    await expect400(
      edit({ add_credits: [oneOffCredit(100, '2024-03-01T00:00:00Z', '2024-05-01T00:00:00Z')] }),
      'add_credits.0.access_schedule.schedule_items.0.starting_at',
    );
    await expect400(
      edit({ add_commits: [{ ...oneOffCredit(100, '2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z'), type: 'PREPAID' }, { ...oneOffCredit(100, '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'), type: 'PREPAID' }] }),
      'add_commits.1.access_schedule.schedule_items.0.starting_at',
    );
    expect((await client.v1.contracts.listBalances({ customer_id: customer })).data).toEqual([]);
  });

  let quarterlyCustomer: string;

  it('grants an unlinked recurring credit per quarter from its own start, each segment lasting two quarters', async () => {
    quarterlyCustomer = await newCustomer('Quarterly');
    const contract = (
      await client.v1.contracts.create({
        customer_id: quarterlyCustomer,
        starting_at: '2023-06-01T00:00:00Z',
        recurring_credits: [
          {
            product_id: poolProduct,
            access_amount: { credit_type_id: aiCredits, unit_price: 100, quantity: 3 },
            commit_duration: { value: 2, unit: 'PERIODS' },
            priority: 1,
            starting_at: '2023-07-15T00:00:00Z',
            recurrence_frequency: 'QUARTERLY',
          },
        ],
      })
    ).data.id;
    const recurring = (await client.v2.contracts.retrieve({ customer_id: quarterlyCustomer, contract_id: contract })).data.recurring_credits![0]!;
    expect(recurring).toMatchObject({ access_amount: { credit_type_id: aiCredits, unit_price: 100, quantity: 3 }, commit_duration: { value: 2 }, recurrence_frequency: 'QUARTERLY' });
    expect(recurring.subscription_config).toBeUndefined();

    const balances = await balancesOf(quarterlyCustomer);
    // Quarters start Jul 15, Oct 15, Jan 15 (Apr 15 is still to come); each grant is 3 × 100.
    expect(balances.map((b) => b.access_schedule!.schedule_items.map((item) => [item.amount, item.starting_at, item.ending_before]))).toEqual([
      [[300, '2023-07-15T00:00:00.000Z', '2024-01-15T00:00:00.000Z']],
      [[300, '2023-10-15T00:00:00.000Z', '2024-04-15T00:00:00.000Z']],
      [[300, '2024-01-15T00:00:00.000Z', '2024-07-15T00:00:00.000Z']],
    ]);
    expect(balances.map((b) => b.balance)).toEqual([0, 300, 300]);
    expect(balances.every((b) => (b as Metronome.Credit).recurring_credit_id === recurring.id)).toBe(true);
    expect(ledger(balances[0]!)).toEqual([
      ['CREDIT_SEGMENT_START', 300, '2023-07-15T00:00:00.000Z'],
      ['CREDIT_EXPIRATION', -300, '2024-01-15T00:00:00.000Z'],
    ]);
    expect(await net(quarterlyCustomer, aiCredits)).toBe(600);
  });

  let commitCustomer: string;
  let commitContract: string;

  it('grants a recurring commit as PREPAID commits with PREPAID_COMMIT ledger entries', async () => {
    commitCustomer = await newCustomer('Recurring commit');
    commitContract = (
      await client.v1.contracts.create({
        customer_id: commitCustomer,
        starting_at: '2024-03-01T00:00:00Z',
        recurring_commits: [
          {
            product_id: poolProduct,
            name: 'Monthly prepaid',
            access_amount: { credit_type_id: USD, unit_price: 1000, quantity: 1 },
            commit_duration: { value: 1 },
            priority: 1,
            starting_at: '2024-03-01T00:00:00Z',
          } as Metronome.V1.ContractCreateParams.RecurringCommit,
        ],
      })
    ).data.id;
    const view = (await client.v2.contracts.retrieve({ customer_id: commitCustomer, contract_id: commitContract, include_balance: true, include_ledgers: true })).data;
    expect(view.recurring_commits!.map((r) => [r.name, r.access_amount.unit_price, r.access_amount.quantity])).toEqual([['Monthly prepaid', 1000, 1]]);
    expect(view.recurring_credits).toEqual([]);
    expect(view.credits).toEqual([]);
    const commits = view.commits!;
    expect(commits.map((c) => [c.type, c.recurring_commit_id, c.balance])).toEqual([
      ['PREPAID', view.recurring_commits![0]!.id, 0],
      ['PREPAID', view.recurring_commits![0]!.id, 1000],
    ]);
    expect(commits.map(ledger)).toEqual([
      [
        ['PREPAID_COMMIT_SEGMENT_START', 1000, '2024-03-01T00:00:00.000Z'],
        ['PREPAID_COMMIT_EXPIRATION', -1000, '2024-04-01T00:00:00.000Z'],
      ],
      [['PREPAID_COMMIT_SEGMENT_START', 1000, '2024-04-01T00:00:00.000Z']],
    ]);
    const listed = await balancesOf(commitCustomer);
    expect(listed.map((b) => b.type)).toEqual(['PREPAID', 'PREPAID']);
    expect(await net(commitCustomer)).toBe(1000);
    expect((await client.v1.contracts.getNetBalance({ customer_id: commitCustomer, filters: [{ balance_types: ['CREDIT'] }] })).data.balance).toBe(0);
    expect((await client.v1.contracts.getNetBalance({ customer_id: commitCustomer, filters: [{ balance_types: ['PREPAID_COMMIT'] }] })).data.balance).toBe(1000);
  });

  it('takes access_amount.quantity beside subscription_config when it equals the seats at the grant’s start, and names it otherwise', async () => {
    const customer = await newCustomer('Linked quantity');
    const pooled = (quantity: number, startingAt = '2024-04-01T00:00:00Z', subscriptionId = 'seats') => ({
      product_id: poolProduct,
      access_amount: { credit_type_id: aiCredits, unit_price: 30, quantity },
      commit_duration: { value: 1, unit: 'PERIODS' as const },
      priority: 1,
      starting_at: startingAt,
      subscription_config: { subscription_id: subscriptionId, allocation: 'POOLED' as const, apply_seat_increase_config: { is_prorated: true } },
    });
    const create = (quantity: number) =>
      client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard, subscriptions: [seats({ temporary_id: 'seats' })], recurring_credits: [pooled(quantity)] });

    // 10 seats × 30 = 300: the quantity sent agrees with the subscription's, which drives the pool.
    await expect400(create(12), 'recurring_credits.0.access_amount.quantity');
    const contractId = (await create(10)).data.id;
    const pool = async () => (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits })).data.balance;
    expect(await pool()).toBe(300);

    // In an edit, the subscription's quantity at the grant's start counts, the edit's own changes included: 10 → 16 on Apr 16 (half of April).
    const subscriptionId = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contractId })).data.subscriptions![0]!.id!;
    const edit = (quantity: number, startingAt: string) =>
      client.v2.contracts.edit({
        customer_id: customer,
        contract_id: contractId,
        update_subscriptions: [{ subscription_id: subscriptionId, quantity_updates: [{ starting_at: '2024-04-16T00:00:00Z', quantity: 16 }] }],
        add_recurring_credits: [pooled(quantity, startingAt, subscriptionId)],
      });
    await expect400(edit(16, '2024-04-01T00:00:00Z'), 'add_recurring_credits.0.access_amount.quantity');
    await expect400(edit(10, '2024-05-01T00:00:00Z'), 'add_recurring_credits.0.access_amount.quantity');
    await edit(10, '2024-04-01T00:00:00Z');
    // Two pools of 300, each +6 seats × 30 × 15/30 = +90 on Apr 16: 780 once the clock reaches it.
    expect(await pool()).toBe(600);
  });

  it('moves billing periods, quantity schedules and grants along as the clock advances', async () => {
    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);

    const subscription = (await client.v2.contracts.retrieve({ customer_id: seatCustomer, contract_id: seatContract })).data.subscriptions![0]!;
    expect(subscription.billing_periods).toEqual({
      previous: { starting_at: '2024-04-01T00:00:00.000Z', ending_before: '2024-05-01T00:00:00.000Z' },
      current: { starting_at: '2024-05-01T00:00:00.000Z', ending_before: '2024-06-01T00:00:00.000Z' },
      next: { starting_at: '2024-06-01T00:00:00.000Z', ending_before: '2024-07-01T00:00:00.000Z' },
    });
    expect(subscription.quantity_schedule).toEqual([{ quantity: 20, starting_at: '2024-05-01T00:00:00.000Z' }]);
    // May's pool follows 20 seats.
    expect(await net(seatCustomer, aiCredits)).toBe(600);

    // Apr 15 began a fourth quarter; the segment of Oct 15 ended then.
    const quarterly = await balancesOf(quarterlyCustomer);
    expect(quarterly.map((b) => [b.access_schedule!.schedule_items[0]!.starting_at, b.balance])).toEqual([
      ['2023-07-15T00:00:00.000Z', 0],
      ['2023-10-15T00:00:00.000Z', 0],
      ['2024-01-15T00:00:00.000Z', 300],
      ['2024-04-15T00:00:00.000Z', 300],
    ]);
    expect(ledger(quarterly[1]!)).toEqual([
      ['CREDIT_SEGMENT_START', 300, '2023-10-15T00:00:00.000Z'],
      ['CREDIT_EXPIRATION', -300, '2024-04-15T00:00:00.000Z'],
    ]);

    expect((await balancesOf(commitCustomer)).map((b) => b.balance)).toEqual([0, 0, 1000]);
    // Additions may now start in May, not April.
    await expect400(
      client.v2.contracts.edit({ customer_id: seatCustomer, contract_id: seatContract, add_subscriptions: [seats({ starting_at: '2024-04-20T00:00:00Z' })] }),
      'add_subscriptions.0.starting_at',
    );
    await client.v2.contracts.edit({ customer_id: seatCustomer, contract_id: seatContract, add_subscriptions: [seats({ starting_at: '2024-05-01T00:00:00Z' })] });
  });

  it('refuses an edit that changes nothing, a net balance in an unknown unit, and instants without a time zone', async () => {
    await expect400(client.v2.contracts.edit({ customer_id: seatCustomer, contract_id: seatContract }), 'body');
    await expect400(client.v2.contracts.edit({ customer_id: seatCustomer, contract_id: seatContract, update_subscriptions: [] }), 'body');
    await expect400(client.v1.contracts.getNetBalance({ customer_id: seatCustomer, credit_type_id: '0192f6a0-0000-7000-8000-000000000000' }), 'credit_type_id');
    await expect400(
      client.v1.contracts.create({
        customer_id: seatCustomer,
        starting_at: '2024-06-01T00:00:00Z',
        ending_before: '2024-09-01T00:00:00Z',
        recurring_credits: [
          {
            product_id: poolProduct,
            access_amount: { credit_type_id: aiCredits, unit_price: 10, quantity: 1 },
            commit_duration: { value: 1 },
            priority: 1,
            starting_at: '2024-06-01T00:00:00Z',
            ending_before: '2025-01-01T00:00:00Z',
          },
        ],
      }),
      'recurring_credits.0.ending_before',
    );
    const error = await rejection(client.v1.contracts.create({ customer_id: seatCustomer, starting_at: '2024-06-01T00:00:00' }));
    expect(error.message).toContain('starting_at: must be an RFC 3339 instant with a time zone');
  });
});
