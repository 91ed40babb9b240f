import type { LoadResult } from '../load/protocol.js';
import { round, summarizeLatencies } from '../lib/stats.js';

/** The figures every load phase reports: rate, request latency, failures, and the generator's own CPU. */
export function loadFigures(result: LoadResult) {
  const seconds = result.elapsedMs / 1000;
  return {
    events_per_s: seconds > 0 ? Math.round(result.events / seconds) : 0,
    requests_per_s: seconds > 0 ? round(result.requests / seconds, 1) : 0,
    events: result.events,
    requests: result.requests,
    seconds: round(seconds, 2),
    failed_requests: Object.values(result.errors).reduce((sum, count) => sum + count, 0),
    failures_by_status: result.errors,
    failure_samples: result.errorSamples,
    latency: summarizeLatencies(result.latenciesMs),
    load_generator_cores: round(result.cpuFraction, 2),
  };
}
