import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { expect400, rejection } from '../helpers/expectations.js';
import { seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A contract's lifecycle through the SDK: ending a subscription, a recurring credit or commit and
 * the contract itself, and archiving a contract with its invoices voided. The clock starts on
 * 2024-04-10 (April is the open statement period) and moves to June 2 in the recurring credit's
 * test, which finalises April's and May's invoices for the tests after it.
 */

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const UNKNOWN = '0192f6a0-0000-7000-8000-000000000000';

describe.each(ENGINES)('contract lifecycle through the SDK on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 1000 });
  });
  afterAll(() => server.stop());

  const newCustomer = async (name: string) => (await client.v1.customers.create({ name })).data.id;

  const seats = (): Metronome.V1.ContractCreateParams.Subscription => ({
    temporary_id: 'seats',
    collection_schedule: 'ADVANCE',
    initial_quantity: 10,
    proration: { is_prorated: true },
    subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
  });
  const pool = (): Metronome.V1.ContractCreateParams.RecurringCredit => ({
    product_id: catalog.poolProduct,
    name: 'Pool',
    access_amount: { credit_type_id: catalog.aiCredits, unit_price: 50 },
    commit_duration: { value: 1, unit: 'PERIODS' },
    priority: 1,
    starting_at: '2024-04-01T00:00:00Z',
    subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: true } },
  });
  const monthly = (name: string, amount: number): Metronome.V1.ContractCreateParams.RecurringCredit => ({
    product_id: catalog.poolProduct,
    name,
    access_amount: { credit_type_id: USD, unit_price: amount, quantity: 1 },
    commit_duration: { value: 1, unit: 'PERIODS' },
    priority: 2,
    starting_at: '2024-04-01T00:00:00Z',
  });

  async function invoicesOf(customer: string, query: { status?: string } = {}) {
    const invoices = [];
    for await (const invoice of client.v1.customers.invoices.list({ customer_id: customer, ...query })) invoices.push(invoice);
    return invoices;
  }
  const seatLines = (invoice: { line_items: Array<{ type: string; total: number }> }) => invoice.line_items.filter((line) => line.type === 'subscription').map((line) => line.total);

  /** [name, amount, starting_at, ending_before] of each of a customer's credits and commits. */
  async function grantsOf(customer: string) {
    const { data } = await client.v1.contracts.listBalances({ customer_id: customer });
    const rows = data.flatMap((grant) => grant.access_schedule!.schedule_items.map((item) => [grant.name ?? '', item.amount, item.starting_at, item.ending_before] as const));
    // By start, then name: grants starting together have ids in no particular order.
    return rows.sort((a, b) => a[2].localeCompare(b[2]) || a[0].localeCompare(b[0]));
  }

  let endedSeats: { customer: string; contract: string };

  it('ends a subscription on April 16: its seat charge and its pooled credit stop there, prorated 15/30', async () => {
    const customer = await newCustomer('Ends seats');
    const contract = (
      await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: catalog.rateCard, subscriptions: [seats()], recurring_credits: [pool()] })
    ).data.id;
    endedSeats = { customer, contract };
    const subscription = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.subscriptions![0]!.id!;
    const edit = (update: Metronome.V2.ContractEditParams.UpdateSubscription) => client.v2.contracts.edit({ customer_id: customer, contract_id: contract, update_subscriptions: [update] });
    expect(seatLines((await invoicesOf(customer))[0]!)).toEqual([10000]);

    await expect400(edit({ subscription_id: subscription, ending_before: '2024-03-20T00:00:00Z' }), 'update_subscriptions.0.ending_before');
    await expect400(edit({ subscription_id: subscription, ending_before: '2024-04-16T00:30:00Z' }), 'update_subscriptions.0.ending_before');
    await expect400(edit({ subscription_id: subscription }), 'update_subscriptions.0.quantity_updates');
    await expect400(edit({ subscription_id: UNKNOWN, ending_before: '2024-04-16T00:00:00Z' }), 'update_subscriptions.0.subscription_id');
    await expect400(edit({ subscription_id: subscription, ending_before: '2024-04-16T00:00:00Z', seat_updates: {} }), 'update_subscriptions.0.seat_updates');
    await expect400(
      edit({ subscription_id: subscription, ending_before: '2024-04-16T00:00:00Z', quantity_updates: [{ starting_at: '2024-04-20T00:00:00Z', quantity: 12 }] }),
      'update_subscriptions.0.quantity_updates.0.starting_at',
    );
    await edit({ subscription_id: subscription, quantity_updates: [{ starting_at: '2024-04-20T00:00:00Z', quantity: 12 }] });
    const late = await rejection(edit({ subscription_id: subscription, ending_before: '2024-04-16T00:00:00Z' }));
    expect(late.status).toBe(400);
    expect(late.message).toContain('update_subscriptions.0.ending_before: a quantity change is scheduled at 2024-04-20T00:00:00.000Z');
    await edit({ subscription_id: subscription, quantity_updates: [{ starting_at: '2024-04-20T00:00:00Z', quantity: 10 }] });
    // The two changes at April 20 now fold to 10 seats, but they are still scheduled after the end.
    await expect400(edit({ subscription_id: subscription, ending_before: '2024-04-16T00:00:00Z' }), 'update_subscriptions.0.ending_before');

    const ended = await newCustomer('Ends seats cleanly');
    const endedContract = (
      await client.v1.contracts.create({ customer_id: ended, starting_at: '2024-04-01T00:00:00Z', rate_card_id: catalog.rateCard, subscriptions: [seats()], recurring_credits: [pool()] })
    ).data.id;
    endedSeats = { customer: ended, contract: endedContract };
    const endedSubscription = (await client.v2.contracts.retrieve({ customer_id: ended, contract_id: endedContract })).data.subscriptions![0]!.id!;
    const id = (
      await client.v2.contracts.edit({ customer_id: ended, contract_id: endedContract, update_subscriptions: [{ subscription_id: endedSubscription, ending_before: '2024-04-16T00:00:00Z' }] })
    ).data.id;

    const view = (await client.v2.contracts.retrieve({ customer_id: ended, contract_id: endedContract })).data;
    expect(view.subscriptions![0]).toMatchObject({
      ending_before: '2024-04-16T00:00:00.000Z',
      billing_periods: { current: { starting_at: '2024-04-01T00:00:00.000Z', ending_before: '2024-04-16T00:00:00.000Z' } },
    });
    expect(view.subscriptions![0]!.billing_periods.next).toBeUndefined();
    // 10 seats × 1,000 cents × 15/30 of April; the pool 10 × 50 × 15/30, ending with the seats.
    expect(seatLines((await invoicesOf(ended))[0]!)).toEqual([5000]);
    expect(await grantsOf(ended)).toEqual([['Pool', 250, '2024-04-01T00:00:00.000Z', '2024-04-16T00:00:00.000Z']]);
    const history = (await client.v2.contracts.getEditHistory({ customer_id: ended, contract_id: endedContract })).data;
    expect(history.find((entry) => entry.id === id)!.update_subscriptions).toEqual([{ id: endedSubscription, ending_before: '2024-04-16T00:00:00.000Z' }]);
  });

  let movedEnd: { customer: string; contract: string };
  let usageOnly: { customer: string; contract: string };

  it("moves a contract's end to April 16 (v1 updateEndDate): its period, seats and credits clip there; a v2 edit moves it out again", async () => {
    const customer = await newCustomer('Moves its end');
    const contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        ending_before: '2025-04-01T00:00:00Z',
        rate_card_id: catalog.rateCard,
        subscriptions: [seats()],
        recurring_credits: [pool(), monthly('Monthly $1', 100)],
      })
    ).data.id;
    movedEnd = { customer, contract };
    const updateEndDate = (params: Partial<Metronome.V1.ContractUpdateEndDateParams>) => client.v1.contracts.updateEndDate({ customer_id: customer, contract_id: contract, ...params });
    const edit = (params: Partial<Metronome.V2.ContractEditParams>) => client.v2.contracts.edit({ customer_id: customer, contract_id: contract, ...params });

    await expect400(updateEndDate({ ending_before: '2024-03-15T00:00:00Z' }), 'ending_before');
    await expect400(updateEndDate({ ending_before: '2024-04-16T00:00:01Z' }), 'ending_before');
    await expect400(edit({ update_contract_end_date: '2024-01-01T00:00:00Z' }), 'update_contract_end_date');
    await expect400(edit({ update_contract_end_date: 'tomorrow' }), 'update_contract_end_date');

    expect(await updateEndDate({ ending_before: '2024-04-16T00:00:00Z' })).toEqual({ data: { id: contract } });
    const view = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    expect(view.ending_before).toBe('2024-04-16T00:00:00.000Z');
    expect(view.subscriptions![0]!.ending_before).toBe('2024-04-16T00:00:00.000Z');
    const [draft] = await invoicesOf(customer);
    expect([draft!.start_timestamp, draft!.end_timestamp]).toEqual(['2024-04-01T00:00:00.000Z', '2024-04-16T00:00:00.000Z']);
    expect(seatLines(draft!)).toEqual([5000]);
    expect(await grantsOf(customer)).toEqual([
      ['Monthly $1', 50, '2024-04-01T00:00:00.000Z', '2024-04-16T00:00:00.000Z'],
      ['Pool', 250, '2024-04-01T00:00:00.000Z', '2024-04-16T00:00:00.000Z'],
    ]);

    // Out again: the subscription ended with the contract, so it follows it.
    await edit({ update_contract_end_date: '2024-07-01T00:00:00Z' });
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.subscriptions![0]!.ending_before).toBe('2024-07-01T00:00:00.000Z');
    expect(seatLines((await invoicesOf(customer))[0]!)).toEqual([10000]);
    expect((await grantsOf(customer)).map(([name, amount]) => [name, amount])).toEqual([
      ['Monthly $1', 100],
      ['Pool', 500],
    ]);
    await edit({ update_contract_end_date: null });
    const open = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    expect(open.ending_before).toBeUndefined();
    expect(open.subscriptions![0]!.ending_before).toBeUndefined();
    const history = (await client.v2.contracts.getEditHistory({ customer_id: customer, contract_id: contract })).data;
    expect(history.map((entry) => entry.update_contract_end_date)).toEqual(['2024-04-16T00:00:00.000Z', '2024-07-01T00:00:00.000Z', null]);

    const usageCustomer = await newCustomer('Usage only');
    usageOnly = {
      customer: usageCustomer,
      contract: (await client.v1.contracts.create({ customer_id: usageCustomer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: catalog.rateCard })).data.id,
    };
  });

  it('ends a monthly recurring credit of 100 from June 1: April and May grant, June does not; a recurring commit from May 1', async () => {
    const customer = await newCustomer('Ends a credit');
    const contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: catalog.rateCard,
        recurring_credits: [monthly('Credit', 100)],
        recurring_commits: [{ ...monthly('Commit', 300) } as Metronome.V1.ContractCreateParams.RecurringCommit],
      })
    ).data.id;
    const view = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    const credit = view.recurring_credits![0]!.id;
    const commit = view.recurring_commits![0]!.id;
    const edit = (params: Partial<Metronome.V2.ContractEditParams>) => client.v2.contracts.edit({ customer_id: customer, contract_id: contract, ...params });

    await expect400(edit({ update_recurring_credits: [{ recurring_credit_id: UNKNOWN, ending_before: '2024-06-01T00:00:00Z' }] }), 'update_recurring_credits.0.recurring_credit_id');
    await expect400(edit({ update_recurring_credits: [{ recurring_credit_id: commit, ending_before: '2024-06-01T00:00:00Z' }] }), 'update_recurring_credits.0.recurring_credit_id');
    await expect400(edit({ update_recurring_credits: [{ recurring_credit_id: credit, ending_before: '2024-03-01T00:00:00Z' }] }), 'update_recurring_credits.0.ending_before');
    await expect400(
      edit({ update_recurring_credits: [{ recurring_credit_id: credit, ending_before: '2024-06-01T00:00:00Z', proration_rounding: null }] }),
      'update_recurring_credits.0.proration_rounding',
    );
    await expect400(edit({ update_recurring_commits: [{ recurring_commit_id: commit, ending_before: '2024-05-01T00:00:00Z', invoice_amount: { quantity: 1 } }] }), 'update_recurring_commits.0.invoice_amount');
    await expect400(edit({ update_recurring_commits: [{ recurring_commit_id: commit }] }), 'update_recurring_commits.0.ending_before');
    // Every bad field is named at once.
    const both = await rejection(
      edit({
        update_recurring_credits: [{ recurring_credit_id: credit, ending_before: '2024-03-01T00:00:00Z' }],
        update_recurring_commits: [{ recurring_commit_id: UNKNOWN, ending_before: '2024-05-01T00:00:00Z' }],
      }),
    );
    expect(both.message).toContain('update_recurring_credits.0.ending_before:');
    expect(both.message).toContain('update_recurring_commits.0.recurring_commit_id:');

    const id = (
      await edit({
        update_recurring_credits: [{ recurring_credit_id: credit, ending_before: '2024-06-01T00:00:00Z' }],
        update_recurring_commits: [{ recurring_commit_id: commit, ending_before: '2024-05-01T00:00:00Z' }],
      })
    ).data.id;
    const edited = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    expect(edited.recurring_credits![0]!.ending_before).toBe('2024-06-01T00:00:00.000Z');
    expect(edited.recurring_commits![0]!.ending_before).toBe('2024-05-01T00:00:00.000Z');
    const history = (await client.v2.contracts.getEditHistory({ customer_id: customer, contract_id: contract })).data;
    expect(history.find((entry) => entry.id === id)).toMatchObject({
      update_recurring_credits: [{ id: credit, ending_before: '2024-06-01T00:00:00.000Z' }],
      update_recurring_commits: [{ id: commit, ending_before: '2024-05-01T00:00:00.000Z' }],
    });

    expect((await server.advanceClock('2024-06-02T01:00:00Z')).status).toBe(200);
    expect(await grantsOf(customer)).toEqual([
      ['Commit', 300, '2024-04-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z'],
      ['Credit', 100, '2024-04-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z'],
      ['Credit', 100, '2024-05-01T00:00:00.000Z', '2024-06-01T00:00:00.000Z'],
    ]);
    // May is billed now: an end in May is refused, while June, still open, may be granted again.
    await expect400(edit({ update_recurring_credits: [{ recurring_credit_id: credit, ending_before: '2024-05-15T00:00:00Z' }] }), 'update_recurring_credits.0.ending_before');
    await edit({ update_recurring_credits: [{ recurring_credit_id: credit, ending_before: null }] });
    expect((await grantsOf(customer)).at(-1)).toEqual(['Credit', 100, '2024-06-01T00:00:00.000Z', '2024-07-01T00:00:00.000Z']);
  });

  it("refuses to end a contract before its last finalised invoice unless allowed, and never cuts a billed seat period", async () => {
    // April and May are finalised now (June 2).
    expect((await invoicesOf(usageOnly.customer, { status: 'FINALIZED' })).map((invoice) => invoice.end_timestamp)).toEqual(['2024-05-01T00:00:00.000Z', '2024-06-01T00:00:00.000Z']);
    const early = await rejection(client.v1.contracts.updateEndDate({ customer_id: usageOnly.customer, contract_id: usageOnly.contract, ending_before: '2024-05-15T00:00:00Z' }));
    expect(early.status).toBe(400);
    expect(early.message).toContain("ending_before: must not be before 2024-06-01T00:00:00.000Z, the end of the contract's last finalised invoice");
    await expect400(client.v2.contracts.edit({ customer_id: usageOnly.customer, contract_id: usageOnly.contract, update_contract_end_date: '2024-05-15T00:00:00Z' }), 'update_contract_end_date');

    await client.v1.contracts.updateEndDate({ customer_id: usageOnly.customer, contract_id: usageOnly.contract, ending_before: '2024-05-15T00:00:00Z', allow_ending_before_finalized_invoice: true });
    expect((await client.v2.contracts.retrieve({ customer_id: usageOnly.customer, contract_id: usageOnly.contract })).data.ending_before).toBe('2024-05-15T00:00:00.000Z');
    // Finalised invoices are unchanged, and no draft is left.
    expect((await invoicesOf(usageOnly.customer)).map((invoice) => [invoice.status, invoice.end_timestamp])).toEqual([
      ['FINALIZED', '2024-05-01T00:00:00.000Z'],
      ['FINALIZED', '2024-06-01T00:00:00.000Z'],
    ]);

    // The seats of May were billed on May 1: even when allowed, their period is not cut.
    const seatsCut = await rejection(
      client.v1.contracts.updateEndDate({ customer_id: movedEnd.customer, contract_id: movedEnd.contract, ending_before: '2024-05-15T00:00:00Z', allow_ending_before_finalized_invoice: true }),
    );
    expect(seatsCut.status).toBe(400);
    expect(seatsCut.message).toContain('ending_before: subscription ');
    // Ending it with June instead clips nothing billed.
    await client.v1.contracts.updateEndDate({ customer_id: movedEnd.customer, contract_id: movedEnd.contract, ending_before: '2024-07-01T00:00:00Z' });
    expect((await client.v2.contracts.retrieve({ customer_id: movedEnd.customer, contract_id: movedEnd.contract })).data.subscriptions![0]!.ending_before).toBe('2024-07-01T00:00:00.000Z');
  });

  it('archives a contract with void_invoices: its finalised invoices become VOID, and it leaves lists', async () => {
    const { customer, contract } = endedSeats;
    const finalized = await invoicesOf(customer, { status: 'FINALIZED' });
    // The seats ended on April 16: April bills 5,000 cents of them, May nothing.
    expect(finalized.map((invoice) => [invoice.end_timestamp, invoice.total, seatLines(invoice)])).toEqual([
      ['2024-05-01T00:00:00.000Z', 5000, [5000]],
      ['2024-06-01T00:00:00.000Z', 0, []],
    ]);
    await expect400(client.v1.contracts.archive({ customer_id: customer, contract_id: contract, void_invoices: 'yes' as never }), 'void_invoices');
    expect(await client.v1.contracts.archive({ customer_id: customer, contract_id: contract, void_invoices: true })).toEqual({ data: { id: contract } });
    const after = await invoicesOf(customer);
    expect(after.map((invoice) => [invoice.id, invoice.status, invoice.total])).toEqual(finalized.map((invoice) => [invoice.id, 'VOID', invoice.total]));
    expect((await client.v2.contracts.list({ customer_id: customer })).data).toEqual([]);
    expect((await client.v2.contracts.list({ customer_id: customer, include_archived: true })).data[0]!.archived_at).toBeDefined();
  });
});
