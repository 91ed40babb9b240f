import type { AiPlan } from '../../src/demo/aiPlan.js';
import type { BenchCustomer } from '../environment/tenant.js';
import { ApiClient } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { round } from '../lib/stats.js';
import { balanceEndpoints, checkEndToEnd, coldWrite, endToEndFigure, readFigure, timeReads, type BalanceRead, type ReadOutcome } from './balanceReads.js';
import type { BenchContext, Phase } from './context.js';
import { heavyCustomerCounts, heavyPeriodOf, sendOverPeriod, type HeavyCustomer } from './heavyCustomer.js';
import { measuredWindow } from './phaseWindow.js';

const SEAT_ALIAS = 'bench-seat-customer';
export const SEAT_BALANCES_PATH = '/v1/contracts/seatBalances/list';
/** The usage property that names a seat: the plan's metrics group by it (`[["user_id"], ["team"]]`). */
const SEAT_GROUP_KEY = 'user_id';
/** What the seats' own credit and the pool grant per seat, per event the customer gets: the own credit runs out (an event costs 0.11 on average), the pool does not. */
const OWN_CREDITS_PER_EVENT = 0.05;
const POOLED_CREDITS_PER_EVENT = 0.25;

/** The seat ids: the event generator's users `user-0` … `user-<seats − 1>`, so every event names a seat. */
const seatIdsOf = (seats: number) => Array.from({ length: seats }, (_, index) => `user-${index}`);

/**
 * The seat customer's contract: the plan's rate card, a SEAT_BASED subscription with `seats` ids
 * (`seat_group_key: user_id`), an INDIVIDUAL recurring credit per seat (priority 1) and a POOLED
 * one (priority 2) — rule 29's hybrid — with usage statements anchored at the period's start when
 * it is not the 1st of the month.
 */
function seatContract(plan: AiPlan, customerId: string, { start, monthEnd, seats, ownPerSeat, pooledPerSeat }: { start: Date; monthEnd: boolean; seats: number; ownPerSeat: number; pooledPerSeat: number }) {
  const startingAt = start.toISOString();
  const credit = (allocation: 'INDIVIDUAL' | 'POOLED', unitPrice: number, priority: number) => ({
    product_id: plan.poolProduct,
    name: allocation === 'INDIVIDUAL' ? 'Own AI credits' : 'Pooled AI credits',
    access_amount: { credit_type_id: plan.aiCredits, unit_price: unitPrice },
    commit_duration: { value: 1, unit: 'PERIODS' },
    priority,
    starting_at: startingAt,
    subscription_config: { subscription_id: 'seats', allocation, apply_seat_increase_config: { is_prorated: true } },
  });
  return {
    customer_id: customerId,
    rate_card_id: plan.rateCard,
    starting_at: startingAt,
    ...(monthEnd && { usage_statement_schedule: { frequency: 'MONTHLY', day: 'CUSTOM_DATE', billing_anchor_date: startingAt } }),
    subscriptions: [
      {
        temporary_id: 'seats',
        collection_schedule: 'ADVANCE',
        quantity_management_mode: 'SEAT_BASED',
        seat_config: { initial_seat_ids: seatIdsOf(seats), seat_group_key: SEAT_GROUP_KEY },
        proration: { is_prorated: true, invoice_behavior: 'BILL_ON_NEXT_COLLECTION_DATE' },
        subscription_rate: { product_id: plan.seatsProduct, billing_frequency: 'MONTHLY' },
      },
    ],
    recurring_credits: [credit('INDIVIDUAL', ownPerSeat, 1), credit('POOLED', pooledPerSeat, 2)],
  };
}

interface SeatCustomer extends HeavyCustomer {
  contractId: string;
  ownPerSeat: number;
}

/** The customer, its contract, and `--seat-events` events over its seats through POST /v1/ingest (untimed). */
async function setUp(context: BenchContext): Promise<SeatCustomer> {
  const { options, tenant } = context;
  const { start, end } = heavyPeriodOf(options.heavyPeriod, tenant.periodStart);
  const ownPerSeat = Math.max(1, Math.ceil((options.seatEvents * OWN_CREDITS_PER_EVENT) / options.seatCount));
  const pooledPerSeat = Math.max(1, Math.ceil((options.seatEvents * POOLED_CREDITS_PER_EVENT) / options.seatCount));
  const client = new ApiClient(context.server.baseUrl, context.server.key, { connections: 1 });
  let customer: BenchCustomer;
  let contractId: string;
  try {
    const { data } = await client.json<{ data: { id: string } }>('POST', '/v1/customers', { name: 'Bench seat customer', ingest_aliases: [SEAT_ALIAS] });
    const body = seatContract(tenant.plan, data.id, { start, monthEnd: options.heavyPeriod === 'month-end', seats: options.seatCount, ownPerSeat, pooledPerSeat });
    contractId = (await client.json<{ data: { id: string } }>('POST', '/v1/contracts/create', body)).data.id;
    customer = { id: data.id, alias: SEAT_ALIAS };
  } finally {
    client.close();
  }
  progress(`seats: ${options.seatCount} seats with ${ownPerSeat} own and ${pooledPerSeat} pooled AI credits each; sending ${options.seatEvents} events over them (untimed setup)`);
  const { seconds, load } = await sendOverPeriod(context, { label: 'seats', customer, count: options.seatEvents, start, users: options.seatCount });
  const { events, rollups } = await heavyCustomerCounts(context, customer.id, start);
  progress(`seats: ${events} events in ${seconds.toFixed(1)} s (${load.events_per_s} events/s), ${rollups} rollup rows`);
  const poolSize = options.seatCount * (ownPerSeat + pooledPerSeat);
  context.figures.seat_customer = {
    value: events,
    unit: 'events in the open period of the seat customer (SEAT_BASED, INDIVIDUAL credit per seat beside a pool)',
    period: options.heavyPeriod,
    period_start: start.toISOString(),
    period_end: end.toISOString(),
    period_so_far_hours: round((Date.now() - start.getTime()) / 3_600_000, 1),
    usage_rollup_rows: rollups,
    seats: options.seatCount,
    own_credits_per_seat: ownPerSeat,
    pooled_credits_per_seat: pooledPerSeat,
    granted: poolSize,
    setup_seconds: round(seconds, 1),
    events_per_s: load.events_per_s,
    failed_requests: load.failed_requests,
    failures_by_status: load.failures_by_status,
  };
  return { customer, contractId, events, periodStart: start, periodEnd: end, period: options.heavyPeriod, poolSize, ownPerSeat };
}

