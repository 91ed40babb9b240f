import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import type { Database, Engine } from '../../src/lib/db/database.js';
import { openPglite } from '../../src/lib/db/pglite.js';
import { openPostgres } from '../../src/lib/db/postgres.js';

/** What `test/globalSetup.ts` prepares once per run: the databases each test database is a copy of. */
export interface DatabaseTemplates {
  /** The name of a migrated database on the PostgreSQL server, this run's own. */
  postgres: string;
  /** Files holding copies of an empty and of a migrated PGlite data directory. */
  pgliteEmpty: string;
  pgliteMigrated: string;
}

/**
 * A copy of a data directory that hands PGlite its bytes without copying them: `Blob.arrayBuffer`
 * makes a new copy at every open (tens of MB of memory first touched, ~0.1 s each here). PGlite
 * only reads them: it writes each file of the copy into a file system of its own.
 */
class TemplateBlob extends Blob {
  readonly #bytes: ArrayBuffer;
  constructor(bytes: Uint8Array) {
    super([bytes]);
    // A copy of its own, exactly its size: a Buffer may be a view into a larger, shared one.
    this.#bytes = new Uint8Array(bytes).buffer;
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.#bytes);
  }
}

/** Read once per test process: loading a copy takes ~0.2 s, initialising PGlite ~3 s. */
const pgliteTemplates = new Map<string, Blob>();
function pgliteTemplate(migrated: boolean): Blob {
  const file = inject('databaseTemplates')[migrated ? 'pgliteMigrated' : 'pgliteEmpty'];
  let template = pgliteTemplates.get(file);
  if (!template) pgliteTemplates.set(file, (template = new TemplateBlob(readFileSync(file))));
  return template;
}

/**
 * What every test PGlite runs with: a 16 MB buffer pool instead of the default 128 MB, which PGlite
 * sets up at each start (about half of opening a copy of the template). Test databases are small.
 */
export const TEST_PGLITE_SETTINGS = { shared_buffers: '16MB' };

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
 * A new database, empty or with `migrated` every migration applied: on PostgreSQL a database of
 * its own on the server (so test files run in parallel without seeing each other's rows); on
 * PGlite an in-memory one, or one persisted in `dataDir` when given. Each is a copy of the run's
 * template (`test/globalSetup.ts`), so neither engine initialises or migrates a database per test.
 */
export async function createTestDatabase(engine: Engine, { dataDir, migrated = false }: { dataDir?: string; migrated?: boolean } = {}): Promise<TestDatabase> {
  if (engine === 'pglite') {
    // A persisted directory is filled from the template on the first open only; a reopen finds it on disk.
    const settings = TEST_PGLITE_SETTINGS;
    let db = await openPglite({ ...(dataDir && { dataDir }), template: pgliteTemplate(migrated), settings });
    const open = () => openPglite(dataDir ? { dataDir, settings } : { template: pgliteTemplate(migrated), settings });
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
    await admin.query(`CREATE DATABASE ${name}${migrated ? ` TEMPLATE ${inject('databaseTemplates').postgres}` : ''}`);
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
