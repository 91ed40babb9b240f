import { Decimal } from 'decimal.js';
import { sampleDatabaseActivity } from '../diagnostics/databaseActivity.js';
import { EVENT_TYPE, REQUEST_PRICE, TOKEN_PRICE } from '../environment/tenant.js';
import { ApiClient } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { summarizeLatencies } from '../lib/stats.js';
import { TARGETS } from '../targets.js';
import type { BenchContext, Figure, Phase } from './context.js';
import { entitlementCheckFigures } from './entitlementChecks.js';
import { heavyCustomerCounts, millionEventCustomer, type HeavyCustomer } from './heavyCustomer.js';
import { measuredWindow } from './phaseWindow.js';

export const NET_BALANCE_PATH = '/v1/contracts/customerBalances/getNetBalance';
export const LIST_BALANCES_PATH = '/v1/contracts/customerBalances/list';

/** A balance endpoint as the bench reads it: its path, its body for a customer, and the balances in its answer. */
export interface BalanceRead {
  path: string;
  body: (customerId: string) => unknown;
  balancesOf: (json: unknown) => number[];
}

export function balanceEndpoints(aiCredits: string): { net: BalanceRead; list: BalanceRead } {
  return {
    net: {
      path: NET_BALANCE_PATH,
      body: (customerId) => ({ customer_id: customerId, credit_type_id: aiCredits }),
      balancesOf: (json) => [(json as { data: { balance: number } }).data.balance],
    },
    list: {
      path: LIST_BALANCES_PATH,
      body: (customerId) => ({ customer_id: customerId, include_balance: true }),
      balancesOf: (json) => (json as { data: Array<{ balance?: number }> }).data.map((credit) => credit.balance ?? Number.NaN),
    },
  };
}

export interface ReadOutcome {
  latenciesMs: number[];
  failures: Record<string, number>;
  /** Balances read that were not a number between 0 and the pool. */
  outOfRange: number;
  minBalance: number;
  maxBalance: number;
  /** Cold reads: how long the ingest call before each read took to be answered. */
  writeMs: number[];
  /** With `--server-timing`: per stage the server named, its time in each read that went through it; `outside` is each read's latency less its `app`. */
  stagesMs: Map<string, number[]>;
  /** With `--server-timing`: each read's latency and the header it came with. */
  timedReads: Array<{ latencyMs: number; serverTiming: string }>;
}

const emptyOutcome = (): ReadOutcome => ({ latenciesMs: [], failures: {}, outOfRange: 0, minBalance: Infinity, maxBalance: -Infinity, writeMs: [], stagesMs: new Map(), timedReads: [] });

/**
 * `count` reads of `read` for one customer, one after the other on the client's one keep-alive
 * connection. With `before`, each read comes right after it (a write): only the read is timed.
 */
export async function timeReads(
  client: ApiClient,
  { read, customerId, count, pool, before }: { read: BalanceRead; customerId: string; count: number; pool: number; before?: (index: number) => Promise<void> },
): Promise<ReadOutcome> {
  const outcome = emptyOutcome();
  const payload = JSON.stringify(read.body(customerId));
  for (let i = 0; i < count; i++) {
    if (before) {
      const writeStarted = performance.now();
      await before(i);
      outcome.writeMs.push(performance.now() - writeStarted);
    }
    const startedAt = performance.now();
    const response = await client.post(read.path, payload);
    const latency = performance.now() - startedAt;
    if (response.status !== 200) {
      outcome.failures[response.status] = (outcome.failures[response.status] ?? 0) + 1;
      continue;
    }
    outcome.latenciesMs.push(latency);
    recordStages(outcome.stagesMs, response.serverTiming, latency);
    if (response.serverTiming) outcome.timedReads.push({ latencyMs: latency, serverTiming: response.serverTiming });
    for (const balance of read.balancesOf(JSON.parse(response.body))) {
      if (!(balance >= 0 && balance <= pool)) outcome.outOfRange++;
      outcome.minBalance = Math.min(outcome.minBalance, balance);
      outcome.maxBalance = Math.max(outcome.maxBalance, balance);
    }
  }
  return outcome;
}

/**
 * The write before each cold read: one event for the customer (timestamp now, so in its open
 * period; 1,000 tokens by user `user(index)`), awaited: the account has changed when it is answered.
 * Transaction ids count on across every call of the returned function.
 */
export function coldWrite(client: ApiClient, { transactionPrefix, alias, user }: { transactionPrefix: string; alias: string; user: (index: number) => number }) {
  let sequence = 0;
  return async (index: number) => {
    const userIndex = user(index);
    const event = {
      transaction_id: `${transactionPrefix}-${sequence++}`,
      customer_id: alias,
      event_type: EVENT_TYPE,
      timestamp: new Date().toISOString(),
      properties: { user_id: `user-${userIndex}`, team: `team-${userIndex % 4}`, tokens: 1000 },
    };
    const response = await client.post('/v1/ingest', [event]);
    if (response.status !== 200) throw new Error(`POST /v1/ingest before a cold read answered ${response.status}: ${response.body.slice(0, 300)}`);
  };
}

