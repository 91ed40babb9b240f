import { ApiClient } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { round } from '../lib/stats.js';
import type { Phase } from './context.js';
import { balanceEndpoints, readFigure, timeReads } from './balanceReads.js';
import { measuredWindow } from './phaseWindow.js';

/** A Monday, on an hour: the contract and its weekly credit start here. */
const SINCE = '2000-01-03T00:00:00Z';
/** AI credits each week's credit grants (one week's credit is live at a time: it lasts one period). */
const WEEKLY_CREDITS = 100;
/** How long the bench waits for the server's period close to catch up with the contract's past statement periods. */
const CLOSE_WAIT_MS = 10 * 60_000;

/**
 * Balance reads for a customer with a long history: a contract from 2000-01-03 on the plan's rate
 * card, with a WEEKLY recurring credit of its own (no subscription link), so some 1,400 weekly
 * credit segments by now, and monthly usage statements since January 2000.
 *
 * The server closes every ended statement period of a contract (oldest first), and a contract's
 * creation sets off a close of its customer: this one has some 320 months to close. The bench
 * waits until that has caught up (the contract's last USAGE invoice ends at the start of the
 * current period), untimed, and reports how long it took, so that the reads see the state a
 * contract that old has in production (every past period invoiced) and do not race the close.
 */
export const weeklySince2000: Phase = {
  name: 'weekly',
  async run(context) {
    const { options, tenant, database, tenantId } = context;
    const endpoints = balanceEndpoints(tenant.plan.aiCredits);
    const client = new ApiClient(context.server.baseUrl, context.server.key, { connections: 1 });
    try {
      const customerId = (await client.json<{ data: { id: string } }>('POST', '/v1/customers', { name: 'Bench weekly credit since 2000', ingest_aliases: ['bench-weekly-since-2000'] })).data.id;
      const created = performance.now();
      const contractId = (
        await client.json<{ data: { id: string } }>('POST', '/v1/contracts/create', {
          customer_id: customerId,
          rate_card_id: tenant.plan.rateCard,
          starting_at: SINCE,
          recurring_credits: [
            {
              product_id: tenant.plan.poolProduct,
              name: 'Weekly AI credits',
              access_amount: { credit_type_id: tenant.plan.aiCredits, unit_price: WEEKLY_CREDITS, quantity: 1 },
              commit_duration: { value: 1, unit: 'PERIODS' },
              priority: 1,
              recurrence_frequency: 'WEEKLY',
              starting_at: SINCE,
            },
          ],
        })
      ).data.id;
      // Monthly statements from the 1st of January 2000 (FIRST_OF_MONTH, the default): every one up to the current month's start is due.
      const now = new Date();
      const currentPeriodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      const periodsDue = (now.getUTCFullYear() - 2000) * 12 + now.getUTCMonth();
      progress(`weekly: contract since ${SINCE}; waiting for the server's period close of its ${periodsDue} past monthly periods (untimed)`);
      let closed = { invoices: 0, until: null as Date | null };
      while (performance.now() - created < CLOSE_WAIT_MS) {
        const { rows } = await database.pool.query<{ invoices: string; until: Date | null }>(
          `SELECT count(*)::text AS invoices, max(end_timestamp) AS until FROM invoices WHERE tenant_id = $1 AND contract_id = $2 AND type = 'USAGE'`,
          [tenantId, contractId],
        );
        closed = { invoices: Number(rows[0]!.invoices), until: rows[0]!.until };
        if (closed.until && closed.until.getTime() >= currentPeriodStart.getTime()) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const caughtUp = closed.until !== null && closed.until.getTime() >= currentPeriodStart.getTime();
      const closeSeconds = round((performance.now() - created) / 1000, 1);
      progress(`weekly: ${closed.invoices} invoices closed in ${closeSeconds} s${caughtUp ? '' : ` (not caught up after ${CLOSE_WAIT_MS / 60_000} min: the reads race the close)`}`);

      const figures: Record<string, ReturnType<typeof readFigure>> = {};
      for (const [name, read] of [
        ['getNetBalance', endpoints.net],
        ['customerBalances/list', endpoints.list],
      ] as const) {
        await client.post(read.path, read.body(customerId)); // untimed: the first read after the close
        const { result, cores } = await measuredWindow(context, `weekly_${name === 'getNetBalance' ? 'net' : 'list'}`, () =>
          timeReads(client, { read, customerId, count: options.weeklyReads, pool: WEEKLY_CREDITS }),
        );
        figures[name] = { ...readFigure(result, { events: 0, heldToTarget: caughtUp, mode: `1 untimed, then ${options.weeklyReads} in a row` }), cores_used: cores };
      }
      const net = figures.getNetBalance!;
      const list = figures['customerBalances/list']!;
      context.figures.balance_read_weekly_since_2000 = {
        ...net,
        target: `p99 ≤ 5 ms (the targets' balance read target), getNetBalance and customerBalances/list, for a contract with weekly credits since ${SINCE.slice(0, 10)}`,
        // The headline is getNetBalance's p99; both reads are held to the target.
        met: Boolean(net.met && list.met),
        customer_id: customerId,
        contract: `from ${SINCE}, on the plan's rate card, monthly statements; a WEEKLY recurring credit of ${WEEKLY_CREDITS} AI credits (quantity 1, one period each) from ${SINCE}, no subscription`,
        weekly_segments_so_far: Math.floor((now.getTime() - Date.parse(SINCE)) / (7 * 24 * 3_600_000)) + 1,
        net_balance: { p50_ms: net.p50_ms, p99_ms: net.p99_ms, max_ms: net.max_ms, failed_reads: net.failed_reads },
        list_balances: { p50_ms: list.p50_ms, p99_ms: list.p99_ms, max_ms: list.max_ms, failed_reads: list.failed_reads, latency: list.latency, cores_used: list.cores_used },
        balance_expected: WEEKLY_CREDITS,
        period_close_before_reads: {
          note: 'the server closes every past monthly period of the contract (oldest first) when it is created; the reads wait for that, untimed',
          periods_due: periodsDue,
          invoices_closed: closed.invoices,
          closed_until: closed.until?.toISOString() ?? null,
          caught_up: caughtUp,
          seconds: closeSeconds,
        },
      };
      delete context.figures.balance_read_weekly_since_2000.customer_events;
      progress(`weekly: getNetBalance p99 ${net.p99_ms} ms, customerBalances/list p99 ${list.p99_ms} ms`);
    } finally {
      client.close();
    }
  },
};
