import { pooledSeatContract, type AiPlan } from '../../src/demo/aiPlan.js';
import type { BenchCustomer } from '../environment/tenant.js';
import { ApiClient } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { round } from '../lib/stats.js';
import { runLoadInChild } from '../load/runLoad.js';
import type { HeavyPeriod } from '../options.js';
import type { BenchContext } from './context.js';
import { loadFigures } from './loadFigures.js';

const HEAVY_ALIAS = 'bench-heavy-customer';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Days of the month-end customer's open period already elapsed, when its period still has an hour to run (else fewer). */
const MONTH_END_ELAPSED_DAYS = [29, 28, 27];

/** The customer with a million events in its open period: the balance reads' and the dashboard's. */
export interface HeavyCustomer {
  customer: BenchCustomer;
  /** Its events in its open period when the setup ended (the balance phase's cold reads add a few later). */
  events: number;
  /** Its open statement period. */
  periodStart: Date;
  periodEnd: Date;
  period: HeavyPeriod;
  /** What the pooled credit grants this period: seats × credits per seat. */
  poolSize: number;
}

/** `instant` one calendar month later, on the same day and hour, clamped to the month's last day (the server's rule). */
function oneMonthLater(instant: Date): Date {
  const year = instant.getUTCFullYear();
  const month = instant.getUTCMonth() + 1;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month, Math.min(instant.getUTCDate(), lastDay), instant.getUTCHours()));
}

/**
 * The open period of the customer. `calendar`: the 1st of the month (as the other customers) to
 * the 1st of the next. `month-end`: a monthly period anchored 29 days ago on an hour (fewer when
 * a short month would end it within the hour), so that nearly a whole month of it has gone by.
 */
export function heavyPeriodOf(period: HeavyPeriod, calendarStart: Date, now = new Date()): { start: Date; end: Date } {
  if (period === 'calendar') return { start: calendarStart, end: oneMonthLater(calendarStart) };
  for (const days of MONTH_END_ELAPSED_DAYS) {
    const start = new Date(Math.floor((now.getTime() - days * DAY_MS) / HOUR_MS) * HOUR_MS);
    const end = oneMonthLater(start);
    if (end.getTime() - now.getTime() > HOUR_MS) return { start, end };
  }
  throw new Error('no monthly period begun 27 to 29 days ago is still open');
}

/**
 * The body of the customer's contract: the plan's rate card, 100 monthly seats ($0) and a pooled
 * recurring credit per seat, as `createPooledSeatCustomer` (src/demo/aiPlan.ts) makes them, with
 * usage statements anchored at the period's start when it is not the 1st of the month.
 */
function contractBody(plan: AiPlan, customerId: string, { start, period, seats, creditsPerSeat }: { start: Date; period: HeavyPeriod; seats: number; creditsPerSeat: number }) {
  const startingAt = start.toISOString();
  return pooledSeatContract(plan, {
    customerId,
    startingAt,
    seats,
    creditsPerSeat,
    ...(period === 'month-end' && { usageStatementSchedule: { frequency: 'MONTHLY', day: 'CUSTOM_DATE', billing_anchor_date: startingAt } }),
  });
}