/** A `Server-Timing` header's stages added to `stages`, with `outside`: the read's latency less the server's `app`. */
function recordStages(stages: Map<string, number[]>, header: string | undefined, latencyMs: number): void {
  if (!header) return;
  const push = (stage: string, ms: number) => {
    const list = stages.get(stage);
    if (list) list.push(ms);
    else stages.set(stage, [ms]);
  };
  for (const part of header.split(',')) {
    const match = /^\s*([\w-]+);dur=([0-9.]+)\s*$/.exec(part);
    if (match) push(match[1]!, Number(match[2]));
  }
  const app = /(?:^|,)\s*app;dur=([0-9.]+)/.exec(header);
  if (app) push('outside', latencyMs - Number(app[1]));
}

/**
 * Per stage, how many reads went through it and its p50/p99/max over those (not adding up to the
 * read's: each percentile is of its own stage). `barrier` runs beside `usage` and `compute`.
 */
function stagesSummary(outcome: ReadOutcome) {
  const slowest = [...outcome.timedReads].sort((a, b) => b.latencyMs - a.latencyMs).slice(0, 5);
  return {
    ...Object.fromEntries(
      [...outcome.stagesMs].map(([stage, ms]) => {
        const { p50_ms, p99_ms, max_ms } = summarizeLatencies(ms);
        return [stage, { reads: ms.length, p50_ms, p99_ms, max_ms }];
      }),
    ),
    slowest_reads: slowest.map((read) => ({ ms: Number(read.latencyMs.toFixed(2)), server_timing: read.serverTiming })),
  };
}

/** A balance read figure: p99 as the value, held to the targets' p99 ≤ 5 ms when the customer has the events the target is about. */
export function readFigure(outcome: ReadOutcome, { events, heldToTarget, mode }: { events: number | null; heldToTarget: boolean; mode: string }): Figure {
  const latency = summarizeLatencies(outcome.latenciesMs);
  const failed = Object.values(outcome.failures).reduce((sum, count) => sum + count, 0);
  const measured = outcome.latenciesMs.length > 0;
  return {
    value: measured ? latency.p99_ms : null,
    unit: 'ms (p99)',
    target: TARGETS.balanceReadP99Ms.text,
    met: heldToTarget && failed === 0 && outcome.outOfRange === 0 && measured && latency.p99_ms <= TARGETS.balanceReadP99Ms.value,
    reads: mode,
    p50_ms: latency.p50_ms,
    p99_ms: latency.p99_ms,
    max_ms: latency.max_ms,
    latency,
    ...(outcome.writeMs.length > 0 && { write_before_each_read: summarizeLatencies(outcome.writeMs) }),
    ...(outcome.stagesMs.size > 0 && { server_stages: stagesSummary(outcome) }),
    failed_reads: failed,
    failures_by_status: outcome.failures,
    balances_out_of_range: outcome.outOfRange,
    balance_min: Number.isFinite(outcome.minBalance) ? outcome.minBalance : null,
    balance_max: Number.isFinite(outcome.maxBalance) ? outcome.maxBalance : null,
    customer_events: events,
  };
}

/**
 * The customer's pool recomputed from its raw events (tokens × token price + events × request
 * price, off the pool) and compared with `getNetBalance`: checks that the rollups, rating and
 * drawdown account for every event ingested.
 */
export async function checkEndToEnd(client: ApiClient, context: BenchContext, heavy: HeavyCustomer) {
  const { rows } = await context.database.pool.query<{ events: string; tokens: string }>(
    `SELECT count(*) AS events, coalesce(sum((properties->>'tokens')::numeric), 0) AS tokens
       FROM events WHERE tenant_id = $1 AND customer_id = $2 AND "timestamp" >= $3 AND "timestamp" < $4 AND event_type = $5`,
    [context.tenantId, heavy.customer.id, heavy.periodStart, heavy.periodEnd, EVENT_TYPE],
  );
  const { events, tokens } = rows[0]!;
  const used = new Decimal(tokens).mul(TOKEN_PRICE).add(new Decimal(events).mul(REQUEST_PRICE));
  const expected = Decimal.max(0, new Decimal(heavy.poolSize).sub(used));
  const answer = await client.json<{ data: { balance: number } }>('POST', NET_BALANCE_PATH, { customer_id: heavy.customer.id, credit_type_id: context.tenant.plan.aiCredits });
  const actual = answer.data.balance;
  return { customer_id: heavy.customer.id, events: Number(events), tokens: Number(tokens), pool: heavy.poolSize, expected: expected.toNumber(), actual, matches: expected.sub(actual).abs().lt(1e-6) };
}

