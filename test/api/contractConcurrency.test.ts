import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Concurrent edits of one contract, on PostgreSQL (PGlite has one connection, so nothing runs at once there). */
describe('concurrent seat changes on postgres', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: '2024-04-01T00:00:00Z' });
  });
  afterAll(() => server.stop());

  it('applies concurrent decreases one after the other, never below 0', async () => {
    const client = server.client();
    const { customer, contract, subscription } = await createSeatContract(client, { catalog: await seatCatalog(server), seats: 100 });

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
});
