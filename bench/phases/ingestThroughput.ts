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
