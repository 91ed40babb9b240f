import { progress } from '../lib/progress.js';
import { runLoadInChild } from '../load/runLoad.js';
import type { BenchContext, Phase } from './context.js';
import { loadFigures } from './loadFigures.js';

/** Events of the tenant stored in the open period (the period every bench contract is in). */
export async function eventsInPeriod(context: BenchContext): Promise<number> {
  const { rows } = await context.database.pool.query<{ count: string }>(
    'SELECT count(*) AS count FROM events WHERE tenant_id = $1 AND "timestamp" >= $2',
    [context.tenantId, context.tenant.periodStart],
  );
  return Number(rows[0]!.count);
}

/** Brings the open period up to `--events-in-period` events, through POST /v1/ingest, before balances are read. */
export const topUp: Phase = {
  name: 'topup',
  async run(context) {
    const target = context.options.eventsInPeriod;
    const before = await eventsInPeriod(context);
    if (before >= target) {
      context.figures.events_in_period = { value: before, unit: 'events', topped_up: 0 };
      return;
    }
    progress(`top-up: ${before} events in the period, sending ${target - before} more through the API`);
    const result = await runLoadInChild(context.loadSpec('topup', { target: 'http', pacing: 'closed', warmupMs: 0, eventCount: target - before }));
    const figures = loadFigures(result);
    const after = await eventsInPeriod(context);
    progress(`top-up: ${after} events in the period (${figures.events_per_s} events/s while topping up)`);
    context.figures.events_in_period = { value: after, unit: 'events', topped_up: after - before, top_up_events_per_s: figures.events_per_s, top_up_failed_requests: figures.failed_requests };
  },
};
