import { redactUrl } from './redactUrl.js';
import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export interface DatabaseConfig {
  /** A PostgreSQL URL; without one, Allot runs on PGlite in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number | undefined;
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.databaseUrl) {
    const db = openPostgres({ url: config.databaseUrl, ...(config.poolSize ? { poolSize: config.poolSize } : {}) });
    try {
      await db.query('SELECT 1');
    } catch (error) {
      await db.close();
      throw new Error(`Cannot connect to PostgreSQL at ${redactUrl(config.databaseUrl)}: ${(error as Error).message}`);
    }
    return db;
  }
  return openPglite({ dataDir: config.dataDir });
}
