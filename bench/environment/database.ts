import pg from 'pg';

/** The bench's own database on the PostgreSQL server: dropped and created afresh for each run. */
export interface BenchDatabase {
  url: string;
  /** A small pool on the bench database, for the bench's own queries (never for the measured load). */
  pool: pg.Pool;
  drop(): Promise<void>;
  close(): Promise<void>;
}

async function onServer<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, application_name: 'allot-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops `name` on the server of `serverUrl` (if it exists) and creates it empty. */
export async function createBenchDatabase(serverUrl: string, name: string): Promise<BenchDatabase> {
  await onServer(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4, application_name: 'allot-bench' });
  pool.on('error', () => {});
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await pool.end();
  };
  return {
    url: url.toString(),
    pool,
    close,
    async drop() {
      await close();
      await onServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** Flushes dirty pages before a timed phase so that one phase does not pay for the previous one's writes (superuser only; skipped otherwise). */
export async function checkpoint(pool: pg.Pool): Promise<void> {
  try {
    await pool.query('CHECKPOINT');
  } catch {
    // Not a superuser: phases then share checkpoint costs, which the JSON cannot show.
  }
}

export interface PostgresInfo {
  version: string;
  settings: Record<string, string>;
  pg_stat_statements: 'loaded' | 'available, not in shared_preload_libraries' | 'not installed';
}

const REPORTED_SETTINGS = ['shared_buffers', 'synchronous_commit', 'wal_level', 'max_wal_size', 'checkpoint_timeout', 'fsync', 'max_connections', 'work_mem'];

export async function postgresInfo(pool: pg.Pool): Promise<PostgresInfo> {
  const version = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  const settings = await pool.query<{ name: string; setting: string; unit: string | null }>(
    'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name',
    [REPORTED_SETTINGS],
  );
  const available = await pool.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'");
  const preload = (await pool.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'")).rows[0]?.setting ?? '';
  return {
    version,
    settings: Object.fromEntries(settings.rows.map((row) => [row.name, row.unit ? `${row.setting} (${row.unit})` : row.setting])),
    pg_stat_statements: preload.includes('pg_stat_statements')
      ? 'loaded'
      : available.rowCount
        ? 'available, not in shared_preload_libraries'
        : 'not installed',
  };
}