/** The end-to-end check as a figure: 1 when the net balance matched. */
export function endToEndFigure(check: Awaited<ReturnType<typeof checkEndToEnd>>, unit: string): Figure {
  return { value: check.matches ? 1 : 0, unit, target: 'all of them', met: check.matches, checks: [check] };
}

/**
 * Balance reads of the million-event customer (the targets (docs/rules.md): one customer, 100 seats, a million
 * events in the period, p99 ≤ 5 ms), `getNetBalance` and `customerBalances/list` on one
 * keep-alive connection: warm (`--balance-reads` in a row), then cold (`--balance-cold-reads`,
 * each right after an ingest call for that customer was answered: the account just changed).
 */
export const balanceReads: Phase = {
  name: 'balances',
  async run(context) {
    const { options } = context;
    const heavy = await millionEventCustomer(context);
    const customerId = heavy.customer.id;
    const endpoints = balanceEndpoints(context.tenant.plan.aiCredits);
    const client = new ApiClient(context.server.baseUrl, context.server.key, { connections: 1 });
    const heldToTarget = heavy.events >= 1_000_000;
    const ingestOne = coldWrite(client, { transactionPrefix: `${context.runId}-cold`, alias: heavy.customer.alias, user: () => 0 });
    try {
      // A few reads first, so that the first JIT compilations are not in the figures.
      for (let i = 0; i < 10; i++) {
        await client.post(endpoints.list.path, endpoints.list.body(customerId));
        await client.post(endpoints.net.path, endpoints.net.body(customerId));
      }
      const pool = heavy.poolSize;
      progress(`balances: the million-event customer (${heavy.events} events): ${options.balanceReads} getNetBalance in a row, then ${options.balanceReads} customerBalances/list`);
      const { result: netWarm, cores: netWarmCores } = await measuredWindow(context, 'balances_net', () =>
        timeReads(client, { read: endpoints.net, customerId, count: options.balanceReads, pool }),
      );
      const listSampler = options.sampleDatabase ? sampleDatabaseActivity(context.database.pool, { databaseName: options.databaseName }) : undefined;
      const { result: listWarm, cores: listWarmCores } = await measuredWindow(context, 'balances_list', () =>
        timeReads(client, { read: endpoints.list, customerId, count: options.balanceReads, pool }),
      );
      if (listSampler) context.diagnostics.database_activity_during_balance_list = await listSampler.stop();

      progress(`balances: ${options.balanceColdReads} cold reads of each, every one right after an ingest call for the customer`);
      const coldSampler = options.sampleDatabase ? sampleDatabaseActivity(context.database.pool, { databaseName: options.databaseName }) : undefined;
      const { result: netCold, cores: netColdCores } = await measuredWindow(context, 'balances_net_cold', () =>
        timeReads(client, { read: endpoints.net, customerId, count: options.balanceColdReads, pool, before: ingestOne }),
      );
      if (coldSampler) context.diagnostics.database_activity_during_balance_net_cold = await coldSampler.stop();
      const { result: listCold, cores: listColdCores } = await measuredWindow(context, 'balances_list_cold', () =>
        timeReads(client, { read: endpoints.list, customerId, count: options.balanceColdReads, pool, before: ingestOne }),
      );

      const { events, rollups } = await heavyCustomerCounts(context, customerId, heavy.periodStart);
      const common = { customer_id: customerId, period: heavy.period, usage_rollup_rows: rollups };
      const figure = (outcome: ReadOutcome, mode: string, cores: unknown) => ({ ...readFigure(outcome, { events, heldToTarget, mode }), ...common, cores_used: cores });
      context.figures.balance_read_net_balance = figure(netWarm, `warm: ${options.balanceReads} in a row`, netWarmCores);
      context.figures.balance_read_net_balance_cold = figure(netCold, 'cold: each right after an ingest call for the customer was answered (not timed)', netColdCores);
      context.figures.balance_read_list = figure(listWarm, `warm: ${options.balanceReads} in a row`, listWarmCores);
      context.figures.balance_read_list_cold = figure(listCold, 'cold: each right after an ingest call for the customer was answered (not timed)', listColdCores);
      const p99 = (name: string) => context.figures[name]!.value;
      progress(
        `balances: getNetBalance p99 ${p99('balance_read_net_balance')} ms warm, ${p99('balance_read_net_balance_cold')} ms cold; ` +
          `customerBalances/list p99 ${p99('balance_read_list')} ms warm, ${p99('balance_read_list_cold')} ms cold`,
      );
      await entitlementCheckFigures(context, client, heavy, options.balanceReads);
      context.figures.balance_end_to_end = endToEndFigure(
        await checkEndToEnd(client, context, heavy),
        'of 1 customer (the million-event one) whose net balance = pool − rated usage of its raw events',
      );
    } finally {
      client.close();
    }
  },
};