async function setUp(context: BenchContext): Promise<HeavyCustomer> {
  const { options, tenant } = context;
  const { start, end } = heavyPeriodOf(options.heavyPeriod, tenant.periodStart);
  // A pool the events do not exhaust (one costs at most 0.21 AI credits), so that balances and the page show a real balance to check.
  const creditsPerSeat = Math.max(options.creditsPerSeat, Math.ceil((options.heavyEvents * 0.25) / options.seats));
  const client = new ApiClient(context.server.baseUrl, context.server.key, { connections: 1 });
  let customer: BenchCustomer;
  try {
    const { data } = await client.json<{ data: { id: string } }>('POST', '/v1/customers', { name: 'Bench million-event customer', ingest_aliases: [HEAVY_ALIAS] });
    await client.json('POST', '/v1/contracts/create', contractBody(tenant.plan, data.id, { start, period: options.heavyPeriod, seats: options.seats, creditsPerSeat }));
    customer = { id: data.id, alias: HEAVY_ALIAS };
  } finally {
    client.close();
  }
  progress(
    `million-event customer: open period ${start.toISOString()} → ${end.toISOString()} (${options.heavyPeriod}); ` +
      `sending ${options.heavyEvents} events through POST /v1/ingest (untimed setup)`,
  );
  const { seconds, load } = await sendOverPeriod(context, { label: 'heavy', customer, count: options.heavyEvents, start, users: options.usersPerCustomer });
  const { events, rollups } = await heavyCustomerCounts(context, customer.id, start);
  progress(`million-event customer: ${events} events in ${seconds.toFixed(1)} s (${load.events_per_s} events/s), ${rollups} rollup rows`);
  context.figures.million_event_customer = {
    value: events,
    unit: 'events in the open period of the million-event customer (the balance reads’ and the dashboard’s)',
    period: options.heavyPeriod,
    period_start: start.toISOString(),
    period_end: end.toISOString(),
    period_so_far_hours: round((Date.now() - start.getTime()) / HOUR_MS, 1),
    usage_rollup_rows: rollups,
    users: options.usersPerCustomer,
    teams: options.teams,
    pool: options.seats * creditsPerSeat,
    setup_seconds: round(seconds, 1),
    events_per_s: load.events_per_s,
    failed_requests: load.failed_requests,
    failures_by_status: load.failures_by_status,
    ingest_latency: load.latency,
  };
  return { customer, events, periodStart: start, periodEnd: end, period: options.heavyPeriod, poolSize: options.seats * creditsPerSeat };
}

/**
 * `count` events for one customer through POST /v1/ingest, sent by the load generator (batches of
 * 100 over `--connections`, closed loop), each by one of its `users`, timestamps spread over its
 * period so far whatever `--timestamps` says: a customer that has used the service all period.
 */
export async function sendOverPeriod(
  context: BenchContext,
  { label, customer, count, start, users }: { label: string; customer: BenchCustomer; count: number; start: Date; users: number },
): Promise<{ seconds: number; load: ReturnType<typeof loadFigures> }> {
  const started = performance.now();
  const result = await runLoadInChild(
    context.loadSpec(label, {
      target: 'http',
      pacing: 'closed',
      warmupMs: 0,
      eventCount: count,
      space: { ...context.eventSpace(label), customers: [customer], usersPerCustomer: users, periodStartMs: start.getTime(), recentMs: undefined },
    }),
  );
  return { seconds: (performance.now() - started) / 1000, load: loadFigures(result) };
}

/** The customer's events in its open period, and its rollup rows. */
export async function heavyCustomerCounts(context: BenchContext, customerId: string, periodStart: Date): Promise<{ events: number; rollups: number }> {
  const { rows } = await context.database.pool.query<{ events: string; rollups: string }>(
    `SELECT (SELECT count(*) FROM events WHERE tenant_id = $1 AND customer_id = $2 AND "timestamp" >= $3)::text AS events,
            (SELECT count(*) FROM usage_rollups WHERE tenant_id = $1 AND customer_id = $2)::text AS rollups`,
    [context.tenantId, customerId, periodStart],
  );
  return { events: Number(rows[0]!.events), rollups: Number(rows[0]!.rollups) };
}

const setUps = new WeakMap<BenchContext, Promise<HeavyCustomer>>();

/**
 * The million-event customer of this run, set up by the first phase that needs it (the balance
 * reads, or the dashboard when those are skipped): one customer on the plan, 100 seats, a pool its
 * events do not exhaust, and `--heavy-events` events sent once through POST /v1/ingest.
 */
export function millionEventCustomer(context: BenchContext): Promise<HeavyCustomer> {
  let setUpOnce = setUps.get(context);
  if (!setUpOnce) {
    setUpOnce = setUp(context);
    setUps.set(context, setUpOnce);
  }
  return setUpOnce;
}
