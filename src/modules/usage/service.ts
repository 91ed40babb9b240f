import { signalsOf, type IngestBatchCommitted, type ServiceContext, type UsageCommitted } from '../../lib/context.js';
import type { Database, Queryable } from '../../lib/db/database.js';
import { Invalid } from '../../lib/errors.js';
import { Batcher } from './batcher.js';
import { foldRollups, type MatchedEvent } from './compute/foldRollups.js';
import { GROUP_BYTES_LIMIT, GROUP_BYTES_RULE, oversizedProperty, STORED_BYTES_LIMIT } from './compute/indexLimits.js';
import { keyText } from './compute/keyText.js';
import { compileMetric, matchMetric, type MetricDefinition } from './compute/matchMetric.js';
import { runIngestBatch, type IngestEvent, type IngestOutcome, type PendingIngest } from './ingestBatch.js';
import * as repo from './repo.js';
import type { UsageLog, UsageLogSettings } from './log/connection.js';
import type { UsageLogNode } from './log/node.js';
import type { PartitionStatus } from './log/status.js';
import { appendToLog } from './log/publish.js';
import * as queryRepo from './queryRepo.js';
import { emptyValue } from './queries.js';
import type { Aggregation } from './queryRepo.js';
import { Decimal } from '../../lib/money.js';

export type { IngestEvent, IngestOutcome };
export type { IngestBatchCommitted, UsageCommitted } from '../../lib/context.js';
export { liveMetrics } from './queries.js';
export { listUnmatchedEvents, type UnmatchedReference } from './unmatched.js';
export type { UsageLogNode, UsageLogSettings, PartitionStatus };
export { formatStatus } from './log/formatStatus.js';
export { rowWithRollup } from './compute/rollupRows.js';

/**
 * How many events one ingest transaction takes at most. Calls arriving while a batch commits
 * wait for the next one, which takes up to this many of them.
 */
const MAX_EVENTS_PER_BATCH = 5000;

const batchers = new WeakMap<Database, Batcher<PendingIngest>>();
const logs = new WeakMap<Database, UsageLog>();

/**
 * Starts this process's part of the usage log (`ALLOT_NATS_URL`): from now on ingest on `db`
 * publishes to the log instead of writing to the database, and, with `write`, this process folds
 * its share of the log's partitions into the database (`log/writer.ts`). The node's `fence` is
 * what account reads wait for (`ServiceContext.readFence`).
 */
export async function startUsageLog(
  { db }: ServiceContext,
  settings: UsageLogSettings,
  options: { write: boolean; onError: (error: unknown) => void },
): Promise<UsageLogNode> {
  // The NATS client is loaded only where a log is configured.
  const { startUsageLogNode } = await import('./log/node.js');
  const node = await startUsageLogNode(db, settings, options);
  logs.set(db, node.log);
  return {
    ...node,
    async stop() {
      logs.delete(db);
      await node.stop();
    },
  };
}

/** `allot status`: every partition of the log with its owner, positions and lag, read through a connection of its own. */
export async function usageLogStatus({ db }: ServiceContext, settings: UsageLogSettings): Promise<PartitionStatus[]> {
  const [{ openUsageLog }, { partitionStatus }] = await Promise.all([import('./log/connection.js'), import('./log/status.js')]);
  const log = await openUsageLog(settings, { name: 'allot status' });
  try {
    return await partitionStatus(db, log);
  } finally {
    await log.close();
  }
}

function batcherFor(db: Database): Batcher<PendingIngest> {
  let batcher = batchers.get(db);
  if (!batcher) {
    batcher = new Batcher<PendingIngest>({
      // PGlite runs one transaction at a time. On PostgreSQL three batches run at once (one builds while
      // the others upsert and commit); a third gained only once the batches stopped waiting on each
      // other's rollup totals (usage README, "Where the time goes").
      concurrency: db.engine === 'postgres' ? 3 : 1,
      maxWeight: MAX_EVENTS_PER_BATCH,
      weight: (request) => request.events.length,
      run: async (requests) => {
        await runIngestBatch(db, requests);
      },
    });
    batchers.set(db, batcher);
  }
  return batcher;
}

/**
 * Ingests one call's events (docs/rules.md rule 12): resolves once they are committed, with how many
 * were new and how many repeated a transaction id already stored (or earlier in the same call).
 * Concurrent calls share a transaction (`runIngestBatch`).
 */
export function ingestUsage(
  { db, clock }: ServiceContext,
  { tenantId, events }: { tenantId: string; events: readonly IngestEvent[] },
): Promise<IngestOutcome> {
  const log = logs.get(db);
  if (log) return appendToLog(db, log, { tenantId, events, receivedAt: clock.now() });
  return new Promise((resolve, reject) => {
    batcherFor(db).submit({ tenantId, events, receivedAt: clock.now(), resolve, reject });
  });
}

/** How a metric would count one event: the values of its group properties by name, and what it aggregates. */
export interface EventMatch {
  metricId: string;
  groupValues: Record<string, string>;
  /** The aggregated number (SUM, MAX, LATEST); null for COUNT and UNIQUE. */
  value: Decimal | null;
  /** The value a UNIQUE metric counts; null for the others. */
  distinct: string | null;
}

/**
 * The tenant's live billable metrics an event would count for, and how (the same matching as
 * ingest, `matchMetric`), without storing anything: the hard-stop check prices an event with it.
 */
