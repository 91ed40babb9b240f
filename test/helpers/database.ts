import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database, Engine } from '../../src/lib/db/database.js';
import { emptyPgliteTemplate, openPglite } from '../../src/lib/db/pglite.js';
import { openPostgres } from '../../src/lib/db/postgres.js';

let pgliteTemplate: Promise<Blob> | undefined;

/** Every database test runs on both engines. */
export const ENGINES: Engine[] = ['postgres', 'pglite'];

/** The PostgreSQL server the suite uses: `DATABASE_URL`, or the local server every machine here has. */
export function serverUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export interface TestDatabase {
  engine: Engine;
  db: Database;
  /** The connection URL (PostgreSQL only). */
  url?: string;
  /** Closes the connection and opens the same database again, as a restarted server would. */
  reopen(): Promise<Database>;
  /** Closes the database and deletes it. */
  destroy(): Promise<void>;
}

/**
 * A new, empty database: on PostgreSQL a database of its own on the server (so test files run in
 * parallel without seeing each other's rows); on PGlite an in-memory one, or one persisted in
 * `dataDir` when given.
 */
export async function createTestDatabase(engine: Engine, { dataDir }: { dataDir?: string } = {}): Promise<TestDatabase> {
  if (engine === 'pglite') {
    // In memory, from one empty data directory per test process: initialising one takes ~3 s, loading a copy ~0.5 s.
    const open = async () => openPglite(dataDir ? { dataDir } : { template: await (pgliteTemplate ??= emptyPgliteTemplate()) });
    let db = await open();
    return {
      engine,
      get db() {
        return db;
      },
      async reopen() {
        await db.close();
        db = await open();
        return db;
      },
      async destroy() {
        await db.close();
      },
    };
  }

  const name = `allot_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  let db = openPostgres({ url: url.toString(), poolSize: 5 });
  return {
    engine,
    url: url.toString(),
    get db() {
      return db;
    },
    async reopen() {
      await db.close();
      db = openPostgres({ url: url.toString(), poolSize: 5 });
      return db;
    },
    async destroy() {
      await db.close();
      const cleanup = new pg.Client({ connectionString: serverUrl() });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
