import { createAiPlan, createPooledSeatCustomer, startOfMonth, type AiPlan } from '../../src/demo/aiPlan.js';
import { ApiClient, mapConcurrently } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import type { EventSpace } from '../load/events.js';
import type { BenchOptions } from '../options.js';

/** The event type both metrics count, and the AI-credit prices the end-to-end check recomputes. */
export const EVENT_TYPE = 'api_call';
/** What `--timestamps recent` means: the last five minutes. */
const RECENT_MS = 5 * 60_000;

/** The events a load sends to the bench's tenant, as the options shape them; `transactionPrefix` keeps each load's ids apart. */
export function benchEventSpace(options: BenchOptions, tenantId: string, tenant: BenchTenant, transactionPrefix: string): EventSpace {
  return {
    tenantId,
    customers: tenant.customers,
    usersPerCustomer: options.usersPerCustomer,
    teams: options.teams,
    eventType: EVENT_TYPE,
    periodStartMs: tenant.periodStart.getTime(),
    recentMs: options.timestamps === 'recent' ? RECENT_MS : undefined,
    transactionPrefix,
  };
}
export const TOKEN_PRICE = '0.0001';
export const REQUEST_PRICE = '0.01';

export interface BenchCustomer {
  id: string;
  alias: string;
}

export interface BenchTenant {
  plan: AiPlan;
  /** Where every contract and its open period start: the first of the current UTC month. */
  periodStart: Date;
  customers: BenchCustomer[];
  /** The pool each contract starts its period with: seats × credits per seat. */
  poolSize: number;
}

/**
 * The tenant the load runs against: one AI plan (tokens SUM and requests COUNT, grouped by user
 * and team, priced in AI credits) and `customers` customers on a contract each, with `seats` seats
 * and `creditsPerSeat` pooled credits per seat. Requests go out in parallel; this is not timed.
 */
export async function setUpTenant(
  client: ApiClient,
  { customers, seats, creditsPerSeat, concurrency }: { customers: number; seats: number; creditsPerSeat: number; concurrency: number },
): Promise<BenchTenant> {
  const api = client.asApi();
  const plan = await createAiPlan(api, {
    name: 'Bench plan',
    aiCreditInCents: 100,
    usage: [
      { name: 'Tokens', metric: { name: 'tokens', eventType: EVENT_TYPE, aggregation: 'SUM', key: 'tokens' }, creditsPerUnit: TOKEN_PRICE },
      { name: 'Requests', metric: { name: 'requests', eventType: EVENT_TYPE, aggregation: 'COUNT' }, creditsPerUnit: REQUEST_PRICE },
    ],
  });
  const periodStart = startOfMonth(new Date());
  let done = 0;
  const created = await mapConcurrently(
    Array.from({ length: customers }, (_, index) => index),
    concurrency,
    async (index) => {
      const alias = customerAlias(index);
      const { customerId } = await createPooledSeatCustomer(api, plan, {
        name: `Bench customer ${index}`,
        ingestAlias: alias,
        seats,
        creditsPerSeat,
        startingAt: periodStart.toISOString(),
      });
      if (++done % 250 === 0) progress(`  ${done}/${customers} customers with contracts`);
      return { id: customerId, alias };
    },
  );
  return { plan, periodStart, customers: created, poolSize: seats * creditsPerSeat };
}

export function customerAlias(index: number): string {
  return `bench-customer-${String(index).padStart(5, '0')}`;
}
