import { Decimal } from 'decimal.js';
import { sampleDatabaseActivity } from '../diagnostics/databaseActivity.js';
import { EVENT_TYPE, REQUEST_PRICE, TOKEN_PRICE } from '../environment/tenant.js';
import { ApiClient } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { summarizeLatencies } from '../lib/stats.js';
import { TARGETS } from '../targets.js';
import type { BenchContext, Figure, Phase } from './context.js';
import { measuredWindow } from './phaseWindow.js';

interface ReadOutcome {
  latenciesMs: number[];
  failures: Record<string, number>;
  /** Balances read that were not a number between 0 and the pool size. */
  outOfRange: number;
  minBalance: number;
  maxBalance: number;
}

/** `count` sequential reads of `path` for random customers, on one keep-alive connection. */
async function timeReads(
  client: ApiClient,
  context: BenchContext,
  { path, body, balancesOf, count }: { path: string; body: (customerId: string) => unknown; balancesOf: (json: unknown) => number[]; count: number },
): Promise<ReadOutcome> {
  const outcome: ReadOutcome = { latenciesMs: [], failures: {}, outOfRange: 0, minBalance: Infinity, maxBalance: -Infinity };
  const { customers } = context.tenant;
  for (let i = 0; i < count; i++) {
    const customer = customers[Math.floor(Math.random() * customers.length)]!;
    const payload = JSON.stringify(body(customer.id));
    const startedAt = performance.now();
    const response = await client.post(path, payload);
    const latency = performance.now() - startedAt;
    if (response.status !== 200) {
      outcome.failures[response.status] = (outcome.failures[response.status] ?? 0) + 1;
      continue;
    }
    outcome.latenciesMs.push(latency);
    for (const balance of balancesOf(JSON.parse(response.body))) {
      if (!(balance >= 0 && balance <= context.tenant.poolSize)) outcome.outOfRange++;
      outcome.minBalance = Math.min(outcome.minBalance, balance);
      outcome.maxBalance = Math.max(outcome.maxBalance, balance);
    }
  }
  return outcome;
}

function readFigure(outcome: ReadOutcome, eventsInPeriod: number | null): Figure {
  const latency = summarizeLatencies(outcome.latenciesMs);
  const failed = Object.values(outcome.failures).reduce((sum, count) => sum + count, 0);
  return {
    value: outcome.latenciesMs.length ? latency.p99_ms : null,
    unit: 'ms (p99)',
    target: TARGETS.balanceReadP99Ms.text,
    met: failed === 0 && outcome.latenciesMs.length > 0 && latency.p99_ms <= TARGETS.balanceReadP99Ms.value && (eventsInPeriod ?? 0) >= 1_000_000,
    latency,
    failed_reads: failed,
    failures_by_status: outcome.failures,
    balances_out_of_range: outcome.outOfRange,
    balance_min: Number.isFinite(outcome.minBalance) ? outcome.minBalance : null,
    balance_max: Number.isFinite(outcome.maxBalance) ? outcome.maxBalance : null,
    events_in_period: eventsInPeriod,
  };
}

/**
 * The pool of a few customers, recomputed from their raw events (tokens × token price + events ×
 * request price, off the pool) and compared with `getNetBalance`: checks that the rollups, rating
 * and drawdown account for every event ingested.
 */
async function checkBalancesEndToEnd(client: ApiClient, context: BenchContext, count = 5) {
  const checks = [];
  for (const customer of context.tenant.customers.slice(0, count)) {
    const { rows } = await context.database.pool.query<{ events: string; tokens: string }>(
      `SELECT count(*) AS events, coalesce(sum((properties->>'tokens')::numeric), 0) AS tokens
         FROM events WHERE tenant_id = $1 AND customer_id = $2 AND "timestamp" >= $3 AND event_type = $4`,
      // Only the priced events: the alert phase's probes (another event type) cost nothing.
      [context.tenantId, customer.id, context.tenant.periodStart, EVENT_TYPE],
    );
    const { events, tokens } = rows[0]!;
    const used = new Decimal(tokens).mul(TOKEN_PRICE).add(new Decimal(events).mul(REQUEST_PRICE));
    const expected = Decimal.max(0, new Decimal(context.tenant.poolSize).sub(used));
    const answer = await client.json<{ data: { balance: number } }>('POST', '/v1/contracts/customerBalances/getNetBalance', {
      customer_id: customer.id,
      credit_type_id: context.tenant.plan.aiCredits,
    });
    const actual = answer.data.balance;
    checks.push({ customer_id: customer.id, events: Number(events), tokens: Number(tokens), expected: expected.toNumber(), actual, matches: expected.sub(actual).abs().lt(1e-6) });
  }
  return checks;
}

/** Balance reads once the period holds the events: `customerBalances/list` and `getNetBalance`, each `--balance-reads` times. */
export const balanceReads: Phase = {
  name: 'balances',
  async run(context) {
    const client = new ApiClient(context.server.baseUrl, context.server.key, { connections: 1 });
    const eventsInPeriod = context.figures.events_in_period?.value ?? null;
    const count = context.options.balanceReads;
    try {
      // A few reads first, so that the first JIT compilations are not in the figures.
      for (const customer of context.tenant.customers.slice(0, 20)) {
        await client.post('/v1/contracts/customerBalances/list', { customer_id: customer.id, include_balance: true });
      }
      progress(`balances: ${count} sequential customerBalances/list reads, then ${count} getNetBalance`);
      const sampler = context.options.sampleDatabase ? sampleDatabaseActivity(context.database.pool, { databaseName: context.options.databaseName }) : undefined;
      const { result: list, cores: listCores } = await measuredWindow(context, 'balances_list', () =>
        timeReads(client, context, {
          path: '/v1/contracts/customerBalances/list',
          body: (customerId) => ({ customer_id: customerId, include_balance: true }),
          balancesOf: (json) => (json as { data: Array<{ balance?: number }> }).data.map((credit) => credit.balance ?? Number.NaN),
          count,
        }),
      );
      if (sampler) context.diagnostics.database_activity_during_balance_list = await sampler.stop();
      const { result: net, cores: netCores } = await measuredWindow(context, 'balances_net', () =>
        timeReads(client, context, {
          path: '/v1/contracts/customerBalances/getNetBalance',
          body: (customerId) => ({ customer_id: customerId, credit_type_id: context.tenant.plan.aiCredits }),
          balancesOf: (json) => [(json as { data: { balance: number } }).data.balance],
          count,
        }),
      );
      context.figures.balance_read_list = { ...readFigure(list, eventsInPeriod), cores_used: listCores };
      context.figures.balance_read_net_balance = { ...readFigure(net, eventsInPeriod), cores_used: netCores };
      progress(`balances: customerBalances/list p99 ${context.figures.balance_read_list.value} ms, getNetBalance p99 ${context.figures.balance_read_net_balance.value} ms`);
      const checks = await checkBalancesEndToEnd(client, context);
      context.figures.balance_end_to_end = {
        value: checks.filter((check) => check.matches).length,
        unit: `of ${checks.length} customers whose net balance = pool − rated usage of their raw events`,
        target: 'all of them',
        met: checks.every((check) => check.matches),
        checks,
      };
    } finally {
      client.close();
    }
  },
};
