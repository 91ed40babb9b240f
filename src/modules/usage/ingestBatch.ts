import type { Database, Queryable } from '../../lib/db/database.js';
import { Invalid } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import { foldRollups, type MatchedEvent, type Rollup } from './compute/foldRollups.js';
import { oversizedProperty, GROUP_BYTES_RULE } from './compute/indexLimits.js';
import { compileMetric, matchMetric, type CompiledMetric, type Match } from './compute/matchMetric.js';
import { NUMBER_BOUND_RULE } from './compute/propertyValues.js';
import { originOf, signalsOf } from '../../lib/context.js';
import { publishChanges, type Change } from '../../lib/changeFeed.js';
import { nextSequence } from '../../lib/processSequence.js';
import { floorToHour } from '../../lib/time.js';
import * as repo from './repo.js';

/** One event of an ingest call, validated. */
export interface IngestEvent {
  transactionId: string;
  /** The customer id or ingest alias the event names. */
  customerRef: string;
  eventType: string;
  timestamp: Date;
  properties: Record<string, unknown>;
}

/** What became of a call's events: stored now, or ignored as repeats. */
export interface IngestOutcome {
  accepted: number;
  duplicates: number;
}

/** One ingest call waiting for its batch; the batch settles it once its transaction has committed (or failed). */
export interface PendingIngest {
  tenantId: string;
  events: readonly IngestEvent[];
  receivedAt: Date;
  resolve(outcome: IngestOutcome): void;
  reject(error: unknown): void;
}

/** An event of the batch, the first with its transaction id, with the metrics it matches. */
interface Candidate {
  request: number;
  tenantId: string;
  event: IngestEvent;
  matches: Match[];
}

const NO_METRICS: readonly CompiledMetric[] = [];
const hoursOf = (customers: ReadonlyMap<string, number>) => new Map([...customers].map(([customerId, hour]) => [customerId, new Date(hour)]));

/**
 * Ingests the events of several calls in one transaction (docs/rules.md, "The ingest path"), then settles every call:
 *
 * 1. takes each tenant's metric lock shared, so that a billable metric being created (and
 *    backfilled) is either fully before this batch or fully after it; then reads the tenants'
 *    live metrics, inside the transaction and after the lock, so a metric committed before is seen;
 * 2. matches every event to its tenant's metrics; a call with an event whose group values could
 *    not be indexed, or with a string a metric reads as a number beyond the number bound
 *    (`"tokens": "1e400"`), is refused alone (400 naming every such event and property), the
 *    others go on;
 * 3. keeps the first event of each (tenant, transaction id) and inserts the events in that order
 *    with `ON CONFLICT DO NOTHING RETURNING`, resolving customers in the same statement, so only
 *    events never stored before come back;
 * 4. announces the change (other processes' kept accounts), then folds those new events of known
 *    customers into hourly rollups and upserts them, in key order, with one statement (after the
 *    distinct values of UNIQUE metrics): the last statement before the commit, so that its row
 *    locks, which concurrent batches wait on, are held for no other round trip.
 *
 * After the commit every call is answered and `usageCommitted` is emitted per tenant. If the
 * transaction fails, every call of the batch gets the error, and nothing of the batch is stored.
 * Resolves with whether the transaction committed.
 */
