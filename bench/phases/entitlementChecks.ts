import type { ApiClient } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { summarizeLatencies } from '../lib/stats.js';
import { TARGETS } from '../targets.js';
import type { BenchContext, Figure } from './context.js';
import type { HeavyCustomer } from './heavyCustomer.js';

const CHECK_PATH = '/v1/allot/entitlements/check';

/**
 * The hard-stop check on the million-event customer, warm, one request after the other on the
 * client's keep-alive connection: `count` checks of 0.01 AI credits (the targets: p99 ≤ 2 ms), then
 * `count` reserves of 0.01 with a new transaction id each (a hold of one second: for information).
 * Every answer must be 200 and allowed (the pool is far from spent).
 */
export async function entitlementCheckFigures(context: BenchContext, client: ApiClient, heavy: HeavyCustomer, count: number): Promise<void> {
  const base = { customer_id: heavy.customer.id, credit_type_id: context.tenant.plan.aiCredits, amount: 0.01 };
  const time = async (body: (index: number) => unknown, times: number) => {
    const latencies: number[] = [];
    let refused = 0;
    for (let index = 0; index < times; index++) {
      const payload = JSON.stringify(body(index));
      const started = performance.now();
      const response = await client.post(CHECK_PATH, payload);
      const latency = performance.now() - started;
      if (response.status !== 200 || !(JSON.parse(response.body) as { data: { allowed: boolean } }).data.allowed) refused++;
      else latencies.push(latency);
    }
    return { latency: summarizeLatencies(latencies), refused };
  };
  await time(() => base, 20);
  progress(`entitlements: ${count} checks of the heavy customer (${heavy.events} events), then ${count} reserves`);
  const checks = await time(() => base, count);
  const reserves = await time((index) => ({ ...base, reserve: true, transaction_id: `${context.runId}-hold-${index}`, hold_seconds: 1 }), count);
  const figure = (outcome: typeof checks, held: boolean): Figure => ({
    value: outcome.latency.p99_ms,
    unit: 'ms (p99)',
    ...(held
      ? { target: TARGETS.entitlementCheckP99Ms.text, met: outcome.refused === 0 && outcome.latency.p99_ms <= TARGETS.entitlementCheckP99Ms.value }
      : {}),
    p50_ms: outcome.latency.p50_ms,
    p99_ms: outcome.latency.p99_ms,
    latency: outcome.latency,
    refused_or_failed: outcome.refused,
    customer_events: heavy.events,
  });
  context.figures.entitlement_check = figure(checks, true);
  context.figures.entitlement_reserve = figure(reserves, false);
  progress(`entitlements: check p50 ${checks.latency.p50_ms} ms, p99 ${checks.latency.p99_ms} ms; reserve p50 ${reserves.latency.p50_ms} ms, p99 ${reserves.latency.p99_ms} ms`);
}
