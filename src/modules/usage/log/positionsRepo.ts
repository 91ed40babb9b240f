import type { Database, Queryable } from '../../../lib/db/database.js';
import { isUuid } from '../../../lib/ids.js';

/**
 * Per partition of the usage log, the last stream sequence folded into the database
 * (`usage_log_positions`, migration 0020).
 */

/** The folded sequence of each of `partitions` (0 for one never folded). */
export async function foldedSequences(db: Queryable, stream: string, partitions: readonly number[]): Promise<Map<number, number>> {
  const rows = await db.query<{ partition: number; folded_seq: string }>(
    'SELECT partition, folded_seq FROM usage_log_positions WHERE stream = $1 AND partition = ANY($2::int[])',
    [stream, partitions],
  );
  const folded = new Map<number, number>(partitions.map((partition) => [partition, 0]));
  for (const row of rows) folded.set(row.partition, Number(row.folded_seq));
  return folded;
}

/** The folded sequence of a partition, creating its row at 0 when there is none. */
export async function claimPosition(db: Queryable, stream: string, partition: number, writer: string): Promise<number> {
  await db.query('INSERT INTO usage_log_positions (stream, partition, writer) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [stream, partition, writer]);
  return (await foldedSequences(db, stream, [partition])).get(partition) ?? 0;
}

/** A partition's position moving from `from` to `to` in a fold. */
export interface PositionMove {
  partition: number;
  from: number;
  to: number;
}

/**
 * Moves partitions' positions, each from `from` to `to`, in the fold's transaction, in two
 * statements whatever their number (each round trip of a fold waits for a busy process's event
 * loop); returns the partitions whose position another writer moved meanwhile (this one lost them),
 * and the fold must roll back. The rows are locked first, in partition order, so that two writers
 * that both believe they own partitions fold one after the other rather than deadlock.
 */
export async function advancePositions(tx: Queryable, { stream, writer, moves }: { stream: string; writer: string; moves: readonly PositionMove[] }): Promise<Set<number>> {
  const partitions = moves.map((move) => move.partition);
  await tx.query('SELECT 1 FROM usage_log_positions WHERE stream = $1 AND partition = ANY($2::int[]) ORDER BY partition FOR UPDATE', [stream, partitions]);
  const rows = await tx.query<{ partition: number }>(
    `UPDATE usage_log_positions p SET folded_seq = m.to_seq, writer = $2, updated_at = now()
       FROM unnest($3::int[], $4::bigint[], $5::bigint[]) AS m (partition, from_seq, to_seq)
      WHERE p.stream = $1 AND p.partition = m.partition AND p.folded_seq = m.from_seq
      RETURNING p.partition`,
    [stream, writer, partitions, moves.map((move) => move.from), moves.map((move) => move.to)],
  );
  const moved = new Set(rows.map((row) => row.partition));
  return new Set(partitions.filter((partition) => !moved.has(partition)));
}

/** The ingest aliases of a customer: the other references its events may name it by. */
export async function ingestAliases(db: Queryable, tenantId: string, customerId: string): Promise<string[]> {
  if (!isUuid(customerId)) return [];
  const rows = await db.query<{ alias: string }>('SELECT alias FROM customer_ingest_aliases WHERE tenant_id = $1 AND customer_id = $2', [tenantId, customerId]);
  return rows.map((row) => row.alias);
}

/** A call the fold refused, kept with its reason (`usage_log_refusals`): in the fold's transaction. */
export interface Refusal {
  partition: number;
  seq: number;
  tenantId: string;
  reason: string;
  entry: string;
}

export async function recordRefusals(tx: Queryable, { stream, refusals }: { stream: string; refusals: readonly Refusal[] }): Promise<void> {
  await tx.query(
    `INSERT INTO usage_log_refusals (stream, partition, seq, tenant_id, reason, entry)
     SELECT $1, partition, seq, tenant_id, reason, entry
       FROM unnest($2::int[], $3::bigint[], $4::uuid[], $5::text[], $6::text[]) AS r(partition, seq, tenant_id, reason, entry)
     ON CONFLICT DO NOTHING`,
    [stream, refusals.map((r) => r.partition), refusals.map((r) => r.seq), refusals.map((r) => r.tenantId), refusals.map((r) => r.reason), refusals.map((r) => r.entry)],
  );
}

/** Per partition, how many calls the fold refused and kept. */
export async function refusedCounts(db: Queryable, stream: string): Promise<Map<number, number>> {
  const rows = await db.query<{ partition: number; count: string }>('SELECT partition, count(*)::text AS count FROM usage_log_refusals WHERE stream = $1 GROUP BY partition', [stream]);
  return new Map(rows.map((row) => [row.partition, Number(row.count)]));
}
