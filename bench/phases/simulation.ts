import { TestClock } from '../../src/lib/clock.js';
import { migrate } from '../../src/lib/db/migrate.js';
import { openPostgres } from '../../src/lib/db/postgres.js';
import { buildServer } from '../../src/app.js';
import { createApiKey, ensureTenant } from '../../src/modules/tenants/service.js';
import { createAiPlan, createPooledSeatCustomer } from '../../src/demo/aiPlan.js';
import { createBenchDatabase } from '../environment/database.js';
import { ApiClient, mapConcurrently } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import type { BenchOptions } from '../options.js';
import type { Figure } from './context.js';

const APRIL = { starting_on: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' };
const HOURS_IN_APRIL = 30 * 24;

/**
 * Pricing simulation throughput: customers replayed per second over a month of usage (issue 21;
 * no target yet). In its own database and with an in-process server on a test clock: an AI plan,
 * `SIMULATION_CUSTOMERS` customers (200 by default) on 100 seats with 50 pooled AI credits per
 * seat, each with an event every hour of April (720) through `POST /v1/ingest` (untimed). On May
 * 10 the bench asks for one simulation of them all (tokens at twice the price) and times it from
 * the request to `completed`: the job the runner takes up, each customer replayed twice (as it
 * stands and under the scenario) with its result stored.
 */
export async function simulationBench(options: BenchOptions): Promise<Figure> {
  const customers = Number(process.env.SIMULATION_CUSTOMERS ?? 200);
  const database = await createBenchDatabase(options.serverUrl, `${options.databaseName}_simulation`);
  const db = openPostgres({ url: database.url, poolSize: 10 });
  const clock = new TestClock(new Date('2024-04-30T13:00:00Z'));
  try {
    await migrate(db);
    const app = await buildServer({ db, clock, webhooks: { deliver: false }, periodClose: { intervalMs: 24 * 3_600_000 }, alerts: { sweepIntervalMs: 24 * 3_600_000 } });
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { tenant } = await ensureTenant({ db, clock }, 'bench-simulation');
      const key = (await createApiKey({ db, clock }, { tenantId: tenant.id, name: 'bench' })).key;
      const client = new ApiClient(baseUrl, key, { connections: 8 });
      const api = client.asApi();
      const plan = await createAiPlan(api, {
        name: 'Simulation plan',
        aiCreditInCents: 100,
        usage: [{ name: 'Tokens', metric: { name: 'tokens', eventType: 'api_call', aggregation: 'SUM', key: 'tokens' }, creditsPerUnit: '0.0001' }],
      });
      progress(`simulation: creating ${customers} customers with ${HOURS_IN_APRIL} events each (untimed)`);
      const ids = await mapConcurrently(
        Array.from({ length: customers }, (_, index) => index),
        8,
        async (index) => (await createPooledSeatCustomer(api, plan, { name: `Simulated ${index}`, ingestAlias: `simulated-${index}`, seats: 100, creditsPerSeat: 50, startingAt: APRIL.starting_on })).customerId,
      );
      const batches = ids.flatMap((_, index) =>
        Array.from({ length: Math.ceil(HOURS_IN_APRIL / 100) }, (__, batch) =>
          Array.from({ length: Math.min(100, HOURS_IN_APRIL - batch * 100) }, (___, n) => {
            const hour = batch * 100 + n;
            return {
              transaction_id: `simulated-${index}-${hour}`,
              customer_id: `simulated-${index}`,
              event_type: 'api_call',
              timestamp: new Date(Date.parse(APRIL.starting_on) + hour * 3_600_000).toISOString(),
              properties: { tokens: 1000 + (hour % 7) * 100, user_id: `user-${hour % 10}`, team: 'research' },
            };
          }),
        ),
      );
      await mapConcurrently(batches, 8, async (batch) => {
        const response = await client.post('/v1/ingest', batch);
        if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${response.body}`);
      });
      clock.advanceTo(new Date('2024-05-10T00:00:00Z'));
      const tokens = plan.usageProducts[0]!.productId;
      progress(`simulation: replaying ${customers} customers' April`);
      const started = performance.now();
      const created = await client.json<{ data: { id: string } }>('POST', '/v1/allot/pricing/simulations', {
        ...APRIL,
        customer_ids: ids,
        rate_changes: [{ product_id: tokens, starting_at: APRIL.starting_on, rate_type: 'FLAT', price: 0.0002, credit_type_id: plan.aiCredits }],
      });
      let status = '';
      let simulation: { status: string; error: string | null; totals: { actual: number; simulated: number } } | undefined;
      while (status !== 'completed' && status !== 'failed') {
        await new Promise((resolve) => setTimeout(resolve, 100));
        simulation = (await client.json<{ data: NonNullable<typeof simulation> }>('GET', `/v1/allot/pricing/simulations/${created.data.id}`)).data;
        status = simulation.status;
      }
      const seconds = (performance.now() - started) / 1000;
      client.close();
      progress(`simulation: ${customers} customers in ${seconds.toFixed(1)} s`);
      return {
        value: Number((customers / seconds).toFixed(1)),
        unit: 'customers/s',
        customers,
        events_per_customer: HOURS_IN_APRIL,
        seconds: Number(seconds.toFixed(2)),
        status,
        ...(simulation?.error && { error: simulation.error }),
        total_actual_cents: simulation?.totals.actual,
        total_simulated_cents: simulation?.totals.simulated,
      };
    } finally {
      await app.close();
    }
  } finally {
    await db.close();
    await database.drop();
  }
}
