import type pg from 'pg';

/**
 * Samples what the server's connections are doing in PostgreSQL (pg_stat_activity) every few
 * milliseconds: which statements are running and what they wait on. pg_stat_statements needs
 * shared_preload_libraries (a server restart); this needs nothing.
 */
export function sampleDatabaseActivity(pool: pg.Pool, { databaseName, intervalMs = 20 }: { databaseName: string; intervalMs?: number }) {
  const counts = new Map<string, number>();
  let samples = 0;
  let busyConnections = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      // 'idle in transaction' is a transaction waiting on the Node process between two statements.
      const { rows } = await pool.query<{ query: string; wait: string | null }>(
        `SELECT regexp_replace(left(query, 160), '\\s+', ' ', 'g') AS query,
                CASE WHEN state = 'idle in transaction' THEN 'idle in transaction (after this statement)'
                     WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS wait
           FROM pg_stat_activity
          WHERE datname = $1 AND application_name = 'allot' AND state IN ('active', 'idle in transaction') AND pid <> pg_backend_pid()`,
        [databaseName],
      );
      samples++;
      busyConnections += rows.length;
      for (const row of rows) {
        const key = `${row.wait ?? 'CPU'} | ${row.query}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const total = [...counts.values()].reduce((sum, value) => sum + value, 0);
      return {
        samples,
        mean_active_connections: Number((busyConnections / Math.max(1, samples)).toFixed(2)),
        top: [...counts.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(([key, count]) => {
            const [wait, query] = key.split(' | ');
            return { share: Number((count / Math.max(1, total)).toFixed(3)), wait, query };
          }),
      };
    },
  };
}
