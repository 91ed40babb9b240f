import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeatChat, createHybridSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type Balance = Awaited<ReturnType<Metronome['v1']['contracts']['listBalances']>>['data'][number] & { seat_id?: string };

/**
 * Seat credits and a pool on one contract (docs/rules.md rule 29): seats ada, bob and cy, 50 AI
 * credits each of their own (priority 1) and 100 a seat pooled (priority 2): 150 + 300. Chat costs
 * 1 credit a unit. ada uses 80: her own 50 first, then 30 from the pool → ada 0, pool 270. zed,
 * not a seat, uses 10: the pool only → 260. With the priorities the other way round (pool 1,
 * seats 2), ada's 80 draws the pool first: pool 220, ada 50.
 */
describe.each(ENGINES)('seat credits and a pool on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;

  const hybrid = async ({ seatPriority, poolPriority }: { seatPriority: number; poolPriority: number }) =>
    (await createHybridSeatContract(client, { catalog, name: `Hybrid ${seatPriority}/${poolPriority}`, seatIds: ['ada', 'bob', 'cy'], seatPriority, poolPriority })).customer;

  const balances = async (customer: string) => {
    const all = (await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true })).data as Balance[];
    return {
      pool: all.filter((b) => b.seat_id === undefined).reduce((sum, b) => sum + (b.balance ?? 0), 0),
      seats: Object.fromEntries(all.filter((b) => b.seat_id !== undefined).map((b) => [b.seat_id, b.balance])),
    };
  };
  const use = (customer: string, id: string, user: string, credits: number) =>
    client.v1.usage.ingest({ usage: [{ transaction_id: `${customer}-${id}`, customer_id: customer, event_type: 'tokens', timestamp: '2024-04-02T00:00:00Z', properties: { credits, user_id: user } }] });

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-05T00:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 0, aiCreditsInCents: 100 });
    await addSeatChat(client, catalog);
  });
  afterAll(() => server.stop());

  it("draws a seat's own credit first, then the pool: ada uses 80 → ada 0, pool 270; zed (no seat) draws the pool only → 260", async () => {
    const customer = await hybrid({ seatPriority: 1, poolPriority: 2 });
    expect(await balances(customer)).toEqual({ pool: 300, seats: { ada: 50, bob: 50, cy: 50 } });
    await use(customer, 'ada', 'ada', 80);
    expect(await balances(customer)).toEqual({ pool: 270, seats: { ada: 0, bob: 50, cy: 50 } });
    await use(customer, 'zed', 'zed', 10);
    expect(await balances(customer)).toEqual({ pool: 260, seats: { ada: 0, bob: 50, cy: 50 } });
    // The net balance counts every seat's credit and the pool.
    expect((await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: catalog.aiCredits })).data.balance).toBe(360);
  });

  it('follows the priorities when they put the pool first: ada uses 80 → pool 220, ada 50', async () => {
    const customer = await hybrid({ seatPriority: 2, poolPriority: 1 });
    await use(customer, 'ada', 'ada', 80);
    expect(await balances(customer)).toEqual({ pool: 220, seats: { ada: 50, bob: 50, cy: 50 } });
  });

  it('at equal priority takes the seat’s own credit first', async () => {
    const customer = await hybrid({ seatPriority: 1, poolPriority: 1 });
    await use(customer, 'bob', 'bob', 60);
    expect(await balances(customer)).toEqual({ pool: 290, seats: { ada: 50, bob: 0, cy: 50 } });
  });
});
