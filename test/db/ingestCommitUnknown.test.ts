import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalsOf, type UsageCommitted } from '../../src/lib/context.js';
import type { Database } from '../../src/lib/db/database.js';
import { runIngestBatch, type IngestEvent } from '../../src/modules/usage/ingestBatch.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * An ingest whose commit went through but whose caller heard an error (the connection ended with
 * the commit's answer) is announced without the rows it added, so that this process's kept usage
 * is read again rather than extended; one that failed before its commit is not announced.
 */
describe.each(ENGINES)('an ingest commit of unknown outcome on %s', (engine) => {
  let server: TestServer;
  let tenantId: string;
  let customerId: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T10:00:00Z' });
    const client = server.client();
    await client.v1.billableMetrics.create({ name: 'Calls', event_type_filter: { in_values: ['call'] }, aggregation_type: 'COUNT' });
    customerId = (await client.v1.customers.create({ name: 'Unknown outcome', ingest_aliases: ['unknown-outcome'] })).data.id;
    tenantId = (await server.database.db.query<{ id: string }>("SELECT id FROM tenants WHERE name = 'acme'"))[0]!.id;
  }, 60_000);
  afterAll(() => server?.stop());

  const call = (id: string): IngestEvent => ({ transactionId: id, customerRef: 'unknown-outcome', eventType: 'call', timestamp: new Date('2024-04-10T09:30:00Z'), properties: {} });

  /** `db`, except that its transactions fail: after committing (`after`), or before running anything. */
  const failing = (db: Database, after: boolean): Database => {
    const wrapped = Object.create(db) as Database;
    wrapped.transaction = (async (work: Parameters<Database['transaction']>[0]) => {
      if (!after) throw new Error('connection refused');
      await db.transaction(work);
      throw new Error('connection lost with the commit’s answer');
    }) as Database['transaction'];
    return wrapped;
  };

  const ingest = async (db: Database, id: string) => {
    const signals: UsageCommitted[] = [];
    const off = signalsOf(db).on('usageCommitted', (signal) => signals.push(signal));
    let rejected: unknown;
    const committed = await runIngestBatch(db, [{ tenantId, events: [call(id)], receivedAt: new Date(), resolve: () => undefined, reject: (error) => (rejected = error) }]);
    off?.();
    return { committed, signals, rejected };
  };

  it('announces a commit that went through unheard without its rows, and stores it once', async () => {
    const { committed, signals, rejected } = await ingest(failing(server.database.db, true), 'unknown-1');
    expect(committed).toBe(false);
    expect((rejected as Error).message).toBe('connection lost with the commit’s answer');
    expect(signals).toHaveLength(1);
    expect(signals[0]!.customerIds).toEqual([customerId]);
    expect(signals[0]!.since?.get(customerId)).toEqual(new Date('2024-04-10T09:00:00Z'));
    expect(signals[0]!.rollups).toBeUndefined();
    // It did commit: the retry finds the event stored.
    const retry = await ingest(server.database.db, 'unknown-1');
    expect(retry.committed).toBe(true);
    expect(retry.signals).toHaveLength(0);
  });

  it('announces nothing when the transaction failed before its commit, and the rows with a commit heard', async () => {
    const refused = await ingest(failing(server.database.db, false), 'unknown-2');
    expect(refused.committed).toBe(false);
    expect(refused.signals).toHaveLength(0);
    const heard = await ingest(server.database.db, 'unknown-2');
    expect(heard.committed).toBe(true);
    expect(heard.signals).toHaveLength(1);
    expect(heard.signals[0]!.rollups?.get(customerId)).toHaveLength(1);
    expect(heard.signals[0]!.sequence).toBeGreaterThan(0);
  });
});
