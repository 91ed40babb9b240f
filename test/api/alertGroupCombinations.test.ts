import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'alert-receiver-secret-0123456789';

interface Webhook {
  id: string;
  type: string;
  properties: { alert_id: string; customer_id: string; current_spend: number; group_values: { key: string; value: string }[] };
}

type GroupValues = { key: string; value?: string }[];

/**
 * Spend alerts on several group values (docs/rules.md rule 20), through the SDK on a real server
 * with a real webhook receiver, on a clock fixed at 2024-04-10: a metric summing `credits` grouped
 * by user and team together, priced at 1 cent a credit, alerts at $10 (1,000 cents). The invoice
 * grace period is 24 hours, so an ended April is still measured on May 1.
 */
describe.each(ENGINES)('spend alerts on group value combinations on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let receiver: Receiver;
  let rateCard: string;
  let sequence = 0;

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z', invoiceGracePeriodHours: 24, periodClose: { intervalMs: 3_600_000 } });
    client = server.client();
    const metric = (
      await client.v1.billableMetrics.create({
        name: 'Credits by user and team',
        event_type_filter: { in_values: ['credits'] },
        aggregation_type: 'SUM',
        aggregation_key: 'credits',
        property_filters: [
          { name: 'credits', exists: true },
          { name: 'user_id', exists: true },
          { name: 'team', exists: true },
        ],
        group_keys: [['user_id', 'team']],
      })
    ).data.id;
    // Another metric's group key: "region" is a group key, but never together with user_id.
    await client.v1.billableMetrics.create({ name: 'Regions', event_type_filter: { in_values: ['region'] }, aggregation_type: 'COUNT', property_filters: [{ name: 'region', exists: true }], group_keys: [['region']] });
    const product = (await client.v1.contracts.products.create({ name: 'Credits', type: 'USAGE', billable_metric_id: metric })).data.id;
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'Credits at a cent' })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:00:00Z' });
    const response = await fetch(`${server.baseURL}/v1/allot/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, secret: SECRET }),
    });
    expect(response.status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  async function payingCustomer() {
    const alias = `combinations-${engine}-${++sequence}`;
    const customer = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
    await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard });
    return { customer, alias };
  }

  /** Credits spent, one event per [user, team, credits], dated April 5 unless told. */
  async function spend(alias: string, spent: [string, string, number][], timestamp = '2024-04-05T10:00:00Z') {
    await client.v1.usage.ingest({
      usage: spent.map(([user, team, credits]) => ({ transaction_id: `combinations-${++sequence}`, customer_id: alias, event_type: 'credits', timestamp, properties: { credits, user_id: user, team } })),
    });
  }

  const spendAlert = async (customer: string, groupValues: GroupValues) =>
    (await client.v1.alerts.create({ alert_type: 'spend_threshold_reached', name: 'Spent $10', threshold: 1000, customer_id: customer, group_values: groupValues })).data.id;

  const statusOf = async (customer: string, alert: string, groupValues?: { key: string; value: string }[]) =>
    (await client.v1.customers.alerts.retrieve({ customer_id: customer, alert_id: alert, ...(groupValues && { group_values: groupValues }) })).data.customer_status;

  /** Every webhook received for the alert (each event once), as [type, group values, current spend], sorted. */
  function webhooksOf(alert: string) {
    const seen = new Map<string, Webhook>();
    for (const request of receiver.requests) {
      const body = JSON.parse(request.body) as Webhook;
      if (body.properties?.alert_id === alert) seen.set(body.id, body);
    }
    return [...seen.values()]
      .map((webhook) => [webhook.type, webhook.properties.group_values.map(({ key, value }) => `${key}=${value}`).join(','), webhook.properties.current_spend] as const)
      .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  }

  async function sweep() {
    const response = await server.advanceClock(server.clock.now().toISOString());
    expect(response.status).toBe(200);
  }

  it('two keys with values: only usage of user u1 in team t1 counts; 999 ok, 1,000 in alarm', async () => {
    const { customer, alias } = await payingCustomer();
    const alert = await spendAlert(customer, [
      { key: 'user_id', value: 'u1' },
      { key: 'team', value: 't1' },
    ]);
    await spend(alias, [
      ['u1', 't1', 999],
      ['u1', 't2', 5000],
      ['u2', 't1', 3000],
    ]);
    await sweep();
    expect(await statusOf(customer, alert)).toBe('ok');
    expect(webhooksOf(alert)).toEqual([]);

    await spend(alias, [['u1', 't1', 1]]);
    await waitFor(async () => webhooksOf(alert).length === 1, { what: 'the u1/t1 webhook' });
    expect(webhooksOf(alert)).toEqual([['alerts.spend_threshold_reached', 'user_id=u1,team=t1', 1000]]);
    expect(await statusOf(customer, alert)).toBe('in_alarm');
    expect(await statusOf(customer, alert, [{ key: 'team', value: 't1' }, { key: 'user_id', value: 'u1' }])).toBe('in_alarm');
    const retrieved = await client.v1.customers.alerts.retrieve({ customer_id: customer, alert_id: alert });
    expect(retrieved.data.alert.group_values).toEqual([
      { key: 'user_id', value: 'u1' },
      { key: 'team', value: 't1' },
    ]);
    await expect400(statusOf(customer, alert, [{ key: 'user_id', value: 'u1' }, { key: 'team', value: 't2' }]), 'group_values.1.value');
    await sweep();
    expect(webhooksOf(alert)).toHaveLength(1);
  });

  it('keys alone: each combination crosses on its own, the webhook naming every key’s value; a key with a value keeps one state per user within the team', async () => {
    const { customer, alias } = await payingCustomer();
    const everyPair = await spendAlert(customer, [{ key: 'user_id' }, { key: 'team' }]);
    const teamOne = await spendAlert(customer, [{ key: 'user_id' }, { key: 'team', value: 't1' }]);
    await spend(alias, [
      ['u1', 't1', 1000],
      ['u1', 't2', 400],
      ['u2', 't1', 1500],
      ['u2', 't2', 10],
    ]);
    await waitFor(async () => webhooksOf(everyPair).length === 2 && webhooksOf(teamOne).length === 2, { what: 'two webhooks of each alert' });
    expect(webhooksOf(everyPair)).toEqual([
      ['alerts.spend_threshold_reached', 'user_id=u1,team=t1', 1000],
      ['alerts.spend_threshold_reached', 'user_id=u2,team=t1', 1500],
    ]);
    expect(webhooksOf(teamOne)).toEqual([
      ['alerts.spend_threshold_reached', 'user_id=u1,team=t1', 1000],
      ['alerts.spend_threshold_reached', 'user_id=u2,team=t1', 1500],
    ]);
    const pair = (user: string, team: string) => [
      { key: 'user_id', value: user },
      { key: 'team', value: team },
    ];
    expect(await statusOf(customer, everyPair, pair('u1', 't1'))).toBe('in_alarm');
    expect(await statusOf(customer, everyPair, pair('u1', 't2'))).toBe('ok');
    expect(await statusOf(customer, everyPair, pair('nobody', 't1'))).toBe('ok');
    expect(await statusOf(customer, everyPair)).toBe('in_alarm');
    await expect400(statusOf(customer, everyPair, [{ key: 'user_id', value: 'u1' }]), 'group_values');
    await expect400(statusOf(customer, everyPair, [...pair('u1', 't1'), { key: 'region', value: 'eu' }]), 'group_values.2.key');

    // u1 reaches 1,000 in team t2 as well: a crossing of its own, which the team t1 alert does not count.
    await spend(alias, [['u1', 't2', 600]]);
    await waitFor(async () => webhooksOf(everyPair).length === 3, { what: 'the u1/t2 webhook' });
    expect(webhooksOf(everyPair)[1]).toEqual(['alerts.spend_threshold_reached', 'user_id=u1,team=t2', 1000]);
    expect(await statusOf(customer, everyPair, pair('u1', 't2'))).toBe('in_alarm');
    await sweep();
    expect(webhooksOf(teamOne)).toHaveLength(2);
    expect(webhooksOf(everyPair)).toHaveLength(3);
  });

  it('refuses more than 3 entries, a repeated key, and a key no group key holds with the others, naming it', async () => {
    const { customer } = await payingCustomer();
    await expect400(spendAlert(customer, [{ key: 'user_id' }, { key: 'team' }, { key: 'region' }, { key: 'plan' }]), 'group_values');
    await expect400(spendAlert(customer, [{ key: 'user_id' }, { key: 'user_id', value: 'u1' }]), 'group_values.1');
    await expect400(spendAlert(customer, [{ key: 'user_id' }, { key: 'not_a_key' }]), 'group_values.1.key');
    await expect400(spendAlert(customer, [{ key: 'team', value: 't1' }, { key: 'user_id' }, { key: 'region' }]), 'group_values.2.key');
  });

  it('in April’s grace period, each combination measures the greater of April and May: late usage crosses April’s threshold', async () => {
    const { customer, alias } = await payingCustomer();
    const alert = await spendAlert(customer, [{ key: 'user_id' }, { key: 'team' }]);
    await spend(alias, [
      ['u1', 't1', 800],
      ['u2', 't1', 900],
    ]);
    await server.advanceClock('2024-05-01T01:00:00Z');
    // May: u2 starts again at 950. April, still a draft: u1 in t1 reaches 1,100 with usage dated April 30.
    await spend(alias, [['u2', 't1', 950]], '2024-05-01T00:30:00Z');
    await spend(alias, [['u1', 't1', 300]], '2024-04-30T12:00:00Z');
    await waitFor(async () => webhooksOf(alert).length === 1, { what: 'the late u1/t1 webhook' });
    await sweep();
    expect(webhooksOf(alert)).toEqual([['alerts.spend_threshold_reached', 'user_id=u1,team=t1', 1100]]);
    expect(
      await statusOf(customer, alert, [
        { key: 'user_id', value: 'u2' },
        { key: 'team', value: 't1' },
      ]),
    ).toBe('ok');
  });
});
