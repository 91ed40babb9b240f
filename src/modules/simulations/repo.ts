import type { Queryable } from '../../lib/db/database.js';
import type { StoredRequest, StoredResult } from './stored.js';

export type SimulationStatus = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';

export interface SimulationRow {
  tenant_id: string;
  id: string;
  status: SimulationStatus;
  request: StoredRequest;
  customer_ids: string[];
  customer_count: number;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
  lease_owner: string | null;
  lease_until: Date | null;
}

export interface ResultRow {
  position: number;
  customer_id: string;
  result: StoredResult;
}

const COLUMNS = 'tenant_id, id, status, request, customer_ids, customer_count, error, created_at, finished_at, lease_owner, lease_until';

/** Stores a new simulation: queued, or (`lease`) running, held by the runner that will run it now. */
export async function insertSimulation(
  db: Queryable,
  row: Omit<SimulationRow, 'status' | 'error' | 'finished_at' | 'lease_owner' | 'lease_until'>,
  lease?: { owner: string; until: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO pricing_simulations (tenant_id, id, status, request, customer_ids, customer_count, created_at, lease_owner, lease_until)
     VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9)`,
    [row.tenant_id, row.id, lease ? 'running' : 'queued', JSON.stringify(row.request), JSON.stringify(row.customer_ids), row.customer_count, row.created_at, lease?.owner ?? null, lease?.until ?? null],
  );
}

export async function findSimulation(db: Queryable, tenantId: string, id: string): Promise<SimulationRow | undefined> {
  const [row] = await db.query<SimulationRow>(`SELECT ${COLUMNS} FROM pricing_simulations WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return row;
}

/** The tenant's simulations, newest first, after `afterId` in that order. */
export async function listSimulations(db: Queryable, tenantId: string, { afterId, limit }: { afterId: string | null; limit: number }): Promise<SimulationRow[]> {
  return db.query<SimulationRow>(
    `SELECT ${COLUMNS} FROM pricing_simulations WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3`,
    [tenantId, afterId, limit],
  );
}

export async function listResults(db: Queryable, tenantId: string, simulationIds: readonly string[]): Promise<(ResultRow & { simulation_id: string })[]> {
  if (simulationIds.length === 0) return [];
  return db.query(
    `SELECT simulation_id, position, customer_id, result FROM pricing_simulation_results WHERE tenant_id = $1 AND simulation_id = ANY($2::uuid[]) ORDER BY simulation_id, position`,
    [tenantId, simulationIds],
  );
}

/** How many customers of the simulation have a stored result: the next position to replay. */
export async function resultCount(db: Queryable, tenantId: string, simulationId: string): Promise<number> {
  const [row] = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM pricing_simulation_results WHERE tenant_id = $1 AND simulation_id = $2`, [tenantId, simulationId]);
  return row?.count ?? 0;
}

export async function insertResult(db: Queryable, tenantId: string, simulationId: string, row: ResultRow): Promise<void> {
  await db.query(
    `INSERT INTO pricing_simulation_results (tenant_id, simulation_id, position, customer_id, result) VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT DO NOTHING`,
    [tenantId, simulationId, row.position, row.customer_id, JSON.stringify(row.result)],
  );
}

/**
 * Takes the lease of an unfinished simulation whose lease is free or lapsed (`at` the wall clock),
 * and marks it running: the given one, or the oldest of any tenant. Undefined when there is none.
 */
export async function claim(db: Queryable, { owner, at, until, simulation }: { owner: string; at: Date; until: Date; simulation?: { tenantId: string; id: string } | undefined }): Promise<SimulationRow | undefined> {
  const [row] = await db.query<SimulationRow>(
    `UPDATE pricing_simulations s SET status = 'running', lease_owner = $1, lease_until = $3
      WHERE (s.tenant_id, s.id) = (
        SELECT tenant_id, id FROM pricing_simulations
         WHERE status IN ('queued', 'running')
           -- Free, or (a claim of one simulation) held by the same owner: stored already held, to run at once.
           AND (lease_until IS NULL OR lease_until < $2 OR ($4::uuid IS NOT NULL AND lease_owner = $1))
           AND ($4::uuid IS NULL OR (tenant_id = $4::uuid AND id = $5::uuid))
         ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS.split(', ').map((column) => `s.${column}`).join(', ')}`,
    [owner, at, until, simulation?.tenantId ?? null, simulation?.id ?? null],
  );
  return row;
}

/** Extends the lease while `owner` holds it and the simulation runs; false when it does not (cancelled, or taken over). */
export async function renewLease(db: Queryable, { tenantId, id, owner, until }: { tenantId: string; id: string; owner: string; until: Date }): Promise<boolean> {
  const rows = await db.query(`UPDATE pricing_simulations SET lease_until = $4 WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND status = 'running' RETURNING id`, [tenantId, id, owner, until]);
  return rows.length > 0;
}

/** Ends a running simulation `owner` holds: completed or failed. */
export async function finish(db: Queryable, { tenantId, id, owner, status, error, at }: { tenantId: string; id: string; owner: string; status: 'completed' | 'failed'; error: string | null; at: Date }): Promise<void> {
  await db.query(
    `UPDATE pricing_simulations SET status = $4, error = $5, finished_at = $6, lease_owner = NULL, lease_until = NULL
      WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND status = 'running'`,
    [tenantId, id, owner, status, error, at],
  );
}

/** Cancels an unfinished simulation; undefined when it had finished (or is none of the tenant's). */
export async function cancel(db: Queryable, { tenantId, id, at }: { tenantId: string; id: string; at: Date }): Promise<SimulationRow | undefined> {
  const [row] = await db.query<SimulationRow>(
    `UPDATE pricing_simulations SET status = 'cancelled', finished_at = $3, lease_owner = NULL, lease_until = NULL
      WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running') RETURNING ${COLUMNS}`,
    [tenantId, id, at],
  );
  return row;
}

/** Per simulation among `simulationIds`: how many customers have a result, and the sums of their totals (decimal text). */
export async function resultTotals(db: Queryable, tenantId: string, simulationIds: readonly string[]): Promise<Map<string, { count: number; actual: string; simulated: string }>> {
  if (simulationIds.length === 0) return new Map();
  const rows = await db.query<{ simulation_id: string; count: number; actual: string; simulated: string }>(
    `SELECT simulation_id, count(*)::int AS count, sum((result->>'actual_total')::numeric)::text AS actual, sum((result->>'simulated_total')::numeric)::text AS simulated
       FROM pricing_simulation_results WHERE tenant_id = $1 AND simulation_id = ANY($2::uuid[]) GROUP BY simulation_id`,
    [tenantId, simulationIds],
  );
  return new Map(rows.map(({ simulation_id, ...totals }) => [simulation_id, totals]));
}

/** Lets go of the leases `owner` holds (its process is stopping): another process takes the simulations up at once. */
export async function releaseLeases(db: Queryable, owner: string): Promise<void> {
  await db.query(`UPDATE pricing_simulations SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 AND status = 'running'`, [owner]);
}
