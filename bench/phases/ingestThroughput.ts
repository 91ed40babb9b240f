import { sampleDatabaseActivity } from '../diagnostics/databaseActivity.js';
import { checkpoint } from '../environment/database.js';
import { progress } from '../lib/progress.js';
import { runLoadInChild } from '../load/runLoad.js';
import type { Phase } from './context.js';
import { loadFigures } from './loadFigures.js';
import { measuredWindow } from './phaseWindow.js';

/** The peak: every connection sends its next batch of 100 as soon as the last one is answered. */
export const ingestThroughput: Phase = {
  name: 'throughput',
  async run(context) {
    const { options, database } = context;
    await checkpoint(database.pool);
    progress(`throughput: POST /v1/ingest, ${options.connections} keep-alive connections, ${options.durationSeconds} s (+3 s warm-up)`);
    const sampler = options.sampleDatabase ? sampleDatabaseActivity(database.pool, { databaseName: options.databaseName }) : undefined;
    const { result, cores } = await measuredWindow(context, 'throughput', () =>
      runLoadInChild(context.loadSpec('peak', { target: 'http', pacing: 'closed', warmupMs: 3000, durationMs: options.durationSeconds * 1000 })),
    );
    if (sampler) context.diagnostics.database_activity_during_throughput = await sampler.stop();
    const figures = loadFigures(result);
    progress(`throughput: ${figures.events_per_s} events/s (p50 ${figures.latency.p50_ms} ms, p99 ${figures.latency.p99_ms} ms, ${figures.failed_requests} failed)`);
    const measured = figures.events > 0;
    context.figures.ingest_throughput = {
      value: measured ? figures.events_per_s : null,
      unit: 'events/s',
      // For information: the targets (docs/rules.md) holds ingest to the raw insert of the same run (ingest_vs_raw_insert), not to an absolute rate.
      note: 'no target of its own: the targets (docs/rules.md) holds ingest to ≥ 0.8 × the raw insert of the same run, see ingest_vs_raw_insert',
      ...figures,
      cores_used: cores,
    };
  },
};

/** An event type no billable metric of the bench's tenant counts. */
const UNMETERED_EVENT_TYPE = 'bench_unmetered';

/**
 * The same peak load with events no billable metric counts: each is validated, matched against
 * the tenant's metrics, deduped and stored with its customer as any other, and no rollup row is
 * written. Not a target: what ingest reaches before any rollup work, beside the raw insert of the
 * same run — the part of the gap no rollup design can close. It runs with the throughput phase
 * (after the latency phase, which paces its load from the throughput's peak), never alone.
 */
export const ingestThroughputUnmetered: Phase = {
  name: 'unmetered',
  async run(context) {
    const { options, database } = context;
    if (options.skip.has('throughput')) return;
    await checkpoint(database.pool);
    progress(`unmetered: POST /v1/ingest of events no metric counts, ${options.connections} keep-alive connections, ${options.durationSeconds} s (+3 s warm-up)`);
    const space = { ...context.eventSpace('unmetered'), eventType: UNMETERED_EVENT_TYPE };
    const { result, cores } = await measuredWindow(context, 'unmetered', () =>
      runLoadInChild(context.loadSpec('unmetered', { target: 'http', pacing: 'closed', warmupMs: 3000, durationMs: options.durationSeconds * 1000, space })),
    );
    const figures = loadFigures(result);
    const raw = context.figures.raw_insert_baseline?.value;
    const measured = figures.events > 0;
    progress(`unmetered: ${figures.events_per_s} events/s (p50 ${figures.latency.p50_ms} ms, p99 ${figures.latency.p99_ms} ms, ${figures.failed_requests} failed)`);
    context.figures.ingest_throughput_unmetered = {
      value: measured ? figures.events_per_s : null,
      unit: 'events/s',
      note: `no target: the throughput load with event type "${UNMETERED_EVENT_TYPE}", which no billable metric counts, so no rollup row is written; what ingest reaches before any rollup work`,
      ...(measured && typeof raw === 'number' && raw > 0 && { vs_raw_insert: Math.round((figures.events_per_s / raw) * 1000) / 1000 }),
      ...figures,
      cores_used: cores,
    };
  },
};