export async function runIngestBatch(
  db: Database,
  requests: readonly PendingIngest[],
  {
    withinTransaction,
    refusedWithin,
  }: {
    withinTransaction?: ((tx: Queryable) => Promise<void>) | undefined;
    /** The calls refused (by index), in the transaction, before anything is stored: a writer of the usage log keeps them. */
    refusedWithin?: ((tx: Queryable, refused: ReadonlyMap<number, Invalid>) => Promise<void>) | undefined;
  } = {},
): Promise<boolean> {
  const started = performance.now();
  const refused = new Map<number, Invalid>();
  const outcomes = requests.map(() => ({ accepted: 0, duplicates: 0 }));
  // Per tenant, per customer with new events, the metrics they matched.
  const touched = new Map<string, Map<string, Set<string>>>();
  // Per tenant, per customer whose new events a metric matched, the earliest of their hours: its rollups changed from there on.
  const since = new Map<string, Map<string, number>>();
  let received = 0;
  let unmatched = 0;
  // The rollup rows the commit adds (for the account engine's kept usage), and the sequence taken before the commit.
  let rolledUp: readonly Rollup[] = [];
  let sequence: number | undefined;
  /** `usageCommitted` per tenant with new usage; with the rows the commit added, per customer, when it is known to have committed. */
  const announce = (committed: boolean) => {
    const added = new Map<string, Map<string, Rollup[]>>();
    if (committed) {
      for (const rollup of rolledUp) {
        let customers = added.get(rollup.tenantId);
        if (!customers) added.set(rollup.tenantId, (customers = new Map()));
        const rows = customers.get(rollup.customerId);
        if (rows) rows.push(rollup);
        else customers.set(rollup.customerId, [rollup]);
      }
    }
    for (const [tenantId, customers] of touched) {
      const earliest = since.get(tenantId);
      const rollups = added.get(tenantId);
      signalsOf(db).emit('usageCommitted', {
        tenantId,
        customerIds: [...customers.keys()],
        metricIds: customers,
        ...(earliest && { since: hoursOf(earliest) }),
        ...(rollups && sequence !== undefined && { rollups, sequence }),
      });
    }
  };
  try {
    await db.transaction(async (tx) => {
      // First, before any lock of the ingest itself: a writer of the usage log records the position it folded to.
      await withinTransaction?.(tx);
      const tenantIds = [...new Set(requests.map((request) => request.tenantId))];
      await repo.lockMetricsShared(tx, tenantIds);
      const metrics = new Map<string, CompiledMetric[]>();
      for (const row of await repo.liveMetrics(tx, tenantIds)) {
        let list = metrics.get(row.tenant_id);
        if (!list) metrics.set(row.tenant_id, (list = []));
        list.push(compileMetric(row));
      }

      // The first event of each (tenant, transaction id), per tenant by transaction id.
      const candidates = new Map<string, Map<string, Candidate>>();
      requests.forEach((request, requestIndex) => {
        const call = matchCall(request.events, metrics.get(request.tenantId) ?? NO_METRICS);
        if (call instanceof Invalid) {
          refused.set(requestIndex, call);
          return;
        }
        const mine = call.map((matches, index) => ({ request: requestIndex, tenantId: request.tenantId, event: request.events[index]!, matches }));
        received += request.events.length;
        let tenantCandidates = candidates.get(request.tenantId);
        if (!tenantCandidates) candidates.set(request.tenantId, (tenantCandidates = new Map()));
        for (const candidate of mine) {
          if (!tenantCandidates.has(candidate.event.transactionId)) tenantCandidates.set(candidate.event.transactionId, candidate);
        }
      });

      if (refused.size > 0) await refusedWithin?.(tx, refused);

      // One order for every writer, so that two transactions inserting the same ids cannot deadlock.
      const ordered: Candidate[] = [];
      for (const tenantId of [...candidates.keys()].sort()) {
        const tenantCandidates = candidates.get(tenantId)!;
        for (const transactionId of [...tenantCandidates.keys()].sort()) ordered.push(tenantCandidates.get(transactionId)!);
      }
      if (ordered.length === 0) return;
      const events: repo.EventColumns = { tenantIds: [], transactionIds: [], customerRefs: [], eventTypes: [], timestamps: [], properties: [], receivedAt: [] };
      const refs: repo.CustomerRefColumns = { tenantIds: [], refs: [], refIds: [] };
      const seenRefs = new Map<string, Set<string>>();
      const receivedAt = requests.map((request) => request.receivedAt.toISOString());
      for (const { tenantId, event, request } of ordered) {
        events.tenantIds.push(tenantId);
        events.transactionIds.push(event.transactionId);
        events.customerRefs.push(event.customerRef);
        events.eventTypes.push(event.eventType);
        events.timestamps.push(event.timestamp.toISOString());
        events.properties.push(event.properties);
        events.receivedAt.push(receivedAt[request]!);
        let tenantRefs = seenRefs.get(tenantId);
        if (!tenantRefs) seenRefs.set(tenantId, (tenantRefs = new Set()));
        if (!tenantRefs.has(event.customerRef)) {
          tenantRefs.add(event.customerRef);
          refs.tenantIds.push(tenantId);
          refs.refs.push(event.customerRef);
          refs.refIds.push(isUuid(event.customerRef) ? event.customerRef : null);
        }
      }

      const matched: MatchedEvent[] = [];
      for (const row of await repo.insertNewEvents(tx, events, refs)) {
        const candidate = candidates.get(row.tenant_id)!.get(row.transaction_id)!;
        outcomes[candidate.request]!.accepted++;
        if (row.customer_id === null) {
          unmatched++;
          continue;
        }
        let customers = touched.get(row.tenant_id);
        if (!customers) touched.set(row.tenant_id, (customers = new Map()));
        let metricIds = customers.get(row.customer_id);
        if (!metricIds) customers.set(row.customer_id, (metricIds = new Set()));
        for (const match of candidate.matches) metricIds.add(match.metric.id);
        if (candidate.matches.length === 0) continue;
        let earliest = since.get(row.tenant_id);
        if (!earliest) since.set(row.tenant_id, (earliest = new Map()));
        const hour = floorToHour(candidate.event.timestamp).getTime();
        if (hour < (earliest.get(row.customer_id) ?? Infinity)) earliest.set(row.customer_id, hour);
        matched.push({
          tenantId: row.tenant_id,
          customerId: row.customer_id,
          transactionId: row.transaction_id,
          timestampMs: candidate.event.timestamp.getTime(),
          matches: candidate.matches,
        });
      }
      // Other processes keep computed accounts too: they learn of the new usage when this commits.
      const changes: Change[] = [...since].map(([tenantId, customers]) => ({ kind: 'usage', tenantId, customerIds: [...customers.keys()], since: hoursOf(customers) }));
      await publishChanges(tx, db.engine, changes, originOf(signalsOf(db)));
      const folded = foldRollups(matched);
      await repo.insertDistinctValues(tx, folded.distinctValues);
      // The rollup upsert last, right before the commit: its row locks (a customer's totals and
      // group rows, which concurrent batches also write) are held for no other round trip.
      await repo.upsertRollups(tx, folded.rollups);
      rolledUp = folded.rollups;
      // Last before the commit: a usage read that came back before this number was taken cannot hold these rows.
      sequence = nextSequence();
    });
  } catch (error) {
    for (const request of requests) request.reject(error);
    // The commit was sent and failed, or its answer was lost with the connection: it may have gone
    // through. This process hears no notification of its own, so what it may have changed is
    // announced without its rows, to be read again rather than trusted (callers retry; the
    // transaction ids keep that exact).
    if (sequence !== undefined) announce(false);
    return false;
  }

  let accepted = 0;
  requests.forEach((request, index) => {
    const invalid = refused.get(index);
    if (invalid) return request.reject(invalid);
    const outcome = outcomes[index]!;
    outcome.duplicates = request.events.length - outcome.accepted;
    accepted += outcome.accepted;
    request.resolve(outcome);
  });
  announce(true);
  signalsOf(db).emit('ingestBatchCommitted', {
    requests: requests.length - refused.size,
    events: received,
    accepted,
    duplicates: received - accepted,
    unmatched,
    seconds: (performance.now() - started) / 1000,
  });
  return true;
}