/** `listSeatBalances` of every seat (one page of 100): each seat's own balance, between 0 and its credit. */
function seatBalancesRead(contractId: string): BalanceRead {
  return {
    path: SEAT_BALANCES_PATH,
    body: (customerId) => ({ customer_id: customerId, contract_id: contractId, limit: 100 }),
    balancesOf: (json) => (json as { data: Array<{ balances: Array<{ balance: number }> }> }).data.flatMap((seat) => seat.balances.map((b) => b.balance)),
  };
}

/**
 * Balance reads of a customer on 100 seats with a credit of their own each beside a pool
 * (docs/rules.md rules 28–29), with `--seat-events` events spread over the seats in its open period:
 * `getNetBalance`, `customerBalances/list` and `listSeatBalances`, warm (`--balance-reads` in a
 * row) and cold (`--balance-cold-reads`, each right after an ingest call for one of its seats was
 * answered), held to the targets' p99 ≤ 5 ms at a million events.
 */
export const seatBalanceReads: Phase = {
  name: 'seats',
  async run(context) {
    const { options } = context;
    const seat = await setUp(context);
    const customerId = seat.customer.id;
    const { net, list } = balanceEndpoints(context.tenant.plan.aiCredits);
    const reads: Array<{ name: string; read: BalanceRead; max: number }> = [
      { name: 'net', read: net, max: seat.poolSize },
      { name: 'list', read: list, max: seat.poolSize },
      { name: 'seat_list', read: seatBalancesRead(seat.contractId), max: seat.ownPerSeat },
    ];
    const client = new ApiClient(context.server.baseUrl, context.server.key, { connections: 1 });
    const heldToTarget = seat.events >= 1_000_000;
    // Each cold read follows an event of the next seat in turn.
    const write = coldWrite(client, { transactionPrefix: `${context.runId}-seat-cold`, alias: seat.customer.alias, user: (index) => index % options.seatCount });
    try {
      for (let i = 0; i < 10; i++) for (const { read } of reads) await client.post(read.path, read.body(customerId));
      const outcomes: Record<string, { warm: ReadOutcome; cold: ReadOutcome; warmCores: unknown; coldCores: unknown }> = {};
      for (const { name, read, max } of reads) {
        progress(`seats: ${options.balanceReads} warm reads of ${read.path}, then ${options.balanceColdReads} cold`);
        const warm = await measuredWindow(context, `seats_${name}`, () => timeReads(client, { read, customerId, count: options.balanceReads, pool: max }));
        const cold = await measuredWindow(context, `seats_${name}_cold`, () =>
          timeReads(client, { read, customerId, count: options.balanceColdReads, pool: max, before: write }),
        );
        outcomes[name] = { warm: warm.result, cold: cold.result, warmCores: warm.cores, coldCores: cold.cores };
      }
      const { events, rollups } = await heavyCustomerCounts(context, customerId, seat.periodStart);
      const common = { customer_id: customerId, seats: options.seatCount, allocation: 'INDIVIDUAL (priority 1) + POOLED (priority 2)', period: seat.period, usage_rollup_rows: rollups };
      const coldMode = 'cold: each right after an ingest call for one of its seats was answered (not timed)';
      for (const [name, outcome] of Object.entries(outcomes)) {
        context.figures[`seat_balance_read_${name}`] = { ...readFigure(outcome.warm, { events, heldToTarget, mode: `warm: ${options.balanceReads} in a row` }), ...common, cores_used: outcome.warmCores };
        context.figures[`seat_balance_read_${name}_cold`] = { ...readFigure(outcome.cold, { events, heldToTarget, mode: coldMode }), ...common, cores_used: outcome.coldCores };
      }
      progress(
        `seats: p99 warm/cold (ms): ` +
          Object.keys(outcomes)
            .map((name) => `${name} ${context.figures[`seat_balance_read_${name}`]!.value}/${context.figures[`seat_balance_read_${name}_cold`]!.value}`)
            .join(', '),
      );
      context.figures.seat_balance_end_to_end = endToEndFigure(
        await checkEndToEnd(client, context, seat),
        'of 1 customer (the seat one) whose net balance = own credits + pool − rated usage of its raw events (every event names a seat)',
      );
    } finally {
      client.close();
    }
  },
};
