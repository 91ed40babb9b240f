import type { EventSpace } from './events.js';

/** What the parent asks a load worker to do. */
export interface LoadSpec {
  /** `http`: POST /v1/ingest; `sql`: the raw INSERT … unnest baseline straight into PostgreSQL. */
  target: 'http' | 'sql';
  /**
   * `closed`: every connection sends its next batch as soon as the previous one is answered.
   * `open`: batches leave at a fixed rate whatever the answers, and latency counts from the
   * instant a batch was due (so that a slow server cannot hide its queue).
   */
  pacing: 'closed' | 'open';
  connections: number;
  batchSize: number;
  /** Requests per second (open pacing only). */
  requestsPerSecond?: number;
  /** Requests sent during the warm-up are not recorded. */
  warmupMs: number;
  /** Stop after this long (recorded part), or … */
  durationMs?: number;
  /** … once this many events have been accepted. */
  eventCount?: number;
  baseUrl: string;
  apiKey: string;
  databaseUrl: string;
  space: EventSpace;
}

export interface LoadResult {
  /** Recorded requests (after warm-up) and the events they carried. */
  requests: number;
  events: number;
  /** Events accepted overall, warm-up included. */
  eventsAccepted: number;
  /** Failed requests by HTTP status (or error code). */
  errors: Record<string, number>;
  /** A few failure messages, to tell what went wrong. */
  errorSamples: string[];
  /** From the end of the warm-up to the last recorded answer. */
  elapsedMs: number;
  latenciesMs: number[];
  /** Requests that were due but could not leave on time (open pacing): their wait is in the latency. */
  lateStarts: number;
  /** CPU the worker used, as a fraction of one core. */
  cpuFraction: number;
}

/** The raw baseline's table, made afresh: the columns of `events` and only its primary key. */
export const RAW_TABLE = ['DROP TABLE IF EXISTS bench_raw_events', 'CREATE TABLE bench_raw_events (LIKE events, PRIMARY KEY (tenant_id, transaction_id))'];

/** The raw baseline's statement (PostgreSQL's lanes and PGlite's host): the events' columns, no index but the primary key. */
export const RAW_INSERT = `INSERT INTO bench_raw_events (tenant_id, transaction_id, customer_ref, customer_id, event_type, "timestamp", properties, received_at)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::timestamptz[], $7::jsonb[], $8::timestamptz[])
  ON CONFLICT (tenant_id, transaction_id) DO NOTHING`;
