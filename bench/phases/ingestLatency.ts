import { checkpoint } from '../environment/database.js';
import { progress } from '../lib/progress.js';
import { round } from '../lib/stats.js';
import { runLoadInChild } from '../load/runLoad.js';
import { TARGETS } from '../targets.js';
import type { Phase } from './context.js';
import { loadFigures } from './loadFigures.js';
import { measuredWindow } from './phaseWindow.js';

/**
 * Request latency at a fraction (80%) of the measured peak, paced open-loop: batches leave on a
 * fixed schedule whether or not earlier ones were answered, and each latency is counted from the
 * instant its batch was due, so time spent queued behind a slow answer is in the figure.
 */
export const ingestLatency: Phase = {
  name: 'latency',
  async run(context) {
    const { options, database } = context;
    const peak = context.figures.ingest_throughput?.value;
    if (!peak) throw new Error('needs the peak from the throughput phase');
    const eventsPerSecond = peak * options.latencyLoadFraction;
    const requestsPerSecond = eventsPerSecond / options.batchSize;
    await checkpoint(database.pool);
    progress(`latency: ${Math.round(eventsPerSecond)} events/s offered (${options.latencyLoadFraction * 100}% of the peak), open loop, ${options.latencyDurationSeconds} s`);
    const { result, cores } = await measuredWindow(context, 'latency', () =>
      runLoadInChild(
        context.loadSpec('paced', {
          target: 'http',
          pacing: 'open',
          requestsPerSecond,
          warmupMs: 2000,
          durationMs: options.latencyDurationSeconds * 1000,
        }),
      ),
    );
    const figures = loadFigures(result);
    progress(`latency: p50 ${figures.latency.p50_ms} ms, p99 ${figures.latency.p99_ms} ms at ${figures.events_per_s} events/s`);
    const p99 = figures.latency.p99_ms;
    context.figures.ingest_latency_at_80pct_of_peak = {
      value: Number.isFinite(p99) ? p99 : null,
      unit: 'ms (p99)',
      target: TARGETS.ingestLatencyP99Ms.text,
      met: Number.isFinite(p99) && figures.failed_requests === 0 && p99 <= TARGETS.ingestLatencyP99Ms.value,
      offered_events_per_s: Math.round(eventsPerSecond),
      offered_requests_per_s: round(requestsPerSecond, 1),
      late_starts: result.lateStarts,
      ...figures,
      cores_used: cores,
    };
  },
};
