import type { Database } from '../../lib/db/database.js';
import { TypedEmitter } from '../../lib/emitter.js';

/** New usage of a tenant is committed: `customerIds` are the customers with new events (no unknown ones), each once. */
export interface UsageCommitted {
  tenantId: string;
  customerIds: readonly string[];
  /** Per customer, the billable metrics its new events matched (empty when they matched none). */
  metricIds: ReadonlyMap<string, ReadonlySet<string>>;
  /** Per customer whose new events a metric matched, the hour of the earliest of them: its rollups changed from that hour on (absent when none matched). */
  since?: ReadonlyMap<string, Date>;
}

/** One ingest transaction committed: how many requests and events it held, and what became of the events. */
export interface IngestBatchCommitted {
  requests: number;
  /** Events received (after validation), duplicates included. */
  events: number;
  /** New events stored. */
  accepted: number;
  /** Events ignored because their transaction_id was already stored or repeated within the batch. */
  duplicates: number;
  /** From the start of the transaction to the end of its commit. */
  seconds: number;
}

export interface IngestNotifications {
  usageCommitted: UsageCommitted;
  batchCommitted: IngestBatchCommitted;
}

const emitters = new WeakMap<Database, TypedEmitter<IngestNotifications>>();

/** The emitter of the ingest commits this process makes on `db` (one per database handle). */
export function ingestNotifications(db: Database): TypedEmitter<IngestNotifications> {
  let emitter = emitters.get(db);
  if (!emitter) emitters.set(db, (emitter = new TypedEmitter<IngestNotifications>()));
  return emitter;
}
