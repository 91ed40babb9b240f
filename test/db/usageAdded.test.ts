import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceContext } from '../../src/lib/context.js';
import type { Database } from '../../src/lib/db/database.js';
import { customerAccount, customerContracts, type CustomerAccount } from '../../src/modules/account/service.js';
import { addSeatChat, createHybridSeatContract, seatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** What a reader sees of an account: every balance and segment, and every draft line with what paid for it. */
function seen(account: CustomerAccount) {
  return {
    balances: account.current.map((balance) => ({
      id: balance.id,
      seat: balance.seatId ?? null,
      balance: balance.balance.toFixed(),
      segments: balance.segments.map((segment) => segment.ledger.balance.toFixed()),
    })),
    drafts: account.drafts.map((draft) => ({
      id: draft.invoiceId,
      lines: draft.lines.map((line) => ({
        id: line.id,
        quantity: line.quantity.toFixed(),
        total: line.total.toFixed(),
        overage: line.overage.toFixed(),
        applied: line.applied.map((application) => [application.segmentId, application.amount.toFixed()]),
      })),
    })),
  };
}

/** A small seeded generator, so that a failure replays. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/**
 * The account engine keeps a customer's usage as read, and a commit of this process's ingest
 * puts what it added to the rollups into it with no read: into its hour's bucket when today's,
 * its day's before. Property: after any sequence of ingest calls — events of this hour, of
 * earlier hours, of earlier days, repeated transaction ids, several events a call — and of clock
 * moves across hours and a day, every read of the kept account equals the account computed anew
 * from the database; reads on the day of the last read read no rollups, and the first read on a
 * new day does.
 */
describe.each(ENGINES)('kept usage with what this process committed, on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let ctx: ServiceContext;
  let ids: { tenantId: string; customerId: string };
  const rollupReads = { count: 0 };

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T21:20:00Z' });
    client = server.client();
    const catalog = await seatCatalog(server, { aiCreditsInCents: 100 });
    await addSeatChat(client, catalog);
    // COUNT, MAX and LATEST metrics on the same events, grouped by team and by user: more rows per event, the greatest and the latest value kept.
    for (const [name, aggregation_type, price] of [
      ['Calls', 'COUNT', 0.25],
      ['Peak', 'MAX', 0.5],
      ['Last', 'LATEST', 0.1],
    ] as const) {
      const metric = (
        await client.v1.billableMetrics.create({
          name,
          event_type_filter: { in_values: ['tokens'] },
          aggregation_type,
          ...(aggregation_type !== 'COUNT' && { aggregation_key: 'credits' }),
          property_filters: [{ name: 'credits', exists: true }, { name: 'user_id', exists: true }, { name: 'team', exists: true }],
          group_keys: [['team'], ['user_id']],
        })
      ).data.id;
      const product = (await client.v1.contracts.products.create({ name, type: 'USAGE', billable_metric_id: metric })).data.id;
      await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price, credit_type_id: catalog.aiCredits, starting_at: '2024-01-01T00:00:00Z' });
      // A new price from midday on April 5: that day's usage falls in two slices.
      await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: price * 2, credit_type_id: catalog.aiCredits, starting_at: '2024-04-05T12:00:00Z' });
    }
    const { customer } = await createHybridSeatContract(client, { catalog, name: 'Kept usage', seatIds: ['ada', 'bob', 'cy'], seatPriority: 1, poolPriority: 2 });
    const [tenant] = await server.database.db.query<{ id: string }>("SELECT id FROM tenants WHERE name = 'acme'");
    ids = { tenantId: tenant!.id, customerId: customer };
    // Counts the rollup reads the engine makes (the statements of the `usage` module's `sliceRollups`).
    const db = server.database.db;
    const query = db.query.bind(db);
    (db as { query: Database['query'] }).query = ((text, params, options) => {
      if (text.includes('FROM usage_rollups') && !text.startsWith('INSERT')) rollupReads.count++;
      return query(text, params, options);
    }) as Database['query'];
    ctx = { db, clock: server.clock };
  }, 120_000);
  afterAll(() => server?.stop());

  it('reads as the account computed anew after every call, and reads no rollups on the day of the last read', async () => {
    const next = random(7);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
    let sequence = 0;
    let checkedWithoutRead = 0;
    let checkedRead = 0;
    let checkedEarlierDays = 0;
    let lastReadDay = -1;
    for (let step = 0; step < 60; step++) {
      const now = server.clock.now().getTime();
      const hour = now - (now % 3_600_000);
      const today = now - (now % 86_400_000);
      const events = Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
        const when = next();
        // Mostly this hour; else an earlier hour of today or yesterday, or an earlier day of April.
        const at = when < 0.7 ? hour + Math.floor(next() * (now - hour + 1)) : when < 0.85 ? hour - (1 + Math.floor(next() * 5)) * 3_600_000 : Date.parse('2024-04-02T00:00:00Z') + Math.floor(next() * 6 * 86_400_000);
        const user = pick(['ada', 'bob', 'cy', 'zed']);
        const repeat = sequence > 0 && next() < 0.1;
        return {
          repeat,
          event: {
            transaction_id: `kept-${repeat ? 1 + Math.floor(next() * sequence) : ++sequence}`,
            customer_id: ids.customerId,
            event_type: 'tokens',
            timestamp: new Date(Math.min(at, now)).toISOString(),
            properties: { credits: Math.round(next() * 2000) / 100, user_id: user, team: user === 'zed' ? 'guests' : 'core' },
          },
        };
      });
      await client.v1.usage.ingest({ usage: events.map(({ event }) => event) });
      const added = events.filter(({ repeat }) => !repeat).map(({ event }) => Date.parse(event.timestamp));
      const before = rollupReads.count;
      const kept = await customerAccount(ctx, ids);
      const read = rollupReads.count > before;
      // New usage on the day of the last read, of any hour: put in with no read. The first read on a new day reads again.
      if (added.length > 0 && lastReadDay === today) {
        expect(read, `step ${step}: usage read again`).toBe(false);
        checkedWithoutRead++;
        if (added.some((at) => at < today)) checkedEarlierDays++;
      }
      if (added.length > 0 && lastReadDay !== today && lastReadDay !== -1) {
        expect(read, `step ${step}: usage of a new day not read again`).toBe(true);
        checkedRead++;
      }
      lastReadDay = today;
      const fresh = await customerAccount(ctx, { ...ids, contracts: await customerContracts(ctx, ids) });
      expect(seen(kept), `step ${step}`).toEqual(seen(fresh));
      if (next() < 0.2) await server.advanceClock(new Date(now + Math.floor(next() * 50) * 60_000).toISOString());
    }
    // The clock crossed midnight (21:20 on April 10, up to 60 moves of under 50 minutes), and both kinds of call came.
    expect(server.clock.now().getTime()).toBeGreaterThan(Date.parse('2024-04-11T00:00:00Z'));
    expect(checkedWithoutRead).toBeGreaterThan(30);
    expect(checkedEarlierDays).toBeGreaterThan(3);
    expect(checkedRead).toBeGreaterThan(0);
  });
});