/**
 * Matches a call's events to its tenant's live metrics: per event, the metrics it counts for; or
 * the call's refusal, naming every event and property whose group values could not be indexed or
 * whose string a metric would read as a number beyond the number bound.
 */
export function matchCall(events: readonly IngestEvent[], tenantMetrics: readonly CompiledMetric[]): Match[][] | Invalid {
  const matched: Match[][] = [];
  // Every problem of the call, each field once (two metrics may read the same property).
  const problems = new Map<string, string>();
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    const matches: Match[] = [];
    for (const metric of tenantMetrics) {
      const match = matchMetric(metric, event, (property) => {
        const field = `${index}.properties.${property}`;
        if (!problems.has(field)) problems.set(field, `is read as a number by billable metric ${metric.id} (${metric.aggregation}), and ${NUMBER_BOUND_RULE}`);
      });
      if (!match) continue;
      const property = oversizedProperty(match);
      if (property !== undefined) {
        const field = `${index}.properties.${property}`;
        if (!problems.has(field)) problems.set(field, `is too long to group usage by for billable metric ${metric.id}: ${GROUP_BYTES_RULE}`);
        continue;
      }
      matches.push(match);
    }
    matched.push(matches);
  }
  const [first, ...others] = [...problems].map(([field, message]) => ({ field, message }));
  return first ? Invalid.all([first, ...others]) : matched;
}
