import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/lib/db/migrate.js';
import { pgliteTemplate } from '../src/lib/db/pglite.js';
import { openPostgres } from '../src/lib/db/postgres.js';
import type { Database } from '../src/lib/db/database.js';
import { serverUrl, TEST_PGLITE_SETTINGS, type DatabaseTemplates } from './helpers/database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseTemplates: DatabaseTemplates;
  }
}

/**
 * Once per run, before any test file: the databases every test database is copied from, so that no
 * file initialises PGlite (3 s of WASM) or runs the migrations itself. On PostgreSQL, a migrated
 * database of this run's own (several runs may share the server); on PGlite, copies of an empty
 * and of a migrated data directory, in files the test processes read.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const directory = mkdtempSync(join(tmpdir(), 'allot-test-templates-'));
  const postgres = `allot_template_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  const migratedPostgres = async () => {
    await admin(`CREATE DATABASE ${postgres}`);
    const url = new URL(serverUrl());
    url.pathname = `/${postgres}`;
    // Closed before any copy is made: PostgreSQL copies a database only while nobody is connected to it.
    const db = openPostgres({ url: url.toString(), poolSize: 1 });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
  };
  const pgliteTemplates = async () => {
    const empty = await pgliteTemplate({ settings: TEST_PGLITE_SETTINGS, initdbArgs: ['--wal-segsize=1'], prepare: compact });
    const migrated = await pgliteTemplate({
      from: empty,
      prepare: async (db) => {
        await migrate(db);
        await compact(db);
      },
      settings: TEST_PGLITE_SETTINGS,
    });
    writeFileSync(join(directory, 'pglite-empty.tar'), Buffer.from(await empty.arrayBuffer()));
    writeFileSync(join(directory, 'pglite-migrated.tar'), Buffer.from(await migrated.arrayBuffer()));
  };

  /**
   * A PGlite copy is loaded into memory at every open, and memory first touched is most of that
   * time here: the copies leave out what no test reads. WAL segments of 1 MB (`initdb
   * --wal-segsize=1`, where the default 16 MB segment was a third of a copy; initdb leaves six
   * spare ones, 6 MB, which stay); and the databases `template0` and `template1` (Allot uses
   * `postgres`, and tests create no database on PGlite). 42.5 MB became 17.9 MB, and an open takes
   * about a third of the time.
   */
  const compact = async (db: Database) => {
    for (const name of ['template0', 'template1']) {
      if ((await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 0) continue;
      await db.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE false`);
      await db.query(`DROP DATABASE ${name}`);
    }
    await db.query('CHECKPOINT');
  };

  const teardown = async () => {
    rmSync(directory, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS ${postgres} WITH (FORCE)`);
  };
  try {
    // One after the other: PGlite's WASM holds the event loop, and a PostgreSQL connection opened meanwhile would time out.
    await migratedPostgres();
    await pgliteTemplates();
  } catch (error) {
    await teardown();
    throw error;
  }
  project.provide('databaseTemplates', {
    postgres,
    pgliteEmpty: join(directory, 'pglite-empty.tar'),
    pgliteMigrated: join(directory, 'pglite-migrated.tar'),
  });
  return teardown;
}
