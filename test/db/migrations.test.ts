import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, migrationName } from '../../src/lib/db/migrate.js';
import { openPostgres } from '../../src/lib/db/postgres.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../helpers/database.js';

const ALL = loadMigrations().map(migrationName);

describe.each(ENGINES)('migrations on %s', (engine) => {
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await database?.destroy();
    database = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('apply to an empty database; a second start applies nothing and loses nothing', async () => {
    // PGlite is persisted in a directory here, so "restart" really reopens it from disk.
    dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'allot-migrate-')) : undefined;
    database = await createTestDatabase(engine, dataDir ? { dataDir } : {});
    expect(ALL.length).toBeGreaterThanOrEqual(3);
    expect(await migrate(database.db)).toEqual(ALL);
    await database.db.query(`INSERT INTO tenants (id, name, created_at) VALUES ('0190f1e2-0000-7000-8000-000000000001', 'kept', now())`);

    const reopened = await database.reopen();
    expect(await migrate(reopened)).toEqual([]);
    expect(await reopened.query('SELECT name FROM tenants')).toEqual([{ name: 'kept' }]);
    expect(await reopened.query('SELECT version FROM allot_migrations ORDER BY version')).toEqual(ALL.map((_, i) => ({ version: i + 1 })));
    // Migrated and reopened on disk: 4-12 s on a busy 2-core machine, past 30 s at times.
  }, 120_000);

  it('refuses to start when an applied migration was edited', async () => {
    // A copy of the run's migrated database: what `migrate` leaves.
    database = await createTestDatabase(engine, { migrated: true });
    const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'changed' } : m));
    await expect(migrate(database.db, edited)).rejects.toThrow(/0001_tenants_and_api_keys was changed after it was applied/);
  });

  it('refuses to run against a database migrated by a newer Allot', async () => {
    // A copy of the run's migrated database: what `migrate` leaves.
    database = await createTestDatabase(engine, { migrated: true });
    await expect(migrate(database.db, loadMigrations().slice(0, 1))).rejects.toThrow(/does not know; run a newer Allot/);
  });

  it('rolls back a failing migration whole, leaving the database as it was', async () => {
    database = await createTestDatabase(engine);
    // The first migration, then one that fails: one run, so the first is undone with it. (Not every
    // migration: applying them all again in WASM only adds seconds. That none of them ends the run's
    // transaction early is the test below.)
    const broken = [
      loadMigrations()[0]!,
      { version: 2, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT * FROM no_such_table;', checksum: 'x' },
    ];
    await expect(migrate(database.db, broken)).rejects.toThrow(/no_such_table/);
    expect(await database.db.query(`SELECT to_regclass('tenants') AS t, to_regclass('half_done') AS h`)).toEqual([{ t: null, h: null }]);
  });
});

describe('migration files', () => {
  it('never end or start a transaction themselves, so a failing run undoes every migration of it', () => {
    for (const migration of loadMigrations()) {
      // Comments and string literals may name COMMIT ('COMMIT' is a grant kind); statements may not.
      const statements = migration.sql.replace(/--[^\n]*/g, '').replace(/'(?:[^']|'')*'/g, "''");
      expect(statements, migration.name).not.toMatch(/\b(COMMIT|ROLLBACK|ABORT|SAVEPOINT|START\s+TRANSACTION|END\s+TRANSACTION)\b|\bBEGIN\s*;/i);
    }
  });
});

describe('migrations on PostgreSQL, from several processes at once', () => {
  it('are applied once when several servers start together', async () => {
    const database = await createTestDatabase('postgres');
    try {
      // Separate pools stand in for separate processes racing at start-up.
      const pools = Array.from({ length: 4 }, () => openPostgres({ url: database.url!, poolSize: 1 }));
      const results = await Promise.all(pools.map((pool) => migrate(pool)));
      await Promise.all(pools.map((pool) => pool.close()));
      expect(results.filter((applied) => applied.length > 0)).toEqual([ALL]);
      expect(await database.db.query('SELECT count(*)::int AS n FROM allot_migrations')).toEqual([{ n: ALL.length }]);
    } finally {
      await database.destroy();
    }
  });
});
