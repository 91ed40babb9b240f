import Metronome from '@metronome/sdk';
import { TestClock, systemClock, type Clock } from '../../src/lib/clock.js';
import type { Engine } from '../../src/lib/db/database.js';
import { migrate } from '../../src/lib/db/migrate.js';
import { buildServer, type ServerOptions } from '../../src/app.js';
import type { App } from '../../src/http/types.js';
import { createApiKey, ensureTenant } from '../../src/modules/tenants/service.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestServer {
  baseURL: string;
  database: TestDatabase;
  clock: Clock;
  /** The key of tenant `acme`, created with the server. */
  key: string;
  /** An SDK client for `key` (or another key), exactly as a user would make one. */
  client(key?: string, options?: { maxRetries?: number }): Metronome;
  /** A key for another tenant, creating the tenant when needed. */
  keyFor(tenant: string): Promise<string>;
  /** `POST /v1/allot/test-clock/advance` over HTTP, as a client moves the clock. */
  advanceClock(to: unknown): Promise<Response>;
  /** Stops the server and opens it again on the same database (the migrations are checked again), with other webhook or Stripe options when given. */
  restart(options?: { webhooks?: ServerOptions['webhooks']; stripe?: ServerOptions['stripe']; simulations?: ServerOptions['simulations'] }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Allot server listening on a free local port, on a fresh migrated database of `engine`
 * (the server still runs the migrator, which finds nothing to apply), with a test clock when
 * `clockStart` is given.
 */
export async function startTestServer({
  engine,
  clockStart,
  bodyLimit,
  register,
  webhooks,
  stripe,
  dataDir,
  periodClose,
  publicUrl,
  invoiceGracePeriodHours = 0,
  signInLimit,
  simulations,
  readFence,
  serverTiming,
}: {
  engine: Engine;
  clockStart?: string;
  bodyLimit?: number;
  register?: (app: App) => void;
  webhooks?: ServerOptions['webhooks'];
  periodClose?: ServerOptions['periodClose'];
  /** Stripe keys, API base (a local fake in tests) and push settings. */
  stripe?: ServerOptions['stripe'];
  /** Where browsers reach the server (`ALLOT_PUBLIC_URL`). */
  publicUrl?: string;
  /** The server's default invoice grace period (`ALLOT_INVOICE_GRACE_HOURS`); 0 here, so that a period is finalised as soon as it ends unless a test says otherwise. */
  invoiceGracePeriodHours?: number;
  /** Dashboard sign-ins with a wrong key allowed per address and window. */
  signInLimit?: ServerOptions['signInLimit'];
  /** Pricing simulations: `run: false` queues them without running them. */
  simulations?: ServerOptions['simulations'];
  /** PGlite only: persist the database there, so that `restart()` finds it again (in memory, a restart starts empty). */
  dataDir?: string;
  /** What account reads wait for first, as a usage log's node makes them wait (`ServiceContext.readFence`). */
  readFence?: ServerOptions['readFence'];
  /** Answer with a `Server-Timing` header (`ALLOT_SERVER_TIMING`). */
  serverTiming?: boolean;
}): Promise<TestServer> {
  const database = await createTestDatabase(engine, { ...(dataDir && { dataDir }), migrated: true });
  const testClock = clockStart ? new TestClock(new Date(clockStart)) : undefined;
  const clock = testClock ?? systemClock;

  let app: App;
  let baseURL = '';
  const listen = async () => {
    await migrate(database.db);
    // The receivers of the tests listen on 127.0.0.1: the server may send webhooks there unless a test says otherwise.
    app = await buildServer({ db: database.db, clock, testClock, bodyLimit, register, webhooks: { allowPrivateAddresses: true, ...webhooks }, periodClose, stripe, publicUrl, signInLimit, invoiceGracePeriodHours, simulations, readFence, serverTiming });
    baseURL = await app.listen({ port: 0, host: '127.0.0.1' });
  };
  await listen();

  const keyFor = async (tenant: string) => {
    const context = { db: database.db, clock };
    const { tenant: created } = await ensureTenant(context, tenant);
    return (await createApiKey(context, { tenantId: created.id, name: 'test' })).key;
  };
  const key = await keyFor('acme');

  return {
    get baseURL() {
      return baseURL;
    },
    database,
    clock,
    key,
    client(apiKey = key, options = {}) {
      return new Metronome({ bearerToken: apiKey, baseURL, maxRetries: options.maxRetries ?? 0 });
    },
    keyFor,
    advanceClock(to) {
      return fetch(`${baseURL}/v1/allot/test-clock/advance`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to }),
      });
    },
    async restart(options = {}) {
      await app.close();
      if (options.webhooks) webhooks = options.webhooks;
      if (options.stripe) stripe = options.stripe;
      if (options.simulations) simulations = options.simulations;
      await database.reopen();
      await listen();
    },
    async stop() {
      await app.close();
      await database.destroy();
    },
  };
}
