import Metronome from '@metronome/sdk';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startNatsCluster, type NatsCluster } from '../helpers/nats.js';
import { runCli, startServe, type RunningCli } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Usage through the NATS JetStream log on a 3-node cluster (replicas 3), with 2 API nodes and 2
 * writers on one PostgreSQL. Load goes to both API nodes; mid-load one writer and one NATS node
 * are killed with SIGKILL. Every call is sent until it is acknowledged, some twice more; then no
 * acknowledged event is lost, none is counted twice, every balance read that answers is exact,
 * and the surviving writer owns every partition.
 */
const NOW = '2024-04-10T00:00:00Z';
const MONTH_START = '2024-04-01T00:00:00Z';
const PARTITIONS = 16;
const CUSTOMERS = 6;
const CALLS = 240;
const EVENTS_PER_CALL = 25;
const KILL_AFTER_CALLS = 80;
const POOL = 100 * 1000;

describe('usage through a NATS JetStream log on a 3-node cluster, with kills', () => {
  let cluster: NatsCluster;
  let database: TestDatabase;
  let key: string;
  const apis: RunningCli[] = [];
  const writers: RunningCli[] = [];
  let env: NodeJS.ProcessEnv;
  const urlOf = (process: RunningCli) => /is listening on (\S+)/.exec(process.output())![1]!;
  const writerIdOf = (process: RunningCli) => /\(writer (\S+)\)/.exec(process.output())![1]!;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    database = await createTestDatabase('postgres');
    env = {
      DATABASE_URL: database.url!,
      ALLOT_NATS_URL: cluster.url,
      ALLOT_NATS_REPLICAS: '3',
      ALLOT_NATS_PARTITIONS: String(PARTITIONS),
      ALLOT_NATS_LEASE_MS: '3000',
      ALLOT_READ_WAIT_MS: '3000',
      LOG_LEVEL: 'silent',
    };
    const created = await runCli(['keys', 'create', '--tenant', 'acme'], env);
    expect(created.code, created.stderr).toBe(0);
    key = created.stdout.trim();
    // The first makes the stream and the owners' bucket; the others find them.
    apis.push(await startServe(['--port', '0', '--role', 'api', '--test-clock', NOW], env, 120_000));
    const started = await Promise.all([
      startServe(['--port', '0', '--role', 'api', '--test-clock', NOW], env, 120_000),
      startServe(['--port', '0', '--role', 'writer', '--test-clock', NOW], env, 120_000),
      startServe(['--port', '0', '--role', 'writer', '--test-clock', NOW], env, 120_000),
    ]);
    apis.push(started[0]);
    writers.push(started[1], started[2]);
  }, 240_000);

  afterAll(async () => {
    for (const process of [...apis, ...writers]) if (process.child.exitCode === null && process.child.signalCode === null) await process.stop();
    await cluster?.stop();
    await database?.destroy();
  });

  it('loses no acknowledged event, counts none twice, and hands the dead writer’s partitions to the survivor', async () => {
    const clients = apis.map((api) => new Metronome({ bearerToken: key, baseURL: urlOf(api), maxRetries: 0 }));
    const [a] = clients;
    const creditType = await fetch(`${urlOf(apis[0]!)}/v1/allot/credit-types/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'AI credits' }),
    });
    const aiCredits = ((await creditType.json()) as { data: { id: string } }).data.id;
    const metric = (
      await a!.v1.billableMetrics.create({ name: 'tokens', event_type_filter: { in_values: ['tokens'] }, aggregation_type: 'SUM', aggregation_key: 'tokens', property_filters: [{ name: 'tokens', exists: true }] })
    ).data.id;
    const tokens = (await a!.v1.contracts.products.create({ name: 'Tokens', type: 'USAGE', billable_metric_id: metric })).data.id;
    const seats = (await a!.v1.contracts.products.create({ name: 'Seats', type: 'SUBSCRIPTION' })).data.id;
    const pool = (await a!.v1.contracts.products.create({ name: 'Pool', type: 'FIXED' })).data.id;
    const rateCard = (await a!.v1.contracts.rateCards.create({ name: 'Plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
    await a!.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: tokens, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2020-01-01T00:00:00Z' });
    await a!.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: seats, entitled: true, rate_type: 'FLAT', price: 0, billing_frequency: 'MONTHLY', starting_at: '2020-01-01T00:00:00Z' });
    const customers: { id: string; alias: string }[] = [];
    for (let index = 0; index < CUSTOMERS; index++) {
      const alias = `cluster-${index}`;
      const id = (await a!.v1.customers.create({ name: `Cluster ${index}`, ingest_aliases: [alias] })).data.id;
      await a!.v1.contracts.create({
        customer_id: id,
        rate_card_id: rateCard,
        starting_at: MONTH_START,
        subscriptions: [{ temporary_id: 'seats', collection_schedule: 'ADVANCE', initial_quantity: 100, proration: { is_prorated: true }, subscription_rate: { product_id: seats, billing_frequency: 'MONTHLY' } }],
        recurring_credits: [
          {
            product_id: pool,
            access_amount: { credit_type_id: aiCredits, unit_price: 1000 },
            commit_duration: { value: 1, unit: 'PERIODS' },
            priority: 1,
            starting_at: MONTH_START,
            subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: false } },
          },
        ],
      });
      customers.push({ id, alias });
    }
    const balanceOf = async (client: Metronome, customerId: string) => (await client.v1.contracts.getNetBalance({ customer_id: customerId, credit_type_id: aiCredits })).data.balance;
    for (const customer of customers) expect(await balanceOf(clients[1]!, customer.id)).toBe(POOL);

    // Every call: 25 events over the customers, named by id or alias; sent until a 200, and every fifth twice more.
    const used = new Map(customers.map((customer) => [customer.id, 0]));
    const calls = Array.from({ length: CALLS }, (_, call) =>
      Array.from({ length: EVENTS_PER_CALL }, (_, index) => {
        const customer = customers[(call + index) % CUSTOMERS]!;
        const amount = ((call * EVENTS_PER_CALL + index) % 7) + 1;
        used.set(customer.id, used.get(customer.id)! + amount);
        return { transaction_id: `load-${call}-${index}`, customer_id: index % 2 === 0 ? customer.id : customer.alias, event_type: 'tokens', timestamp: NOW, properties: { tokens: amount } };
      }),
    );
    let acknowledged = 0;
    let refusedWhileKilling = 0;
    let killed: Promise<NodeJS.Signals | null> | undefined;
    const send = async (call: number, body: string) => {
      for (;;) {
        const node = apis[(call + acknowledged) % apis.length]!;
        const response = await fetch(`${urlOf(node)}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body }).catch(() => undefined);
        if (response?.status === 200) return;
        expect(response === undefined || response.status === 503, `call ${call}: ${response?.status} ${await response?.text()}`).toBe(true);
        refusedWhileKilling++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < CALLS) {
          const call = next++;
          const body = JSON.stringify(calls[call]);
          await send(call, body);
          acknowledged++;
          if (call % 5 === 0) await send(call, body);
          if (acknowledged >= KILL_AFTER_CALLS && !killed) {
            const dead = writers[0]!.child;
            killed = new Promise((resolve) => dead.once('exit', (_code, signal) => resolve(signal)));
            dead.kill('SIGKILL');
            cluster.kill(1);
          }
        }
      }),
    );
    expect(await killed).toBe('SIGKILL');
    expect(acknowledged).toBe(CALLS);

    // Every read that answers is exact: everything above was acknowledged before it began.
    for (const customer of customers) {
      for (const client of clients) {
        let answered = false;
        for (let attempt = 0; !answered; attempt++) {
          try {
            expect(await balanceOf(client, customer.id)).toBe(POOL - used.get(customer.id)!);
            answered = true;
          } catch (error) {
            if (!(error instanceof Metronome.APIError) || error.status !== 503 || attempt > 100) throw error;
          }
        }
      }
    }

    // In the database: every event once, and the rollups add up to exactly what was sent.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const [{ count }] = (await client.query<{ count: string }>('SELECT count(*) FROM events')).rows as [{ count: string }];
      expect(Number(count)).toBe(CALLS * EVENTS_PER_CALL);
      const sums = (await client.query<{ customer_id: string; total: string }>("SELECT customer_id, sum(value_sum)::text AS total FROM usage_rollups WHERE group_key = '[]' GROUP BY customer_id")).rows;
      expect(Object.fromEntries(sums.map((row) => [row.customer_id, Number(row.total)]))).toEqual(Object.fromEntries(used));
    } finally {
      await client.end();
    }

    // The survivor holds every partition, and nothing is left to fold.
    const survivor = writerIdOf(writers[1]!);
    let status = '';
    await waitFor(
      async () => {
        const result = await runCli(['status'], env);
        status = result.stdout + result.stderr;
        const rows = result.stdout.split('\n').filter((line) => /^\d+ {2,}/.test(line));
        return rows.length === PARTITIONS && rows.every((line) => line.split(/\s+/)[1] === survivor && line.split(/\s+/)[4] === '0');
      },
      { timeoutMs: 60_000, what: `writer ${survivor} to own every partition with no lag` },
    ).catch((error: Error) => {
      throw new Error(`${error.message} (the dead writer was ${writerIdOf(writers[0]!)}); allot status said:\n${status}`);
    });
    const metrics = await (await fetch(`${urlOf(writers[1]!)}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^allot_usage_log_partitions_owned ${PARTITIONS}$`, 'm'));
    // The API nodes folded nothing, yet heard of the usage the writers folded (for dashboards and alerts).
    for (const api of apis) {
      const received = /^allot_usage_signals_received_total (\d+)$/m.exec(await (await fetch(`${urlOf(api)}/metrics`)).text());
      expect(Number(received?.[1])).toBeGreaterThan(0);
    }
  }, 300_000);
});
