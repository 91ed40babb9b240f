export interface LatencySummary {
  count: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
}

/** The nearest-rank percentile `p` (0–100) of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** p50/p90/p99/max/mean of latencies in milliseconds, rounded to 0.01 ms. */
export function summarizeLatencies(latenciesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  const values = Array.from(sorted);
  const total = values.reduce((sum, value) => sum + value, 0);
  return {
    count: values.length,
    p50_ms: round(percentile(values, 50)),
    p90_ms: round(percentile(values, 90)),
    p99_ms: round(percentile(values, 99)),
    max_ms: round(values[values.length - 1] ?? Number.NaN),
    mean_ms: round(values.length ? total / values.length : Number.NaN),
  };
}

export { round };
