import pg from 'pg';
import type { Database, Listening, NotificationListener, QueryOptions, Transaction } from './database.js';

export interface PostgresOptions {
  url: string;
  /** Connections in the pool; defaults to 10. */
  poolSize?: number;
}

/** A statement for `pg`: named, so that each connection parses it once, when `prepare` names it. */
function configOf(text: string, params: readonly unknown[] | undefined, options: QueryOptions | undefined): pg.QueryConfig {
  return { text, values: params as unknown[] | undefined, ...(options?.prepare !== undefined && { name: options.prepare }) };
}

/** A `Database` on a PostgreSQL server, through a `pg` connection pool. */
export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    application_name: 'allot',
    // Waiting for a connection fails after 10 s instead of hanging a request forever; and the
    // server ends any transaction left idle for a minute, so that a bug holding one open cannot
    // block the rows it locked indefinitely.
    connectionTimeoutMillis: 10_000,
    idle_in_transaction_session_timeout: 60_000,
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener the
  // process would crash. The next query gets a fresh connection.
  pool.on('error', () => {});

  return {
    engine: 'postgres',
    async query(text, params, options) {
      const result = await pool.query(configOf(text, params, options));
      return result.rows;
    },
    async transaction(work) {
      const client = await pool.connect();
      let broken = false;
      // While a client is checked out the pool does not listen for its errors; a connection the
      // server ends mid-transaction would otherwise crash the process instead of failing the query.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      // One connection runs one query at a time: queries issued together (Promise.all over the
      // transaction) run in the order they were issued.
      let previous: Promise<unknown> = Promise.resolve();
      const tx: Transaction = {
        async query(text, params, options) {
          const result = previous.then(() => client.query(configOf(text, params, options)));
          previous = result.catch(() => undefined);
          return (await result).rows;
        },
        async execScript(script) {
          await client.query(script);
        },
      };
      try {
        await client.query('BEGIN');
        const result = await work(tx);
        await previous;
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          // Queries still queued (a Promise.all whose other branch failed) run first, inside the
          // failed transaction, so none of them can run after it on a connection given back.
          await previous;
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone; do not hand it back to the pool
        }
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    listen: (listener) => listenOn(options.url, listener),
    async close() {
      await pool.end();
    },
  };
}

/** How long a lost LISTEN connection waits before connecting again. */
const RELISTEN_DELAY_MS = 500;

/** LISTENs over a connection of its own, reconnecting after it drops, until stopped. */
async function listenOn(url: string, listener: NotificationListener): Promise<Listening> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    // TCP keepalive: a connection gone half-open is found and replaced, not left queueing barriers that never return.
    const next = new pg.Client({ connectionString: url, application_name: 'allot-listen', keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    next.on('notification', (message) => listener.onNotification(message.channel, message.payload ?? ''));
    let lost = false;
    const onLost = (error: unknown) => {
      if (lost || stopped) return;
      lost = true;
      if (client === next) client = undefined;
      listener.onLost(error);
      next.end().catch(() => undefined);
      retry = setTimeout(() => connect().catch(() => undefined), RELISTEN_DELAY_MS);
      retry.unref();
    };
    next.on('error', onLost);
    next.on('end', () => onLost(new Error('LISTEN connection ended')));
    try {
      await next.connect();
      for (const channel of listener.channels) await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      onLost(error);
      throw error;
    }
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
    listener.onConnection();
  };
  // A database unreachable now is tried again in the background (`onLost` was told): starting never fails for it.
  await connect().catch(() => undefined);
  return {
    async notify(channel, payload) {
      if (!client) throw new Error('the LISTEN connection is down');
      await client.query({ text: 'SELECT pg_notify($1, $2)', values: [channel, payload], name: 'allot_listen_notify' });
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}

const DATE = 1082;
const NUMERIC_ARRAY = 1231;
const TEXT_ARRAY = 1009;
const asText = (value: string) => value;

/**
 * The same JS types as PGlite: `numeric[]` as strings (pg's default would make money JS numbers)
 * and `date` as `YYYY-MM-DD` text (pg's default is a local-time Date, which shifts with TZ).
 */
function typeParser(oid: number, format?: 'text' | 'binary') {
  if (oid === DATE) return asText;
  if (oid === NUMERIC_ARRAY) return pg.types.getTypeParser(TEXT_ARRAY as Parameters<typeof pg.types.getTypeParser>[0], 'text');
  return pg.types.getTypeParser(oid, format ?? 'text');
}
