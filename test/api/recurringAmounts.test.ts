import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { expect400, rejection } from '../helpers/expectations.js';
import { seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Changing a recurring credit's or commit's amount through the SDK (`update_recurring_*[].access_amount`):
 * the new amount takes effect from the grant's first period starting at or after the edit, and
 * periods already started keep their grants. Each test has its own server, its clock starting on
 * 2024-04-10.
 */

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';

describe.each(ENGINES)('recurring grant amounts through the SDK on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 1000 });
  });
  afterAll(() => server.stop());

  const monthly = (name: string, amount: number): Metronome.V1.ContractCreateParams.RecurringCredit => ({
    product_id: catalog.poolProduct,
    name,
    access_amount: { credit_type_id: USD, unit_price: amount, quantity: 1 },
    commit_duration: { value: 1, unit: 'PERIODS' },
    priority: 2,
    starting_at: '2024-04-01T00:00:00Z',
  });

  /** [name, amount, starting_at] of each of a customer's credits and commits, by start then name. */
  async function grantsOf(customer: string) {
    const { data } = await client.v1.contracts.listBalances({ customer_id: customer });
    const rows = data.flatMap((grant) => grant.access_schedule!.schedule_items.map((item) => [grant.name ?? '', item.amount, item.starting_at.slice(0, 10)] as const));
    return rows.sort((a, b) => a[2].localeCompare(b[2]) || a[0].localeCompare(b[0]));
  }

  it('changes a monthly credit of 100 to 150 on April 10 (April keeps 100, May gets 150), then to quantity 2 on May 20 (June gets 300); a pooled credit and a commit follow the same rule', async () => {
    const customer = (await client.v1.customers.create({ name: 'Amounts' })).data.id;
    const contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: catalog.rateCard,
        subscriptions: [
          {
            temporary_id: 'seats',
            collection_schedule: 'ADVANCE',
            initial_quantity: 10,
            proration: { is_prorated: true },
            subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
          },
        ],
        recurring_credits: [
          monthly('Credit', 100),
          {
            product_id: catalog.poolProduct,
            name: 'Pool',
            access_amount: { credit_type_id: catalog.aiCredits, unit_price: 50 },
            commit_duration: { value: 1, unit: 'PERIODS' },
            priority: 1,
            starting_at: '2024-04-01T00:00:00Z',
            subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: true } },
          },
        ],
        recurring_commits: [{ ...monthly('Commit', 300) } as Metronome.V1.ContractCreateParams.RecurringCommit],
      })
    ).data.id;
    const view = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    const credit = view.recurring_credits!.find((r) => r.name === 'Credit')!.id;
    const pool = view.recurring_credits!.find((r) => r.name === 'Pool')!.id;
    const commit = view.recurring_commits![0]!.id;
    const edit = (params: Partial<Metronome.V2.ContractEditParams>) => client.v2.contracts.edit({ customer_id: customer, contract_id: contract, ...params });

    // Each bad field is a 400 naming it.
    await expect400(edit({ update_recurring_credits: [{ recurring_credit_id: credit, access_amount: { unit_price: -1 } }] }), 'update_recurring_credits.0.access_amount.unit_price');
    await expect400(edit({ update_recurring_credits: [{ recurring_credit_id: credit, access_amount: { quantity: -2 } }] }), 'update_recurring_credits.0.access_amount.quantity');
    await expect400(edit({ update_recurring_credits: [{ recurring_credit_id: credit, access_amount: {} }] }), 'update_recurring_credits.0.access_amount.unit_price');
    await expect400(edit({ update_recurring_commits: [{ recurring_commit_id: commit, access_amount: { unit_price: -5 } }] }), 'update_recurring_commits.0.access_amount.unit_price');
    await expect400(
      edit({ update_recurring_commits: [{ recurring_commit_id: commit, access_amount: { unit_price: 5 } }, { recurring_commit_id: commit, access_amount: { quantity: 3 } }] }),
      'update_recurring_commits.1.recurring_commit_id',
    );
    // A pooled credit's quantity is its subscription's: refused, naming it, with the other problems of the edit.
    const both = await rejection(
      edit({
        update_recurring_credits: [
          { recurring_credit_id: pool, access_amount: { unit_price: 60, quantity: 10 } },
          { recurring_credit_id: credit, ending_before: '2024-03-01T00:00:00Z' },
        ],
      }),
    );
    expect(both.status).toBe(400);
    expect(both.message).toContain('update_recurring_credits.0.access_amount.quantity:');
    expect(both.message).toContain('update_recurring_credits.1.ending_before:');
    expect(await grantsOf(customer)).toEqual([
      ['Commit', 300, '2024-04-01'],
      ['Credit', 100, '2024-04-01'],
      ['Pool', 500, '2024-04-01'],
    ]);

    // April 10: 120, then 150 — both from May 1, the later replaces the earlier.
    await edit({ update_recurring_credits: [{ recurring_credit_id: credit, access_amount: { unit_price: 120 } }] });
    const id = (
      await edit({
        update_recurring_credits: [
          { recurring_credit_id: credit, access_amount: { unit_price: 150 } },
          { recurring_credit_id: pool, access_amount: { unit_price: 60 } },
        ],
        update_recurring_commits: [{ recurring_commit_id: commit, access_amount: { unit_price: 250 }, ending_before: '2024-07-01T00:00:00Z' }],
      })
    ).data.id;
    // Nothing already granted changes.
    expect(await grantsOf(customer)).toEqual([
      ['Commit', 300, '2024-04-01'],
      ['Credit', 100, '2024-04-01'],
      ['Pool', 500, '2024-04-01'],
    ]);
    // Retrieve shows the latest amount; the edit history records the change.
    const edited = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    expect(edited.recurring_credits!.find((r) => r.id === credit)!.access_amount).toEqual({ credit_type_id: USD, unit_price: 150, quantity: 1 });
    expect(edited.recurring_credits!.find((r) => r.id === pool)!.access_amount).toEqual({ credit_type_id: catalog.aiCredits, unit_price: 60 });
    expect(edited.recurring_commits![0]!.access_amount).toEqual({ credit_type_id: USD, unit_price: 250, quantity: 1 });
    const history = (await client.v2.contracts.getEditHistory({ customer_id: customer, contract_id: contract })).data;
    expect(history.find((entry) => entry.id === id)).toMatchObject({
      update_recurring_credits: [
        { id: credit, access_amount: { unit_price: 150, quantity: 1 } },
        { id: pool, access_amount: { unit_price: 60 } },
      ],
      update_recurring_commits: [{ id: commit, ending_before: '2024-07-01T00:00:00.000Z', access_amount: { unit_price: 250, quantity: 1 } }],
    });

    expect((await server.advanceClock('2024-05-20T00:00:00Z')).status).toBe(200);
    expect(await grantsOf(customer)).toEqual([
      ['Commit', 300, '2024-04-01'],
      ['Credit', 100, '2024-04-01'],
      ['Pool', 500, '2024-04-01'],
      ['Commit', 250, '2024-05-01'],
      ['Credit', 150, '2024-05-01'],
      ['Pool', 600, '2024-05-01'],
    ]);

    // May 20: quantity 2 on the unlinked credit keeps its unit price of 150, from June 1.
    await edit({ update_recurring_credits: [{ recurring_credit_id: credit, access_amount: { quantity: 2 } }] });
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.recurring_credits!.find((r) => r.id === credit)!.access_amount).toEqual({
      credit_type_id: USD,
      unit_price: 150,
      quantity: 2,
    });
    expect((await server.advanceClock('2024-06-02T01:00:00Z')).status).toBe(200);
    expect((await grantsOf(customer)).filter(([, , start]) => start === '2024-06-01')).toEqual([
      ['Commit', 250, '2024-06-01'],
      ['Credit', 300, '2024-06-01'],
      ['Pool', 600, '2024-06-01'],
    ]);
    // Earlier periods are as they were.
    expect((await grantsOf(customer)).filter(([, , start]) => start !== '2024-06-01')).toEqual([
      ['Commit', 300, '2024-04-01'],
      ['Credit', 100, '2024-04-01'],
      ['Pool', 500, '2024-04-01'],
      ['Commit', 250, '2024-05-01'],
      ['Credit', 150, '2024-05-01'],
      ['Pool', 600, '2024-05-01'],
    ]);
  });
});
