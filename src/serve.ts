import net from 'node:net';
import { systemClock, TestClock } from './lib/clock.js';
import type { ServiceContext } from './lib/context.js';
import type { Database } from './lib/db/database.js';
import { migrate } from './lib/db/migrate.js';
import { openDatabase } from './lib/db/open.js';
import type { Config } from './config.js';
import { purgeExpiredIdempotencyKeys } from './http/idempotency.js';
import { buildServer } from './app.js';
import type { App } from './http/types.js';
import { bootstrapDefaultTenant, type CreatedApiKey } from './modules/tenants/service.js';
import { startUsageLog, type UsageLogNode } from './modules/usage/service.js';
import packageJson from '../package.json' with { type: 'json' };

export interface RunningAllot {
  app: App;
  /** The database it opened (and closes on `stop`). */
  db: Database;
  baseUrl: string;
  /** The key of the `default` tenant, when this start created it (first start on an empty database). */
  bootstrapKey: CreatedApiKey | undefined;
  migrationsApplied: string[];
  /** With a usage log (`ALLOT_NATS_URL`): this process's part of it. */
  usageLog: UsageLogNode | undefined;
  stop(): Promise<void>;
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** What a start on a taken port says: what to do about it, not only the system's error code. */
export function portInUseMessage(host: string, port: number): string {
  return (
    `Port ${port} on ${host} is in use (EADDRINUSE): stop what listens there (another Allot? Ctrl-C in its terminal), ` +
    `or start on another port with PORT=${port + 1} npm start (allot serve --port ${port + 1}).`
  );
}

const isAddressInUse = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';

/**
 * Fails at once when the port is taken, before the database is opened (a first start on PGlite
 * initialises it for several seconds, only to fail at `listen`). The real `listen` still decides.
 */
async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error) => reject(isAddressInUse(error) ? new Error(portInUseMessage(host, port)) : error));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Opens the database, applies pending migrations, creates the first tenant if there is none, and listens. */
export async function startAllot(config: Config): Promise<RunningAllot> {
  await ensurePortFree(config.host, config.port);
  const db = await openDatabase(config);
  let usageLog: UsageLogNode | undefined;
  try {
    const testClock = config.testClockStart ? new TestClock(config.testClockStart) : undefined;
    const context: ServiceContext = { db, clock: testClock ?? systemClock, invoiceGracePeriodHours: config.invoiceGracePeriodHours };
    const migrationsApplied = await migrate(db);
    // Usage through the log: this process publishes ingest to it and, unless it only serves the API, folds its share.
    let logErrors: (error: unknown) => void = (error) => console.error('usage log:', error);
    usageLog = config.nats
      ? await startUsageLog(context, config.nats, { write: config.role !== 'api', onError: (error) => logErrors(error) })
      : undefined;
    const app = await buildServer({
      ...context,
      testClock,
      bodyLimit: config.bodyLimit,
      invoiceGracePeriodHours: config.invoiceGracePeriodHours,
      webhooks: config.webhooks,
      stripe: config.stripe,
      publicUrl: config.publicUrl,
      trustProxy: config.trustProxy,
      serverTiming: config.serverTiming,
      signInLimit: { maxFailures: config.signInMaxFailures },
      logger: { level: config.logLevel },
      version: packageJson.version,
      readFence: usageLog?.fence,
      register: usageLog ? (app) => usageLog!.registerMetrics(app) : undefined,
    });
    logErrors = (error) => app.log.error({ err: error }, 'usage log');
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (error) {
      throw isAddressInUse(error) ? new Error(portInUseMessage(config.host, config.port)) : error;
    }
    // Only now, so that a start that fails (a port in use) never creates a key nobody saw.
    const bootstrapKey = await bootstrapDefaultTenant(context);
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const baseUrl = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

    const purge = setInterval(() => {
      purgeExpiredIdempotencyKeys(context).catch((error) => app.log.error({ err: error }, 'idempotency purge failed'));
    }, PURGE_INTERVAL_MS);
    purge.unref();

    return {
      app,
      db,
      baseUrl,
      bootstrapKey,
      migrationsApplied,
      usageLog,
      async stop() {
        clearInterval(purge);
        await app.close();
        await usageLog?.stop();
        await db.close();
      },
    };
  } catch (error) {
    await usageLog?.stop();
    await db.close();
    throw error;
  }
}

