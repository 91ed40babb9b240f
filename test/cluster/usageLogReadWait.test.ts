import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startNatsCluster, type NatsCluster } from '../helpers/nats.js';
import { runCli, startServe, type RunningCli } from '../helpers/process.js';

/**
 * The read wait of a usage log: with no writer running, usage is acknowledged (the log has it) but
 * not folded, and a balance read waits its bound, then answers 503 with Retry-After and counts
 * allot_read_wait_exceeded_total — never the balance without that usage. Once a writer runs, the
 * same read answers with the usage counted.
 */
const NOW = '2024-04-10T00:00:00Z';

describe('a balance read through a usage log with no writer', () => {
  let nats: NatsCluster;
  let database: TestDatabase;
  let api: RunningCli;
  let writer: RunningCli | undefined;
  let key: string;
  let env: NodeJS.ProcessEnv;
  const urlOf = (process: RunningCli) => /is listening on (\S+)/.exec(process.output())![1]!;

  beforeAll(async () => {
    nats = await startNatsCluster(1);
    database = await createTestDatabase('postgres');
    env = { DATABASE_URL: database.url!, ALLOT_NATS_URL: nats.url, ALLOT_READ_WAIT_MS: '300', ALLOT_NATS_LEASE_MS: '1500', LOG_LEVEL: 'silent' };
    const created = await runCli(['keys', 'create', '--tenant', 'acme'], env);
    expect(created.code, created.stderr).toBe(0);
    key = created.stdout.trim();
    api = await startServe(['--port', '0', '--role', 'api', '--test-clock', NOW], env, 120_000);
  }, 180_000);

  afterAll(async () => {
    await writer?.stop();
    await api?.stop();
    await nats?.stop();
    await database?.destroy();
  });

  it('answers 503 with Retry-After while the usage is not folded, then the exact balance once a writer folds it', async () => {
    const client = new Metronome({ bearerToken: key, baseURL: urlOf(api), maxRetries: 0 });
    const creditType = await fetch(`${urlOf(api)}/v1/allot/credit-types/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'AI credits' }),
    });
    const aiCredits = ((await creditType.json()) as { data: { id: string } }).data.id;
    const metric = (await client.v1.billableMetrics.create({ name: 'tokens', event_type_filter: { in_values: ['tokens'] }, aggregation_type: 'SUM', aggregation_key: 'tokens', property_filters: [{ name: 'tokens', exists: true }] })).data.id;
    const tokens = (await client.v1.contracts.products.create({ name: 'Tokens', type: 'USAGE', billable_metric_id: metric })).data.id;
    const pool = (await client.v1.contracts.products.create({ name: 'Pool', type: 'FIXED' })).data.id;
    const rateCard = (await client.v1.contracts.rateCards.create({ name: 'Plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: tokens, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2020-01-01T00:00:00Z' });
    const customer = (await client.v1.customers.create({ name: 'Waiting', ingest_aliases: ['waiting'] })).data.id;
    await client.v1.contracts.create({
      customer_id: customer,
      rate_card_id: rateCard,
      starting_at: '2024-04-01T00:00:00Z',
      credits: [
        {
          product_id: pool,
          access_schedule: { credit_type_id: aiCredits, schedule_items: [{ amount: 1000, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] },
          priority: 1,
        },
      ],
    });
    const balance = () => client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits });
    expect((await balance()).data.balance).toBe(1000);

    // Acknowledged by the log; no writer folds it.
    await client.v1.usage.ingest({ usage: [{ transaction_id: 'wait-1', customer_id: 'waiting', event_type: 'tokens', timestamp: NOW, properties: { tokens: 70 } }] });
    const response = await fetch(`${urlOf(api)}/v1/contracts/customerBalances/getNetBalance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: customer, credit_type_id: aiCredits }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(((await response.json()) as { message: string }).message).toMatch(/not folded yet after 300 ms/);
    const metrics = await (await fetch(`${urlOf(api)}/metrics`)).text();
    expect(metrics).toMatch(/^allot_read_wait_exceeded_total 1$/m);

    // A second call, acknowledged while no metric reads `size`; a metric that reads it as a number is
    // created before the fold, which then refuses the call (its `size` is beyond the number bound).
    // It is not dropped: the fold keeps it, with the reason, in usage_log_refusals.
    await client.v1.usage.ingest({ usage: [{ transaction_id: 'wait-2', customer_id: 'waiting', event_type: 'tokens', timestamp: NOW, properties: { tokens: 5, size: '1e400' } }] });
    await client.v1.billableMetrics.create({ name: 'size', event_type_filter: { in_values: ['tokens'] }, aggregation_type: 'SUM', aggregation_key: 'size', property_filters: [{ name: 'size', exists: true }] });

    // A writer folds them; the next read counts the first.
    writer = await startServe(['--port', '0', '--role', 'writer', '--test-clock', NOW], env, 120_000);
    let answered: number | undefined;
    for (let attempt = 0; answered === undefined; attempt++) {
      try {
        answered = (await balance()).data.balance;
      } catch (error) {
        if (!(error instanceof Metronome.APIError) || error.status !== 503 || attempt > 200) throw error;
      }
    }
    expect(answered).toBe(930);
    const refusals = await database.db.query<{ reason: string; entry: string }>('SELECT reason, entry FROM usage_log_refusals');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.reason).toMatch(/size/);
    expect(refusals[0]!.entry).toContain('wait-2');
    const status = await runCli(['status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('1 calls refused when folded, kept in usage_log_refusals');
  }, 240_000);
});
