import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.js';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../migrations');

interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** A migration as its file is named, without `.sql`: `0002_customers`. */
export function migrationName(migration: { version: number; name: string }): string {
  return `${String(migration.version).padStart(4, '0')}_${migration.name}`;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// Any constant works; it only has to be the same for every Allot process on one database.
const MIGRATION_LOCK = 7_414_001;

/** Reads `NNNN_name.sql` files in version order; a gap or a duplicate version is an error. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new Error(`Migration file ${file} is not named NNNN_name.sql`);
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(match[1]),
        name: match[2]!,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`Migrations must be numbered 0001, 0002, … without gaps; found ${migration.version} at position ${index + 1}`);
    }
  });
  return migrations;
}

/**
 * Applies the migrations not yet applied, in order, all in one transaction under an advisory
 * lock, so two processes starting at once apply each migration once. A migration that was
 * applied and has since been edited stops start-up: migrations are append-only.
 * Returns the names of the migrations it applied (none on a second start).
 */
export async function migrate(db: Database, migrations: Migration[] = loadMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.execScript(`
      CREATE TABLE IF NOT EXISTS allot_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const applied = await tx.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM allot_migrations ORDER BY version',
    );
    const appliedByVersion = new Map(applied.map((row) => [row.version, row]));
    for (const row of applied) {
      const known = migrations.find((migration) => migration.version === row.version);
      if (!known) {
        throw new Error(`The database has migration ${migrationName(row)}, which this version of Allot does not know; run a newer Allot`);
      }
      if (known.checksum !== row.checksum) {
        throw new Error(`Migration ${migrationName(row)} was changed after it was applied; add a new migration instead`);
      }
    }
    const pending = migrations.filter((migration) => !appliedByVersion.has(migration.version));
    for (const migration of pending) {
      await tx.execScript(migration.sql);
      await tx.query('INSERT INTO allot_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
    }
    return pending.map(migrationName);
  });
}