export async function matchEvent(
  { db }: ServiceContext,
  { tenantId, event }: { tenantId: string; event: { eventType: string; properties: Readonly<Record<string, unknown>> } },
): Promise<EventMatch[]> {
  const matches: EventMatch[] = [];
  for (const row of await repo.liveMetrics(db, [tenantId])) {
    const match = matchMetric(compileMetric(row), event);
    if (!match) continue;
    const names = match.metric.groupNames;
    matches.push({ metricId: row.id, groupValues: Object.fromEntries(names.map((name, i) => [name, match.groupTexts[i]!])), value: match.value, distinct: match.distinct });
  }
  return matches;
}

/**
 * Subscribes to the usage this process commits on the context's database (`usageCommitted` of its
 * signals): after each ingest transaction, once per tenant, with the customers that have new
 * events. Returns the function that unsubscribes.
 */
export function onUsageCommitted({ db }: ServiceContext, listener: (committed: UsageCommitted) => void): () => void {
  return signalsOf(db).on('usageCommitted', listener);
}

/**
 * A customer's usage of a metric over `[from, to)` (hour-aligned), read from the rollups: the
 * metric's aggregate, 0 when nothing was counted, null for a MAX or LATEST with no events.
 */
export async function metricUsageDuring(
  { db }: ServiceContext,
  { tenantId, customerId, metric, from, to }: { tenantId: string; customerId: string; metric: { id: string; aggregation_type: Aggregation }; from: Date; to: Date },
): Promise<Decimal | null> {
  const [row] = await queryRepo.windowValues(db, tenantId, {
    metricId: metric.id,
    aggregation: metric.aggregation_type,
    customerIds: [customerId],
    groupKey: [],
    windows: [{ startingOn: from, endingBefore: to }],
  });
  if (row?.value != null) return new Decimal(row.value);
  return emptyValue(metric.aggregation_type);
}

/**
 * Usage that arrived too late for an invoice: per window (a customer, a period `[from, to)` of
 * event time, and the instant its invoice was finalised), how many of the customer's events dated
 * in the period were received after that instant, and when the first and last came. Windows with
 * none are left out; `index` is the window's position in `windows`.
 */
export async function eventsReceivedAfter(
  { db }: ServiceContext,
  { tenantId, windows }: { tenantId: string; windows: readonly { customerId: string; from: Date; to: Date; after: Date }[] },
): Promise<{ index: number; events: number; firstReceivedAt: Date; lastReceivedAt: Date }[]> {
  const rows = await queryRepo.eventsReceivedAfter(db, tenantId, windows);
  return rows.map((row) => ({ index: Number(row.window_index), events: Number(row.events), firstReceivedAt: row.first_received_at, lastReceivedAt: row.last_received_at }));
}

/** Subscribes to every ingest transaction this process commits on the context's database (for metrics). */
export function onIngestBatchCommitted({ db }: ServiceContext, listener: (batch: IngestBatchCommitted) => void): () => void {
  return signalsOf(db).on('ingestBatchCommitted', listener);
}

const BACKFILL_PAGE = 5000;

/**
 * Rolls up a new billable metric from the events the tenant already stored, inside the
 * transaction that creates the metric (`tx`). It first takes the tenant's metric lock exclusively:
 * ingest batches hold it shared from before they read the metric list until they commit, so every
 * event is counted exactly once, by the backfill (its batch committed before) or by its batch
 * (which then sees the new metric). The tenant's ingest waits while this runs.
 *
 * Refused with a 400: a group key whose property names alone leave no room for values in the
 * rollups' key, and a stored event whose values for a group key cannot be indexed.
 */
export async function rollUpStoredEvents(tx: Queryable, { tenantId, metric }: { tenantId: string; metric: MetricDefinition }): Promise<void> {
  const compiled = compileMetric(metric);
  compiled.groupKeys.forEach((groupKey, index) => {
    if (Buffer.byteLength(groupKey.names.join(''), 'utf8') > GROUP_BYTES_LIMIT / 2 || Buffer.byteLength(keyText(groupKey.names), 'utf8') > STORED_BYTES_LIMIT / 2) {
      throw new Invalid(
        `group_keys.${index}`,
        `its property names are too long: together they may take at most ${GROUP_BYTES_LIMIT / 2} bytes, and ${STORED_BYTES_LIMIT / 2} as stored (a JSON array)`,
      );
    }
  });
  await repo.lockMetricsExclusive(tx, tenantId);
  let after: string | null = null;
  for (;;) {
    const page = await repo.storedEventsPage(tx, tenantId, {
      afterTransactionId: after,
      eventTypesIn: metric.event_type_filter?.in_values ?? null,
      eventTypesNotIn: metric.event_type_filter?.not_in_values ?? null,
      limit: BACKFILL_PAGE,
    });
    const matched: MatchedEvent[] = [];
    for (const row of page) {
      const match = matchMetric(compiled, { eventType: row.event_type, properties: row.properties });
      if (!match) continue;
      const property = oversizedProperty(match);
      if (property !== undefined) {
        const groupKey = compiled.groupKeys.findIndex((key) => key.names.includes(property));
        throw new Invalid(
          groupKey === -1 ? 'aggregation_key' : `group_keys.${groupKey}`,
          `the stored event ${row.transaction_id} has a value of "${property}" too long to group usage by (${GROUP_BYTES_RULE})`,
        );
      }
      matched.push({
        tenantId,
        customerId: row.customer_id,
        transactionId: row.transaction_id,
        timestampMs: row.timestamp.getTime(),
        matches: [match],
      });
    }
    const folded = foldRollups(matched);
    await repo.upsertRollups(tx, folded.rollups);
    await repo.insertDistinctValues(tx, folded.distinctValues);
    if (page.length < BACKFILL_PAGE) break;
    after = page[page.length - 1]!.transaction_id;
  }
}
