import type { JsMsg } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalsOf } from '../../src/lib/context.js';
import { encodeEntry } from '../../src/modules/usage/log/entry.js';
import { foldQueue, PartitionLost } from '../../src/modules/usage/log/foldQueue.js';
import { claimPosition, foldedSequences } from '../../src/modules/usage/log/positionsRepo.js';
import { insertTenant } from '../../src/modules/tenants/repo.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../helpers/database.js';

const TENANT = '0190f1e2-0000-7000-8000-0000000000fa';
const STREAM = 'test-stream';

/** A delivered message of partition `partition`: one call's events (for no known customer, so they are stored unmatched). */
function message(partition: number, seq: number, events = 3): JsMsg {
  const text = encodeEntry({
    tenantId: TENANT,
    receivedAt: new Date('2024-04-15T10:00:00Z'),
    events: Array.from({ length: events }, (_, index) => ({
      transactionId: `p${partition}-s${seq}-e${index}`,
      customerRef: `someone-${partition}`,
      eventType: 'api_call',
      timestamp: new Date('2024-04-15T09:30:00Z'),
      properties: { tokens: 10 },
    })),
  });
  return { seq, redelivered: false, string: () => text } as unknown as JsMsg;
}

const storedOf = async (db: TestDatabase['db'], partition: number) =>
  Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM events WHERE tenant_id = $1 AND customer_ref = $2', [TENANT, `someone-${partition}`]))[0]!.n);

describe.each(ENGINES)('the usage log writer’s fold queue on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrated: true });
    await insertTenant(database.db, { id: TENANT, name: 'fold queue', created_at: new Date() });
  });
  afterAll(() => database.destroy());

  it('folds several partitions’ messages in fewer transactions, each position moved with its events', async () => {
    const { db } = database;
    for (const partition of [0, 1, 2, 3, 4]) await claimPosition(db, STREAM, partition, 'writer-a');
    const commits: { requests: number; accepted: number; duplicates: number }[] = [];
    const unsubscribe = signalsOf(db).on('ingestBatchCommitted', ({ requests, accepted, duplicates }) => commits.push({ requests, accepted, duplicates }));
    const folds = foldQueue(db, { stream: STREAM, writer: 'writer-a', onError: (error) => expect.fail(String(error)) });
    const positions = await Promise.all([0, 1, 2, 3, 4].map((partition) => folds.fold(partition, [message(partition, 1), message(partition, 2)], 0)));
    unsubscribe();

    expect(positions).toEqual([2, 2, 2, 2, 2]);
    expect([...(await foldedSequences(db, STREAM, [0, 1, 2, 3, 4])).values()]).toEqual([2, 2, 2, 2, 2]);
    for (const partition of [0, 1, 2, 3, 4]) expect(await storedOf(db, partition)).toBe(6);
    // Ten calls of 3 events, each stored once. The first fold starts at once with what it has (on
    // PostgreSQL, the second too: two run at once); the others wait, and the next fold takes them all.
    expect(commits.map((commit) => commit.requests).sort((a, b) => a - b)).toEqual(engine === 'postgres' ? [2, 2, 6] : [2, 8]);
    expect(commits.reduce((sum, commit) => sum + commit.accepted, 0)).toBe(30);
    expect(commits.every((commit) => commit.duplicates === 0)).toBe(true);
    // Messages at or below the position (a redelivery after a commit) are skipped without a transaction.
    expect(await folds.fold(0, [message(0, 1), message(0, 2)], 2)).toBe(2);
    expect(await storedOf(db, 0)).toBe(6);
    // A redelivery in the same batch as the first delivery is folded once, and the position is the greatest sequence.
    await claimPosition(db, STREAM, 5, 'writer-a');
    expect(await folds.fold(5, [message(5, 1), message(5, 2), message(5, 1)], 0)).toBe(2);
    expect(await storedOf(db, 5)).toBe(6);
  });

  it('rolls back a fold whose partition another writer moved, and folds the other partitions of it in the next', async () => {
    const { db } = database;
    for (const partition of [10, 11, 12, 13]) await claimPosition(db, STREAM, partition, 'writer-a');
    // Another writer folded partition 11 to 4 meanwhile.
    await db.query('UPDATE usage_log_positions SET folded_seq = 4, writer = $3 WHERE stream = $1 AND partition = $2', [STREAM, 11, 'writer-b']);
    const folds = foldQueue(db, { stream: STREAM, writer: 'writer-a', onError: (error) => expect.fail(String(error)) });
    // Two first folds keep the queue busy (two run at once on PostgreSQL), so that 10 and 11 go together into a next one.
    const first = Promise.all([12, 13].map((partition) => folds.fold(partition, [message(partition, 1)], 0)));
    // The order they settle in: 11 rejected first, then 10, folded again in a transaction of its own.
    // (Had they been folded apart, 10 would have committed before 11 was refused.)
    const settled: string[] = [];
    const [ten, eleven] = await Promise.allSettled([
      folds.fold(10, [message(10, 1), message(10, 2), message(10, 3)], 0).finally(() => settled.push('10')),
      folds.fold(11, [message(11, 1)], 0).finally(() => settled.push('11')),
    ]);
    expect(await first).toEqual([1, 1]);
    expect(settled).toEqual(['11', '10']);

    expect(ten).toEqual({ status: 'fulfilled', value: 3 });
    expect(eleven.status).toBe('rejected');
    expect((eleven as PromiseRejectedResult).reason).toBeInstanceOf(PartitionLost);
    const folded = await foldedSequences(db, STREAM, [10, 11]);
    expect(folded.get(10)).toBe(3);
    expect(folded.get(11)).toBe(4);
    expect(await storedOf(db, 10)).toBe(9);
    expect(await storedOf(db, 11)).toBe(0);
  });
});
