import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * With a usage log, an account read waits first for the log's writers to fold what was
 * acknowledged before it (the read fence). Background workers that follow committed changes do
 * not: an alert is evaluated again after every fold, so it reads what is committed. Here the fence
 * never lets a read through (writers that never catch up): the API's balance read waits, and a
 * usage alert still fires and its webhook is delivered.
 */
describe('background workers and the read fence', () => {
  let server: TestServer;
  let receiver: Receiver;
  let fencedReads = 0;
  // Held until the test lets reads through, as writers that catch up would.
  let release = () => {};
  const fence = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startTestServer({
      engine: 'postgres',
      clockStart: '2024-04-10T00:00:00Z',
      readFence: () => {
        fencedReads++;
        return fence;
      },
    });
  });
  afterAll(async () => {
    release();
    await server?.stop();
    await receiver?.close();
  });

  it('fires a usage alert on committed usage while account reads wait on the fence', async () => {
    const client = server.client();
    const metric = (await client.v1.billableMetrics.create({ name: 'Requests', event_type_filter: { in_values: ['request'] }, aggregation_type: 'COUNT' })).data.id;
    const product = (await client.v1.contracts.products.create({ name: 'Requests', type: 'USAGE', billable_metric_id: metric })).data.id;
    const rateCard = (await client.v1.contracts.rateCards.create({ name: 'Pay as you go' })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 10, starting_at: '2024-01-01T00:00:00Z' });
    const customer = (await client.v1.customers.create({ name: 'Fenced', ingest_aliases: ['fenced'] })).data.id;
    await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard });
    const registered = await fetch(`${server.baseURL}/v1/allot/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, event_types: ['alerts.usage_threshold_reached'] }),
    });
    expect(registered.status).toBe(200);
    const alert = (await client.v1.alerts.create({ alert_type: 'usage_threshold_reached', name: 'Three requests', threshold: 3, billable_metric_id: metric, customer_id: customer })).data.id;

    // An API read waits on the fence.
    const read = client.v1.contracts.getNetBalance({ customer_id: customer }, { timeout: 60_000 }).then(() => 'answered');
    const outcome = await Promise.race([read, new Promise((resolve) => setTimeout(() => resolve('waiting'), 300))]);
    expect(outcome).toBe('waiting');
    expect(fencedReads).toBeGreaterThan(0);

    await client.v1.usage.ingest({
      usage: Array.from({ length: 3 }, (_, i) => ({ transaction_id: `fenced-${i}`, customer_id: 'fenced', event_type: 'request', timestamp: '2024-04-09T12:00:00Z' })),
    });
    const [webhook] = await receiver.waitForRequests(1, { timeoutMs: 20_000 });
    const body = JSON.parse(webhook!.body) as { type: string; properties: { alert_id: string; customer_id: string } };
    expect(body.type).toBe('alerts.usage_threshold_reached');
    expect(body.properties).toMatchObject({ alert_id: alert, customer_id: customer });

    // The read was held all along; once the fence lets it through, it answers.
    expect(await Promise.race([read, new Promise((resolve) => setTimeout(() => resolve('waiting'), 100))])).toBe('waiting');
    release();
    expect(await read).toBe('answered');
  });
});
