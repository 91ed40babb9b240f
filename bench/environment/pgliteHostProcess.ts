/**
 * A process of its own (forked by `pgliteHost.ts`): Allot on PGlite in a fresh data directory,
 * serving HTTP, and on request the raw insert baseline on the same PGlite, in the same process.
 *
 * Messages from the parent: `{ raw: RawSpec }` → `{ rawResult: LoadResult }`; `{ stop: true }`
 * stops Allot, deletes the directory and exits. On start it sends `{ ready: { baseUrl, key, tenantId } }`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/lib/db/database.js';
import { startAllot } from '../../src/serve.js';
import { EventFactory, type EventSpace } from '../load/events.js';
import { RAW_INSERT, RAW_TABLE, type LoadResult } from '../load/protocol.js';

export interface RawSpec {
  space: EventSpace;
  batchSize: number;
  warmupMs: number;
  durationMs: number;
}

/** Batches of the raw insert one after another (PGlite has one connection), as the PostgreSQL baseline's lanes do. */
async function rawInsert(db: Database, spec: RawSpec): Promise<LoadResult> {
  for (const statement of RAW_TABLE) await db.query(statement);
  const factory = new EventFactory(spec.space);
  const latencies: number[] = [];
  let requests = 0;
  let events = 0;
  let eventsAccepted = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const recordFrom = start + spec.warmupMs;
  const deadline = recordFrom + spec.durationMs;
  let last = recordFrom;
  while (performance.now() < deadline) {
    const batch = factory.rawBatch(spec.batchSize);
    const sent = performance.now();
    await db.query(RAW_INSERT, [batch.tenantIds, batch.transactionIds, batch.customerRefs, batch.customerIds, batch.eventTypes, batch.timestamps, batch.properties, batch.receivedAt]);
    last = performance.now();
    eventsAccepted += spec.batchSize;
    if (sent < recordFrom) continue;
    requests++;
    events += spec.batchSize;
    latencies.push(last - sent);
  }
  const cpu = process.cpuUsage(cpuStart);
  return {
    requests,
    events,
    eventsAccepted,
    errors: {},
    errorSamples: [],
    elapsedMs: last - recordFrom,
    latenciesMs: latencies,
    lateStarts: 0,
    cpuFraction: (cpu.user + cpu.system) / 1000 / (last - start),
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'allot-bench-pglite-'));
const env: NodeJS.ProcessEnv = { ...process.env, ALLOT_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
delete env.DATABASE_URL;
delete env.ALLOT_NATS_URL;
const allot = await startAllot(loadConfig(env));
const [tenant] = await allot.db.query<{ id: string }>("SELECT id FROM tenants WHERE name = 'default'");
process.send!({ ready: { baseUrl: allot.baseUrl, key: allot.bootstrapKey?.key, tenantId: tenant?.id } });
process.on('message', (message: { raw?: RawSpec; stop?: true }) => {
  if (message.raw) {
    rawInsert(allot.db, message.raw).then(
      (rawResult) => process.send!({ rawResult }),
      (error: unknown) => process.send!({ error: (error as Error).message }),
    );
  }
  if (message.stop) {
    void allot.stop().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
