import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { expect400, rejection } from '../helpers/expectations.js';
import { createCreditType } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Customer-level credits and commits, balances and net balances through the SDK (docs/rules.md rule 11).
 * The clock starts on 2024-04-10 and only moves forward, in the last tests: every grant is made
 * first and checked again as the clock passes the ends of its segments.
 */

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const UNKNOWN = '0192f6a0-0000-7000-8000-000000000000';

type Entry = { type: string; amount: number; timestamp: string; reason?: string };

describe.each(ENGINES)('credits, commits and balances through the SDK on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let aiCredits: string;
  let fixedProduct: string;
  let seatsProduct: string;

  let customer: string;
  let multi: string;
  let future: string;
  let short: string;
  let prepaid: string;
  let contract: string;
  let contractCredit: string;
  let contractCommit: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    aiCredits = await createCreditType(server, 'AI credits');
    fixedProduct = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
    seatsProduct = (await client.v1.contracts.products.create({ name: 'Seats', type: 'SUBSCRIPTION' })).data.id;

    customer = (await client.v1.customers.create({ name: 'Grants' })).data.id;
    multi = (
      await client.v1.customers.credits.create({
        customer_id: customer,
        product_id: fixedProduct,
        priority: 1,
        name: 'Multi',
        access_schedule: {
          credit_type_id: USD,
          schedule_items: [
            { amount: 100, starting_at: '2024-03-01T00:00:00Z', ending_before: '2024-04-01T00:00:00Z' },
            { amount: 200, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' },
            { amount: 300, starting_at: '2024-05-01T00:00:00Z', ending_before: '2024-06-01T00:00:00Z' },
          ],
        },
      })
    ).data.id;
    future = (
      await client.v1.customers.credits.create({
        customer_id: customer,
        product_id: fixedProduct,
        priority: 2,
        name: 'Future',
        // The credit type defaults to USD.
        access_schedule: { schedule_items: [{ amount: 50, starting_at: '2024-06-01T00:00:00Z', ending_before: '2024-07-01T00:00:00Z' }] },
      })
    ).data.id;
    short = (
      await client.v1.customers.credits.create({
        customer_id: customer,
        product_id: fixedProduct,
        priority: 1,
        name: 'Short',
        access_schedule: { credit_type_id: aiCredits, schedule_items: [{ amount: 70, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-04-20T00:00:00Z' }] },
      })
    ).data.id;
    prepaid = (
      await client.v1.customers.commits.create({
        customer_id: customer,
        product_id: fixedProduct,
        priority: 1,
        type: 'PREPAID',
        name: 'Prepaid',
        access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 1000, starting_at: '2024-04-01T00:00:00Z', ending_before: '2025-04-01T00:00:00Z' }] },
      })
    ).data.id;
    contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        credits: [
          {
            product_id: fixedProduct,
            name: 'Contract credit',
            access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 500, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] },
          },
        ],
        commits: [
          {
            product_id: fixedProduct,
            type: 'PREPAID',
            name: 'Contract commit',
            access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 400, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] },
          },
        ],
      })
    ).data.id;
    const view = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    contractCredit = view.credits![0]!.id;
    contractCommit = view.commits![0]!.id;
  });
  afterAll(() => server.stop());

  function ledger(balance: { ledger?: unknown }) {
    return ((balance.ledger ?? []) as Entry[]).map((entry) => [entry.type, entry.amount, entry.timestamp]);
  }

  async function creditIds(params: Omit<Metronome.V1.Customers.CreditListParams, 'customer_id'> = {}): Promise<string[]> {
    return (await client.v1.customers.credits.list({ customer_id: customer, ...params })).data.map((c) => c.id);
  }

  async function net(params: Omit<Metronome.V1.ContractGetNetBalanceParams, 'customer_id'> = {}, of = customer): Promise<number> {
    return (await client.v1.contracts.getNetBalance({ customer_id: of, ...params })).data.balance;
  }

  it('creates customer credits with multi-segment access schedules, and lists them with balances and ledgers on request', async () => {
    const listed = (await client.v1.customers.credits.list({ customer_id: customer })).data;
    expect(listed.map((c) => c.name)).toEqual(['Multi', 'Future', 'Short']);
    const [first] = listed;
    expect(first).toMatchObject({ id: multi, type: 'CREDIT', priority: 1, product: { id: fixedProduct, name: 'Credits' }, created_at: '2024-04-10T00:00:00.000Z' });
    expect(first!.access_schedule!.credit_type).toEqual({ id: USD, name: 'USD (cents)' });
    expect(first!.access_schedule!.schedule_items.map((item) => [item.starting_at, item.ending_before])).toEqual([
      ['2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'],
      ['2024-04-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z'],
      ['2024-05-01T00:00:00.000Z', '2024-06-01T00:00:00.000Z'],
    ]);
    expect(new Set(first!.access_schedule!.schedule_items.map((item) => item.id)).size).toBe(3);
    expect(listed[1]!.access_schedule!.credit_type).toEqual({ id: USD, name: 'USD (cents)' });
    expect(listed[2]!.access_schedule!.credit_type).toEqual({ id: aiCredits, name: 'AI credits' });
    for (const credit of listed) {
      expect(credit).not.toHaveProperty('balance');
      expect(credit).not.toHaveProperty('ledger');
      expect(credit).not.toHaveProperty('contract');
    }

    const withBalance = (await client.v1.customers.credits.list({ customer_id: customer, include_balance: true })).data;
    // Multi: March expired, April holds 200, May has not started.
    expect(withBalance.map((c) => c.balance)).toEqual([200, 0, 70]);
    expect(withBalance.every((c) => c.ledger === undefined)).toBe(true);

    const withLedgers = (await client.v1.customers.credits.list({ customer_id: customer, include_ledgers: true })).data;
    expect(withLedgers.every((c) => c.balance === undefined)).toBe(true);
    expect(withLedgers.map(ledger)).toEqual([
      [
        ['CREDIT_SEGMENT_START', 100, '2024-03-01T00:00:00.000Z'],
        ['CREDIT_EXPIRATION', -100, '2024-04-01T00:00:00.000Z'],
        ['CREDIT_SEGMENT_START', 200, '2024-04-01T00:00:00.000Z'],
      ],
      [],
      [['CREDIT_SEGMENT_START', 70, '2024-04-01T00:00:00.000Z']],
    ]);
    const segments = first!.access_schedule!.schedule_items.map((item) => item.id);
    expect((withLedgers[0]!.ledger as unknown as Array<{ segment_id: string }>).map((entry) => entry.segment_id)).toEqual([segments[0], segments[0], segments[1]]);

    // The access schedule reads back as it was sent, including segments that have not started yet.
    expect(first!.access_schedule!.schedule_items.map((item) => item.amount)).toEqual([100, 200, 300]);
    expect(listed[1]!.access_schedule!.schedule_items.map((item) => item.amount)).toEqual([50]);
  });

  it('filters customer credits by credit_id, covering_date, starting_at and effective_before', async () => {
    expect(await creditIds({ credit_id: short })).toEqual([short]);
    expect(await creditIds({ credit_id: prepaid })).toEqual([]);
    expect(await creditIds({ covering_date: '2024-06-15T00:00:00Z' })).toEqual([future]);
    expect(await creditIds({ covering_date: '2024-03-15T00:00:00Z' })).toEqual([multi]);
    expect(await creditIds({ covering_date: '2024-04-19T00:00:00Z' })).toEqual([multi, short]);
    // Half-open: Short ends on Apr 20.
    expect(await creditIds({ covering_date: '2024-04-20T00:00:00Z' })).toEqual([multi]);
    expect(await creditIds({ covering_date: '2024-07-01T00:00:00Z' })).toEqual([]);
    expect(await creditIds({ starting_at: '2024-05-15T00:00:00Z' })).toEqual([multi, future]);
    expect(await creditIds({ starting_at: '2024-06-01T00:00:00Z' })).toEqual([future]);
    expect(await creditIds({ effective_before: '2024-04-01T00:00:00Z' })).toEqual([multi]);
    expect(await creditIds({ effective_before: '2024-04-01T01:00:00Z' })).toEqual([multi, short]);
    expect(await creditIds({ starting_at: '2024-04-15T00:00:00Z', effective_before: '2024-05-01T00:00:00Z' })).toEqual([multi, short]);
  });

  it('pages customer credits with limit, and for await walks every page', async () => {
    const page = await client.v1.customers.credits.list({ customer_id: customer, limit: 2 });
    expect(page.data.map((c) => c.id)).toEqual([multi, future]);
    expect(page.next_page).toBeTruthy();
    expect(page.hasNextPage()).toBe(true);
    const next = await page.getNextPage();
    expect(next.data.map((c) => c.id)).toEqual([short]);
    expect(next.hasNextPage()).toBe(false);

    const walked: string[] = [];
    for await (const credit of client.v1.customers.credits.list({ customer_id: customer, limit: 1, include_balance: true })) {
      walked.push(credit.id);
      expect(credit.balance).toBeTypeOf('number');
    }
    expect(walked).toEqual([multi, future, short]);
    const commits: string[] = [];
    for await (const commit of client.v1.customers.commits.list({ customer_id: customer, limit: 1, include_contract_commits: true })) commits.push(commit.id);
    expect(commits).toEqual([prepaid, contractCommit].sort());
    await expect400(client.v1.customers.credits.list({ customer_id: customer, limit: 0 }), 'limit');
  });

  it('leaves contract credits and commits out of the customer lists unless asked for', async () => {
    expect(await creditIds()).toEqual([multi, future, short]);
    expect(await creditIds({ include_contract_credits: false })).toEqual([multi, future, short]);
    const all = (await client.v1.customers.credits.list({ customer_id: customer, include_contract_credits: true })).data;
    expect(all.map((c) => c.id)).toEqual([multi, future, short, contractCredit].sort());
    expect(all.find((c) => c.id === contractCredit)).toMatchObject({ name: 'Contract credit', contract: { id: contract } });

    const commits = (await client.v1.customers.commits.list({ customer_id: customer, include_balance: true, include_ledgers: true })).data;
    expect(commits.map((c) => [c.id, c.type, c.name, c.balance])).toEqual([[prepaid, 'PREPAID', 'Prepaid', 1000]]);
    expect(ledger(commits[0]!)).toEqual([['PREPAID_COMMIT_SEGMENT_START', 1000, '2024-04-01T00:00:00.000Z']]);
    const allCommits = (await client.v1.customers.commits.list({ customer_id: customer, include_contract_commits: true })).data;
    expect(allCommits.map((c) => c.id)).toEqual([prepaid, contractCommit].sort());
    expect(allCommits.every((c) => c.type === 'PREPAID')).toBe(true);
    // Credits are not commits and commits are not credits.
    expect((await client.v1.customers.commits.list({ customer_id: customer, commit_id: multi })).data).toEqual([]);
  });

  it('refuses POSTPAID commits, non-FIXED products and unknown credit types, naming the field', async () => {
    const item = { amount: 10, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' };
    await expect400(
      client.v1.customers.commits.create({ customer_id: customer, product_id: fixedProduct, priority: 1, type: 'POSTPAID', access_schedule: { schedule_items: [item] } }),
      'type',
    );
    await expect400(client.v1.customers.credits.create({ customer_id: customer, product_id: seatsProduct, priority: 1, access_schedule: { schedule_items: [item] } }), 'product_id');
    await expect400(
      client.v1.customers.commits.create({ customer_id: customer, product_id: seatsProduct, priority: 1, type: 'PREPAID', access_schedule: { schedule_items: [item] } }),
      'product_id',
    );
    await expect400(client.v1.customers.credits.create({ customer_id: customer, product_id: UNKNOWN, priority: 1, access_schedule: { schedule_items: [item] } }), 'product_id');
    for (const contractId of ['nope', UNKNOWN]) {
      await expect400(
        client.v1.customers.credits.create({ customer_id: customer, product_id: fixedProduct, priority: 1, applicable_contract_ids: [contractId], access_schedule: { schedule_items: [item] } }),
        'applicable_contract_ids.0',
      );
    }
    await expect400(
      client.v1.customers.credits.create({
        customer_id: customer,
        product_id: fixedProduct,
        priority: 1,
        access_schedule: { schedule_items: [{ ...item, starting_at: '0050-03-15T00:00:00Z' }] },
      }),
      'access_schedule.schedule_items.0.starting_at',
    );
    await expect400(
      client.v1.customers.credits.create({ customer_id: customer, product_id: fixedProduct, priority: 1, access_schedule: { credit_type_id: UNKNOWN, schedule_items: [item] } }),
      'access_schedule.credit_type_id',
    );
    await expect400(
      client.v1.customers.credits.create({ customer_id: customer, product_id: fixedProduct, priority: 1, access_schedule: { credit_type_id: 'AI credits', schedule_items: [item] } }),
      'access_schedule.credit_type_id',
    );
    await expect400(
      client.v1.customers.credits.create({
        customer_id: customer,
        product_id: fixedProduct,
        priority: 1,
        access_schedule: { schedule_items: [item, { ...item, ending_before: '2024-04-01T00:00:00Z' }] },
      }),
      'access_schedule.schedule_items.1.ending_before',
    );
    await expect400(client.v1.customers.credits.create({ customer_id: customer, product_id: fixedProduct, priority: 1, access_schedule: { schedule_items: [] } }), 'access_schedule.schedule_items');
    expect((await rejection(client.v1.customers.credits.create({ customer_id: UNKNOWN, product_id: fixedProduct, priority: 1, access_schedule: { schedule_items: [item] } }))).status).toBe(404);
    // Nothing was created.
    expect(await creditIds()).toEqual([multi, future, short]);
    expect((await client.v1.customers.commits.list({ customer_id: customer })).data.map((c) => c.id)).toEqual([prepaid]);
  });

  it('lists balances by id, without zero balances, and without contract balances when asked', async () => {
    const ids = async (params: Omit<Metronome.V1.ContractListBalancesParams, 'customer_id'> = {}) =>
      (await client.v1.contracts.listBalances({ customer_id: customer, ...params })).data.map((b) => b.id);
    const everything = [multi, future, short, prepaid, contractCredit, contractCommit].sort();
    // Contract balances are listed by default, credits and commits together.
    expect(await ids()).toEqual(everything);
    expect(await ids({ id: prepaid })).toEqual([prepaid]);
    expect(await ids({ id: contractCredit })).toEqual([contractCredit]);
    expect(await ids({ id: UNKNOWN })).toEqual([]);
    expect(await ids({ exclude_zero_balances: true })).toEqual(everything.filter((id) => id !== future));
    expect(await ids({ include_contract_balances: false })).toEqual([multi, future, short, prepaid].sort());
    expect(await ids({ include_contract_balances: false, exclude_zero_balances: true, covering_date: '2024-04-15T00:00:00Z' })).toEqual([multi, short, prepaid].sort());
    const typed = (await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true })).data;
    expect(Object.fromEntries(typed.map((b) => [b.id, [b.type, b.balance]]))).toEqual({
      [multi]: ['CREDIT', 200],
      [future]: ['CREDIT', 0],
      [short]: ['CREDIT', 70],
      [prepaid]: ['PREPAID', 1000],
      [contractCredit]: ['CREDIT', 500],
      [contractCommit]: ['PREPAID', 400],
    });
  });

  it('nets balances in USD by default, in one credit type, and through OR-ed filters', async () => {
    const response = await client.v1.contracts.getNetBalance({ customer_id: customer });
    expect(response.data).toEqual({ balance: 200 + 1000 + 500 + 400, credit_type_id: USD });
    expect((await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits })).data).toEqual({ balance: 70, credit_type_id: aiCredits });
    expect(await net({ filters: [{ balance_types: ['CREDIT'] }] })).toBe(700);
    expect(await net({ filters: [{ balance_types: ['PREPAID_COMMIT'] }] })).toBe(1400);
    expect(await net({ filters: [{ balance_types: ['POSTPAID_COMMIT'] }] })).toBe(0);
    expect(await net({ filters: [{ ids: [multi] }] })).toBe(200);
    expect(await net({ filters: [{ ids: [multi, contractCommit] }] })).toBe(600);
    // Filters are OR-ed; the conditions of one filter are AND-ed.
    expect(await net({ filters: [{ ids: [multi] }, { balance_types: ['PREPAID_COMMIT'] }] })).toBe(1600);
    expect(await net({ filters: [{ ids: [multi], balance_types: ['PREPAID_COMMIT'] }] })).toBe(0);
    // A grant in another credit type does not count, even when named.
    expect(await net({ filters: [{ ids: [short] }] })).toBe(0);
    expect(await net({ credit_type_id: aiCredits, filters: [{ ids: [short] }] })).toBe(70);
  });

  let overdrawn: string;
  let overdrawnCredit: string;

  it('counts a segment overdrawn by a manual entry as 0 in the net balance, and refuses bad manual entries', async () => {
    overdrawn = (await client.v1.customers.create({ name: 'Overdrawn' })).data.id;
    overdrawnCredit = (
      await client.v1.customers.credits.create({
        customer_id: overdrawn,
        product_id: fixedProduct,
        priority: 1,
        access_schedule: {
          schedule_items: [
            { amount: 100, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' },
            { amount: 300, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-06-01T00:00:00Z' },
          ],
        },
      })
    ).data.id;
    const [credit] = (await client.v1.customers.credits.list({ customer_id: overdrawn })).data;
    const [small, large] = credit!.access_schedule!.schedule_items.map((item) => item.id);
    await client.v1.contracts.addManualBalanceEntry({ id: overdrawnCredit, customer_id: overdrawn, segment_id: small!, amount: -150, reason: 'Usage billed elsewhere', timestamp: '2024-04-05T00:00:00Z' });
    // −50 on the small segment counts as 0: the net is the large segment's 300.
    expect(await net({}, overdrawn)).toBe(300);
    const [listed] = (await client.v1.contracts.listBalances({ customer_id: overdrawn, include_balance: true, include_ledgers: true })).data;
    // A balance never reads below 0 per segment, as in Metronome; the ledger keeps the entries.
    expect(listed!.balance).toBe(300);
    expect(((listed!.ledger ?? []) as Entry[]).map((entry) => [entry.type, entry.amount, entry.timestamp, entry.reason])).toEqual([
      ['CREDIT_SEGMENT_START', 100, '2024-04-01T00:00:00.000Z', undefined],
      ['CREDIT_MANUAL', -150, '2024-04-05T00:00:00.000Z', 'Usage billed elsewhere'],
      ['CREDIT_SEGMENT_START', 300, '2024-04-01T00:00:00.000Z', undefined],
    ]);

    const entry = { id: overdrawnCredit, customer_id: overdrawn, segment_id: large!, reason: 'x' };
    await expect400(client.v1.contracts.addManualBalanceEntry({ ...entry, amount: 0 }), 'amount');
    await expect400(client.v1.contracts.addManualBalanceEntry({ ...entry, id: UNKNOWN, amount: 5 }), 'id');
    await expect400(client.v1.contracts.addManualBalanceEntry({ ...entry, id: 'not-a-credit', amount: 5 }), 'id');
    // Another customer's credit is not this customer's.
    await expect400(client.v1.contracts.addManualBalanceEntry({ ...entry, id: multi, amount: 5 }), 'id');
    await expect400(client.v1.contracts.addManualBalanceEntry({ ...entry, reason: '', amount: 5 }), 'reason');
    expect(await net({}, overdrawn)).toBe(300);
    expect(await net({}, customer)).toBe(2100);
  });

  it('expires what is left of a one-off credit segment when the clock passes its end', async () => {
    const [credit] = (await client.v1.customers.credits.list({ customer_id: customer, credit_id: short })).data;
    await client.v1.contracts.addManualBalanceEntry({
      id: short,
      customer_id: customer,
      segment_id: credit!.access_schedule!.schedule_items[0]!.id,
      amount: -20,
      reason: 'Used',
      timestamp: '2024-04-10T00:00:00Z',
    });
    expect(await net({ credit_type_id: aiCredits })).toBe(50);

    expect((await server.advanceClock('2024-04-20T00:00:00Z')).status).toBe(200);
    const [expired] = (await client.v1.customers.credits.list({ customer_id: customer, credit_id: short, include_balance: true, include_ledgers: true })).data;
    expect(ledger(expired!)).toEqual([
      ['CREDIT_SEGMENT_START', 70, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_MANUAL', -20, '2024-04-10T00:00:00.000Z'],
      ['CREDIT_EXPIRATION', -50, '2024-04-20T00:00:00.000Z'],
    ]);
    expect(expired!.balance).toBe(0);
    expect(await net({ credit_type_id: aiCredits })).toBe(0);
    expect((await client.v1.contracts.listBalances({ customer_id: customer, exclude_zero_balances: true })).data.map((b) => b.id)).not.toContain(short);

    // May 1: Multi's April segment expires and its May segment starts; the overdrawn segment ends at −50, with nothing to expire.
    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);
    const [multiNow] = (await client.v1.customers.credits.list({ customer_id: customer, credit_id: multi, include_balance: true, include_ledgers: true })).data;
    expect(ledger(multiNow!)).toEqual([
      ['CREDIT_SEGMENT_START', 100, '2024-03-01T00:00:00.000Z'],
      ['CREDIT_EXPIRATION', -100, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_SEGMENT_START', 200, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_EXPIRATION', -200, '2024-05-01T00:00:00.000Z'],
      ['CREDIT_SEGMENT_START', 300, '2024-05-01T00:00:00.000Z'],
    ]);
    expect(multiNow!.balance).toBe(300);
    // Multi 300 + Prepaid 1000; the contract's April credit and commit have expired.
    expect(await net()).toBe(1300);
    const [overdrawnNow] = (await client.v1.contracts.listBalances({ customer_id: overdrawn, include_balance: true, include_ledgers: true })).data;
    expect(ledger(overdrawnNow!)).toEqual([
      ['CREDIT_SEGMENT_START', 100, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_MANUAL', -150, '2024-04-05T00:00:00.000Z'],
      ['CREDIT_SEGMENT_START', 300, '2024-04-01T00:00:00.000Z'],
    ]);
    expect(overdrawnNow!.balance).toBe(300);
    expect(await net({}, overdrawn)).toBe(300);
  });

  it('answers an unknown customer, contract or subscription with a 404 and an unknown field with a 400', async () => {
    const nobody = '0192f6a0-0000-7000-8000-000000000000';
    const status = async (promise: Promise<unknown>) => (await rejection(promise)).status;
    expect(await status(client.v1.contracts.listBalances({ customer_id: nobody }))).toBe(404);
    expect(await status(client.v1.contracts.getNetBalance({ customer_id: nobody }))).toBe(404);
    expect(await status(client.v1.customers.credits.list({ customer_id: nobody }))).toBe(404);
    expect(await status(client.v1.customers.commits.list({ customer_id: nobody }))).toBe(404);
    expect(await status(client.v1.contracts.list({ customer_id: nobody }))).toBe(404);
    expect(await status(client.v2.contracts.list({ customer_id: nobody }))).toBe(404);
    expect(await status(client.v1.contracts.retrieveSubscriptionQuantityHistory({ customer_id: customer, contract_id: contract, subscription_id: nobody }))).toBe(404);
    expect(await status(client.v1.contracts.retrieveSubscriptionQuantityHistory({ customer_id: customer, contract_id: nobody, subscription_id: nobody }))).toBe(404);
    await expect400(client.v1.contracts.listBalances({ customer_id: customer, include_ledger: true } as never), 'include_ledger');
    await expect400(client.v1.customers.commits.list({ customer_id: customer, limit: 0 }), 'limit');
    await expect400(client.v1.contracts.list({ customer_id: customer, covering_date: 'yesterday' }), 'covering_date');
  });
});
