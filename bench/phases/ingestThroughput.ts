import { sampleDatabaseActivity } from '../diagnostics/databaseActivity.js';
import { checkpoint } from '../environment/database.js';
import { progress } from '../lib/progress.js';
import { runLoadInChild } from '../load/runLoad.js';
import { TARGETS } from '../targets.js';
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
      target: TARGETS.ingestEventsPerSecond.text,
      met: measured && figures.events_per_s >= TARGETS.ingestEventsPerSecond.value,
      ...figures,
      cores_used: cores,
    };
  },
};
