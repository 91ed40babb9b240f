import pg from 'pg';
import type { Database, Transaction } from './database.js';

export interface PostgresOptions {
  url: string;
  /** Connections in the pool; defaults to 10. */
  poolSize?: number;
}

/** A `Database` on a PostgreSQL server, through a `pg` connection pool. */
export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    application_name: 'allot',
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener the
  // process would crash. The next query gets a fresh connection.
  pool.on('error', () => {});

  return {
    engine: 'postgres',
    async query(text, params) {
      const result = await pool.query(text, params as unknown[] | undefined);
      return result.rows;
    },
    async transaction(work) {
      const client = await pool.connect();
      const tx: Transaction = {
        async query(text, params) {
          const result = await client.query(text, params as unknown[] | undefined);
          return result.rows;
        },
        async execScript(script) {
          await client.query(script);
        },
      };
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone; do not hand it back to the pool
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
