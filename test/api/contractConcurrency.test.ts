import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/** Concurrent edits of one contract, on PostgreSQL (PGlite has one connection, so nothing runs at once there). */
describe('concurrent seat changes on postgres', () => {
  let server: TestServer;
  let catalog: Awaited<ReturnType<typeof seatCatalog>>;

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: '2024-04-01T00:00:00Z' });
    catalog = await seatCatalog(server, { seatPrice: 3000 });
  });
  afterAll(() => server.stop());

  it('applies concurrent decreases one after the other, never below 0', async () => {
    const client = server.client();
    const { customer, contract, subscription } = await createSeatContract(client, { catalog, seats: 100 });

    // Eight clients each remove 30 seats at once: only three can succeed (100 → 70 → 40 → 10).
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        server.client().v2.contracts.edit({
          customer_id: customer,
          contract_id: contract,
          update_subscriptions: [{ subscription_id: subscription, quantity_updates: [{ starting_at: '2024-04-10T00:00:00Z', quantity_delta: -30 }] }],
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const refused of results.filter((r) => r.status === 'rejected')) {
      expect((refused.reason as { status: number }).status).toBe(400);
    }
    const history = await client.v1.contracts.retrieveSubscriptionQuantityHistory({ customer_id: customer, contract_id: contract, subscription_id: subscription });
    expect(history.data.history!.map((step) => step.data[0]!.quantity)).toEqual([100, 10]);
  });

  it('bills an increase while a period close of the customer holds its lock and writes for the contract, without a deadlock', async () => {
    const client = server.client();
    const { customer, contract, subscription } = await createSeatContract(client, { catalog, seats: 10, invoiceBehavior: 'BILL_IMMEDIATELY' });
    await server.advanceClock('2024-04-16T00:00:00Z');

    // Another process closing the customer: it holds the close lock while its invoices' foreign keys lock the contract's row.
    const close = new pg.Client({ connectionString: server.database.url });
    await close.connect();
    let edit: Promise<unknown> | undefined;
    try {
      await close.query('BEGIN');
      await close.query(`SELECT pg_advisory_xact_lock(hashtextextended('allot.invoices.close:' || tenant_id::text || ':' || id::text, 0)) FROM customers WHERE id = $1`, [customer]);
      // +4 seats at half of April, billed immediately: the edit waits for the close to commit.
      edit = client.v2.contracts.edit({
        customer_id: customer,
        contract_id: contract,
        update_subscriptions: [{ subscription_id: subscription, quantity_updates: [{ starting_at: '2024-04-16T00:00:00Z', quantity: 14 }] }],
      });
      edit.catch(() => undefined);
      const waiting = async () =>
        (await close.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`)).rows[0]!.n >= 1;
      await waitFor(waiting, { what: 'the edit waiting for the close lock' });
      // What an invoice insert's foreign key check takes: a key share lock on the contract's row. It must not wait on the edit.
      await close.query(`SET LOCAL lock_timeout = '20s'`);
      await close.query('SELECT 1 FROM contracts WHERE id = $1 FOR KEY SHARE', [contract]);
      await close.query('COMMIT');
    } finally {
      await close.end();
    }
    await edit;
    const scheduled = [];
    for await (const invoice of client.v1.customers.invoices.list({ customer_id: customer })) if (invoice.type === 'SCHEDULED') scheduled.push(invoice.total);
    expect(scheduled).toEqual([6000]);
  });
});
