import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followChanges, publishChanges, type Change, type ChangeFeed } from '../../src/lib/changeFeed.js';
import { openPostgres } from '../../src/lib/db/postgres.js';
import type { Database } from '../../src/lib/db/database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * The change feed on PostgreSQL: a change committed by another connection (as another process
 * would) has been handed to the follower once a barrier asked for after the commit is through.
 * PostgreSQL delivers notifications in commit order; the barrier is what makes a read wait for them.
 */
describe('the change feed on PostgreSQL', () => {
  let database: TestDatabase;
  let writer: Database;
  let feed: ChangeFeed;
  const seen: Change[] = [];
  let gaps = 0;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    // Another pool on the same database: the other process.
    writer = openPostgres({ url: database.url!, poolSize: 2 });
    feed = (await followChanges(database.db, { onChange: (change) => seen.push(change), onGap: () => gaps++ }))!;
  });
  afterAll(async () => {
    await feed?.stop();
    await writer?.close();
    await database?.destroy();
  });

  it('has every change committed before a barrier once the barrier is through, every time', async () => {
    for (let round = 0; round < 50; round++) {
      const customerId = `0190f1e2-0000-7000-8000-${String(round).padStart(12, '0')}`;
      await publishChanges(writer, 'postgres', [{ kind: 'usage', tenantId: 't', customerIds: [customerId], since: new Map([[customerId, new Date('2024-04-10T05:00:00Z')]]) }]);
      expect(await feed.barrier()).toBe(true);
      expect(seen.at(-1)).toEqual({ kind: 'usage', tenantId: 't', customerIds: [customerId], since: new Map([[customerId, new Date('2024-04-10T05:00:00Z')]]) });
    }
    expect(seen).toHaveLength(50);
  });

  it('has every change committed before a statement that sends its own barrier once that barrier is through, and only its own notification resolves it', async () => {
    for (let round = 0; round < 20; round++) {
      const customerId = `0190f1e2-0000-7000-8000-${String(1000 + round).padStart(12, '0')}`;
      await publishChanges(writer, 'postgres', [{ kind: 'account', tenantId: 'own', customerIds: [customerId] }]);
      const own = feed.ownBarrier()!;
      // The statement reads something and sends the barrier: its notification goes when it commits.
      const [row] = await database.db.query<{ answer: number }>('SELECT 42 AS answer FROM pg_notify($1, $2)', [own.channel, own.payload]);
      expect(row!.answer).toBe(42);
      expect(await own.seen).toBe(true);
      expect(seen.at(-1)).toEqual({ kind: 'account', tenantId: 'own', customerIds: [customerId] });
    }
    // Another barrier going through does not resolve one whose statement has not run: it times out as unseen.
    const unsent = feed.ownBarrier()!;
    expect(await feed.barrier()).toBe(true);
    expect(await unsent.seen).toBe(false);
  });

  it('announces nothing from a transaction that rolls back', async () => {
    const before = seen.length;
    await expect(
      writer.transaction(async (tx) => {
        await publishChanges(tx, 'postgres', [{ kind: 'catalog', tenantId: 'rolled-back' }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await publishChanges(writer, 'postgres', [{ kind: 'catalog', tenantId: 'committed' }]);
    expect(await feed.barrier()).toBe(true);
    expect(seen.slice(before)).toEqual([{ kind: 'catalog', tenantId: 'committed' }]);
    // Connecting is the only gap: nothing was missed since.
    expect(gaps).toBe(1);
  });

  it('skips the changes of its own origin, which its process applied when it made them', async () => {
    const mine: Change[] = [];
    const own = (await followChanges(database.db, { origin: 'this-process', onChange: (change) => mine.push(change), onGap: () => {} }))!;
    try {
      await publishChanges(writer, 'postgres', [{ kind: 'account', tenantId: 't', customerIds: ['a'] }], 'this-process');
      await publishChanges(writer, 'postgres', [{ kind: 'account', tenantId: 't', customerIds: ['b'] }], 'another-process');
      expect(await own.barrier()).toBe(true);
      expect(mine).toEqual([{ kind: 'account', tenantId: 't', customerIds: ['b'] }]);
    } finally {
      await own.stop();
    }
  });

  it('answers barriers false while its LISTEN connection is down, and true again once it is back', async () => {
    const gapsBefore = gaps;
    await writer.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'allot-listen' AND datname = current_database()`);
    const waitFor = async (done: () => Promise<boolean> | boolean) => {
      for (const started = Date.now(); !(await done()); ) {
        if (Date.now() - started > 10_000) throw new Error('timed out');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    // The loss is a gap: what was committed meanwhile may have been missed.
    await waitFor(() => gaps > gapsBefore);
    // Down until it connects again, 500 ms later (a second gap): a barrier cannot vouch for anything.
    const down = feed.barrier();
    if (gaps === gapsBefore + 1) expect(await down).toBe(false);
    // Connected again (after a short delay), barriers go through the new connection.
    await waitFor(() => feed.barrier());
    await publishChanges(writer, 'postgres', [{ kind: 'catalog', tenantId: 'after-reconnect' }]);
    expect(await feed.barrier()).toBe(true);
    expect(seen.at(-1)).toEqual({ kind: 'catalog', tenantId: 'after-reconnect' });
  });
});
