import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { startServe } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { expect400, rejection } from '../helpers/expectations.js';

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const NOW = '2024-04-10T00:00:00Z';
const SECRET = 'alert-receiver-secret-0123456789';
let sequence = 0;

interface Webhook {
  id: string;
  type: string;
  properties: Record<string, unknown> & { customer_id: string; alert_id: string };
}

/** Registers the receiver as a webhook endpoint (Allot's own route, over HTTP); returns its id. */
async function registerEndpoint(server: TestServer, url: string, eventTypes?: string[]): Promise<string> {
  const response = await fetch(`${server.baseURL}/v1/allot/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, secret: SECRET, ...(eventTypes && { event_types: eventTypes }) }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: { id: string } }).data.id;
}

/** A pay-as-you-go plan: requests at 10 cents each. Returns the rate card. */
async function payAsYouGoPlan(client: Metronome): Promise<string> {
  const metric = (await client.v1.billableMetrics.create({ name: 'Requests', event_type_filter: { in_values: ['request'] }, aggregation_type: 'COUNT' })).data.id;
  const product = (await client.v1.contracts.products.create({ name: 'Requests', type: 'USAGE', billable_metric_id: metric })).data.id;
  const rateCard = (await client.v1.contracts.rateCards.create({ name: 'Pay as you go' })).data.id;
  await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 10, starting_at: '2024-01-01T00:00:00Z' });
  return rateCard;
}

/** A customer (ingest alias `alias`) on the pay-as-you-go plan from April 1. */
async function payAsYouGoCustomer(client: Pick<Metronome, 'v1'>, rateCard: string, alias: string) {
  const customer = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
  await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard });
  return { customer, alias };
}

/** `count` request events for `alias`, with transaction ids `prefix-0…`. */
const requests = (alias: string, count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => ({ transaction_id: `${prefix}-${i}`, customer_id: alias, event_type: 'request', timestamp: '2024-04-06T00:00:00Z' }));

/**
 * Alerts through the SDK on a real server with a real webhook receiver, on a clock fixed at
 * 2024-04-10 (docs/rules.md rules 13–14): a pooled seat plan whose usage is priced in AI credits, one
 * credit per unit.
 */
describe.each(ENGINES)('alerts on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let receiver: Receiver;
  let catalog: SeatCatalog;
  let endpointId: string;
  let creditsMetric: string;
  let eventsMetric: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startTestServer({ engine, clockStart: NOW, webhooks: { retryBaseMs: 10, retryMaxMs: 50 } });
    client = server.client();
    catalog = await seatCatalog(server, { aiCreditsInCents: 100 });
    creditsMetric = (
      await client.v1.billableMetrics.create({
        name: 'Credits used',
        event_type_filter: { in_values: ['credits'] },
        aggregation_type: 'SUM',
        aggregation_key: 'credits',
        property_filters: [
          { name: 'credits', exists: true },
          { name: 'user_id', exists: true },
        ],
        group_keys: [['user_id']],
      })
    ).data.id;
    eventsMetric = (await client.v1.billableMetrics.create({ name: 'Requests', event_type_filter: { in_values: ['request'] }, aggregation_type: 'COUNT' })).data.id;
    const usage = (await client.v1.contracts.products.create({ name: 'AI usage', type: 'USAGE', billable_metric_id: creditsMetric })).data.id;
    await client.v1.contracts.rateCards.rates.add({
      rate_card_id: catalog.rateCard,
      product_id: usage,
      entitled: true,
      rate_type: 'FLAT',
      price: 1,
      credit_type_id: catalog.aiCredits,
      starting_at: '2024-01-01T00:00:00Z',
    });
    endpointId = await registerEndpoint(server, receiver.url);
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
  });

  /** A customer of the seat plan: `seats` × 50 AI credits pooled for April. */
  async function seatCustomer(seats: number) {
    const created = await createSeatContract(client, { catalog, seats });
    const alias = `alerts-${engine}-${++sequence}`;
    await client.v1.customers.setIngestAliases({ customer_id: created.customer, ingest_aliases: [alias] });
    return { ...created, alias };
  }

  async function spend(alias: string, credits: number, properties: Record<string, string> = {}) {
    await client.v1.usage.ingest({
      usage: [{ transaction_id: `alerts-tx-${++sequence}`, customer_id: alias, event_type: 'credits', timestamp: '2024-04-05T10:00:00Z', properties: { credits, user_id: 'user_1', ...properties } }],
    });
  }

  /** Every webhook received for this alert (any delivery attempt of one event counts once), oldest first. */
  function webhooksOf(alertId: string): Webhook[] {
    const seen = new Map<string, Webhook>();
    for (const request of receiver.requests) {
      const body = JSON.parse(request.body) as Webhook;
      if (body.properties?.alert_id === alertId && !seen.has(body.id)) seen.set(body.id, body);
    }
    return [...seen.values()];
  }

  /**
   * Moves the test clock (to now, by default): the server evaluates every watched customer before
   * answering. Sent with an Idempotency-Key, which the route accepts and ignores.
   */
  async function sweep(to = server.clock.now().toISOString()) {
    const response = await fetch(`${server.baseURL}/v1/allot/test-clock/advance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json', 'idempotency-key': `sweep-${++sequence}` },
      body: JSON.stringify({ to }),
    });
    expect(response.status).toBe(200);
  }

  async function status(customerId: string, alertId: string, groupValues?: { key: string; value: string }[]) {
    return (await client.v1.customers.alerts.retrieve({ customer_id: customerId, alert_id: alertId, ...(groupValues && { group_values: groupValues }) })).data;
  }

  /** Every delivery of the endpoint, as the deliveries route lists them. */
  async function deliveries(): Promise<{ event_type: string; body: string; status: string }[]> {
    const all: { event_type: string; body: string; status: string }[] = [];
    let nextPage: string | null = null;
    do {
      const response = await fetch(`${server.baseURL}/v1/allot/webhooks/${endpointId}/deliveries?limit=100${nextPage ? `&next_page=${nextPage}` : ''}`, {
        headers: { authorization: `Bearer ${server.key}` },
      });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { data: { event_type: string; body: string; status: string }[]; next_page: string | null };
      all.push(...page.data);
      nextPage = page.next_page;
    } while (nextPage);
    return all;
  }

  /** A spend alert at 1,000 AI credits on one user, or on every user separately. */
  async function spendAlert(customerId: string, groupValues: { key: string; value?: string }[]) {
    const body = { alert_type: 'spend_threshold_reached' as const, name: 'A user spent 1,000 credits', threshold: 1000, credit_type_id: catalog.aiCredits };
    return (await client.v1.alerts.create({ ...body, customer_id: customerId, group_values: groupValues })).data.id;
  }

  const ofAlert = (alertId: string) => async () => (await deliveries()).filter((delivery) => (JSON.parse(delivery.body) as Webhook).properties?.alert_id === alertId);

  it('spend_threshold_reached on one user: 999 credits ok, 1,000 in alarm; other users’ spend does not count', async () => {
    const { customer, alias } = await seatCustomer(100);
    const alert = await spendAlert(customer, [{ key: 'user_id', value: 'user_1234' }]);
    await spend(alias, 999, { user_id: 'user_1234' });
    await spend(alias, 5000, { user_id: 'user_9' });
    await sweep();
    expect((await status(customer, alert)).customer_status).toBe('ok');
    expect(await ofAlert(alert)()).toHaveLength(0);

    await spend(alias, 1, { user_id: 'user_1234' });
    await waitFor(async () => (await status(customer, alert)).customer_status === 'in_alarm', { what: 'the spend alert in alarm' });
    await waitFor(async () => webhooksOf(alert).length === 1, { what: 'the spend webhook' });
    const [webhook] = webhooksOf(alert);
    expect(webhook!.type).toBe('alerts.spend_threshold_reached');
    expect(webhook!.properties).toMatchObject({
      customer_id: customer,
      current_spend: 1000,
      threshold: 1000,
      credit_type_id: catalog.aiCredits,
      group_values: [{ key: 'user_id', value: 'user_1234' }],
    });
    const retrieved = await status(customer, alert, [{ key: 'user_id', value: 'user_1234' }]);
    expect(retrieved.alert).toMatchObject({ type: 'spend_threshold_reached', status: 'enabled', threshold: 1000, group_values: [{ key: 'user_id', value: 'user_1234' }] });
    expect(retrieved.alert.credit_type).toEqual({ id: catalog.aiCredits, name: 'AI credits' });
  });

  it('spend_threshold_reached on the user_id key alone: one webhook per breaching user, each naming its value', async () => {
    const { customer, alias } = await seatCustomer(100);
    const alert = await spendAlert(customer, [{ key: 'user_id' }]);
    await client.v1.usage.ingest({
      usage: [
        ['user_a', 1000],
        ['user_b', 1500],
        ['user_c', 10],
      ].map(([user, credits]) => ({ transaction_id: `alerts-tx-${++sequence}`, customer_id: alias, event_type: 'credits', timestamp: '2024-04-06T00:00:00Z', properties: { credits, user_id: user } })),
    });
    await waitFor(async () => webhooksOf(alert).length === 2, { what: 'two spend webhooks' });
    const byUser = webhooksOf(alert)
      .map((webhook) => webhook.properties as unknown as { group_values: { key: string; value: string }[]; current_spend: number })
      .map((properties) => [properties.group_values[0]!.value, properties.current_spend])
      .sort();
    expect(byUser).toEqual([
      ['user_a', 1000],
      ['user_b', 1500],
    ]);
    expect((await status(customer, alert, [{ key: 'user_id', value: 'user_a' }])).customer_status).toBe('in_alarm');
    expect((await status(customer, alert, [{ key: 'user_id', value: 'user_c' }])).customer_status).toBe('ok');
    expect((await status(customer, alert, [{ key: 'user_id', value: 'nobody' }])).customer_status).toBe('ok');
    expect((await status(customer, alert)).customer_status).toBe('in_alarm');
    await expect400(status(customer, alert, [{ key: 'team', value: 'research' }]), 'group_values.0.key');

    await spend(alias, 990, { user_id: 'user_c' });
    await waitFor(async () => webhooksOf(alert).length === 3, { what: 'user_c’s webhook' });
    expect(webhooksOf(alert)[2]!.properties).toMatchObject({ group_values: [{ key: 'user_id', value: 'user_c' }], current_spend: 1000 });
    await sweep();
    expect(await ofAlert(alert)()).toHaveLength(3);
  });

  it('usage, credit percentage and invoice total alerts cross at their thresholds', async () => {
    const { customer, alias } = await seatCustomer(8);
    const create = (body: Omit<Parameters<typeof client.v1.alerts.create>[0], 'customer_id'>) => client.v1.alerts.create({ customer_id: customer, ...body }).then((r) => r.data.id);
    const usageAlert = await create({ alert_type: 'usage_threshold_reached', name: '3 requests', threshold: 3, billable_metric_id: eventsMetric });
    const percentage = await create({ alert_type: 'low_remaining_credit_percentage_reached', name: 'Half the pool left', threshold: 50, credit_type_id: catalog.aiCredits });
    const invoice = await create({ alert_type: 'monthly_invoice_total_spend_threshold_reached', name: 'Invoice at $1', threshold: 100, credit_type_id: USD });
    expect((await client.v1.customers.alerts.list({ customer_id: customer })).data.map((entry) => entry.customer_status)).toEqual(['ok', 'ok', 'ok']);

    const requests = (count: number) =>
      client.v1.usage.ingest({
        usage: Array.from({ length: count }, () => ({ transaction_id: `alerts-tx-${++sequence}`, customer_id: alias, event_type: 'request', timestamp: '2024-04-06T00:00:00Z' })),
      });
    await requests(2);
    await spend(alias, 199);
    await sweep();
    expect([await status(customer, usageAlert), await status(customer, percentage), await status(customer, invoice)].map((s) => s.customer_status)).toEqual(['ok', 'ok', 'ok']);

    await requests(1);
    // 200 of 400 credits left: 50 %. Then 401 used: 1 credit of overage at 100 cents on the invoice.
    await spend(alias, 1);
    await waitFor(async () => (await status(customer, percentage)).customer_status === 'in_alarm', { what: 'the percentage alert' });
    await waitFor(async () => (await status(customer, usageAlert)).customer_status === 'in_alarm', { what: 'the usage alert' });
    expect((await status(customer, invoice)).customer_status).toBe('ok');
    await spend(alias, 201);
    await waitFor(async () => (await status(customer, invoice)).customer_status === 'in_alarm', { what: 'the invoice alert' });

    await waitFor(async () => [usageAlert, percentage, invoice].every((id) => webhooksOf(id).length === 1), { what: 'three webhooks' });
    expect(webhooksOf(usageAlert)[0]!).toMatchObject({ type: 'alerts.usage_threshold_reached', properties: { billable_metric_id: eventsMetric, current_usage: 3 } });
    expect(webhooksOf(percentage)[0]!).toMatchObject({ type: 'alerts.low_remaining_credit_percentage_reached', properties: { remaining_percentage: 50 } });
    expect(webhooksOf(invoice)[0]!).toMatchObject({ type: 'alerts.monthly_invoice_total_spend_threshold_reached', properties: { invoice_total: 100, credit_type_id: USD } });
  });

  it('evaluate_on_create: a customer already past the threshold is in alarm; with false, silently', async () => {
    const { customer, alias } = await seatCustomer(1);
    await spend(alias, 45);
    const body = { alert_type: 'low_remaining_contract_credit_and_commit_balance_reached' as const, name: 'Below 10', threshold: 10, credit_type_id: catalog.aiCredits, customer_id: customer };
    const announced = (await client.v1.alerts.create(body)).data.id;
    const silent = (await client.v1.alerts.create({ ...body, evaluate_on_create: false })).data.id;
    expect((await status(customer, announced)).customer_status).toBe('in_alarm');
    expect((await status(customer, silent)).customer_status).toBe('in_alarm');
    await waitFor(async () => webhooksOf(announced).length === 1, { what: 'the alarm webhook' });
    await sweep();
    expect(await ofAlert(silent)()).toHaveLength(0);

    // A reset forgets the state and evaluates again: still past the threshold, so a new webhook.
    await client.v1.customers.alerts.reset({ customer_id: customer, alert_id: announced });
    expect((await status(customer, announced)).customer_status).toBe('in_alarm');
    await waitFor(async () => webhooksOf(announced).length === 2, { what: 'the webhook after the reset' });
    expect(webhooksOf(announced)[1]!.properties.triggered_by).toBe('reset');
  });

  it('an alert for every customer, archiving, uniqueness keys and listing', async () => {
    const everyone = (
      await client.v1.alerts.create({ alert_type: 'usage_threshold_reached', name: 'Anyone at 1 request', threshold: 1, billable_metric_id: eventsMetric, uniqueness_key: `everyone-${engine}` })
    ).data.id;
    const conflict = await rejection(
      client.v1.alerts.create({ alert_type: 'usage_threshold_reached', name: 'Again', threshold: 1, billable_metric_id: eventsMetric, uniqueness_key: `everyone-${engine}` }),
    );
    expect(conflict.status).toBe(409);
    const { customer, alias } = await seatCustomer(1);
    await client.v1.usage.ingest({ usage: [{ transaction_id: `alerts-tx-${++sequence}`, customer_id: alias, event_type: 'request', timestamp: '2024-04-06T00:00:00Z' }] });
    await waitFor(async () => (await status(customer, everyone)).customer_status === 'in_alarm', { what: 'the all-customer alert' });
    expect((await client.v1.customers.alerts.list({ customer_id: customer })).data.map((entry) => entry.alert.id)).toContain(everyone);

    await client.v1.alerts.archive({ id: everyone, release_uniqueness_key: true });
    expect((await client.v1.customers.alerts.list({ customer_id: customer })).data.map((entry) => entry.alert.id)).not.toContain(everyone);
    const archived = (await client.v1.customers.alerts.list({ customer_id: customer, alert_statuses: ['ARCHIVED'] })).data.find((entry) => entry.alert.id === everyone);
    expect(archived).toMatchObject({ customer_status: null, alert: { status: 'archived' } });
    const again = await client.v1.alerts.create({ alert_type: 'usage_threshold_reached', name: 'Again', threshold: 5, billable_metric_id: eventsMetric, uniqueness_key: `everyone-${engine}` });
    expect(again.data.id).not.toBe(everyone);
    await client.v1.alerts.archive({ id: again.data.id });
    expect((await rejection(client.v1.alerts.archive({ id: '00000000-0000-7000-8000-000000000000' }))).status).toBe(404);
  });

  it('evaluate_on_create false on an alert for every customer: those already past it stay silent, a customer created after it is announced', async () => {
    const before = await seatCustomer(1);
    await client.v1.usage.ingest({ usage: [{ transaction_id: `alerts-tx-${++sequence}`, customer_id: before.alias, event_type: 'request', timestamp: '2024-04-06T00:00:00Z' }] });
    const alert = (
      await client.v1.alerts.create({ alert_type: 'usage_threshold_reached', name: 'Silent at first', threshold: 1, billable_metric_id: eventsMetric, evaluate_on_create: false })
    ).data.id;
    await waitFor(async () => (await status(before.customer, alert)).customer_status === 'in_alarm', { what: 'the first look at the earlier customer' });
    const after = await seatCustomer(1);
    await client.v1.usage.ingest({ usage: [{ transaction_id: `alerts-tx-${++sequence}`, customer_id: after.alias, event_type: 'request', timestamp: '2024-04-06T00:00:00Z' }] });
    await waitFor(async () => webhooksOf(alert).length === 1, { what: 'the later customer’s webhook' });
    await sweep();
    expect(webhooksOf(alert).map((webhook) => webhook.properties.customer_id)).toEqual([after.customer]);
    await client.v1.alerts.archive({ id: alert });
  });

  it('evaluates a customer named in upper case like any other spelling', async () => {
    const customer = (await client.v1.customers.create({ name: `Shouting ${engine}` })).data.id;
    const alert = (await client.v1.alerts.create({ alert_type: 'low_remaining_contract_credit_and_commit_balance_reached', name: 'Pool', threshold: 10, credit_type_id: catalog.aiCredits, customer_id: customer })).data.id;
    // No credits yet: nothing to measure. A contract with a credit of 5, entered with the id in upper case, is looked at once it commits.
    await client.v1.contracts.create({
      customer_id: customer.toUpperCase(),
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: catalog.rateCard,
      credits: [{ product_id: catalog.poolProduct, name: 'Small pool', priority: 1, access_schedule: { credit_type_id: catalog.aiCredits, schedule_items: [{ amount: 5, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' }] } }],
    });
    await waitFor(async () => (await status(customer, alert)).customer_status === 'in_alarm', { what: 'the alert after the contract' });
    await waitFor(async () => webhooksOf(alert).length === 1, { what: 'its webhook' });
  });

  it('a seat increase grows the pool and clears a balance alarm as soon as the edit commits', async () => {
    const { customer, contract, subscription, alias } = await seatCustomer(1);
    await spend(alias, 45);
    const alert = (
      await client.v1.alerts.create({ alert_type: 'low_remaining_contract_credit_and_commit_balance_reached', name: 'Below 10', threshold: 10, credit_type_id: catalog.aiCredits, customer_id: customer })
    ).data.id;
    expect((await status(customer, alert)).customer_status).toBe('in_alarm');
    // +4 seats from April 10, with 21 of April's 30 days left: 4 × 50 × 21/30 = 140 more credits, 145 left.
    await client.v2.contracts.edit({
      customer_id: customer,
      contract_id: contract,
      update_subscriptions: [{ subscription_id: subscription, quantity_updates: [{ starting_at: NOW, quantity_delta: 4 }] }],
    });
    await waitFor(async () => (await status(customer, alert)).customer_status === 'ok', { what: 'the alarm cleared by the seats' });
    await waitFor(async () => webhooksOf(alert).length === 2, { what: 'the resolved webhook' });
    expect(webhooksOf(alert)[1]).toMatchObject({
      type: 'alerts.low_remaining_contract_credit_and_commit_balance_resolved',
      properties: { remaining_balance: 145, triggered_by: 'contract' },
    });
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const { customer } = await seatCustomer(1);
    const base = { name: 'Bad', threshold: 10, customer_id: customer };
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'made_up_alert' as 'spend_threshold_reached' }), 'alert_type');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'low_remaining_days_in_plan_reached' }), 'alert_type');
    const missing = await rejection(client.v1.alerts.create({ name: 'No threshold', alert_type: 'spend_threshold_reached' } as Parameters<typeof client.v1.alerts.create>[0]));
    expect(missing.message).toContain('threshold: is required');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'spend_threshold_reached', threshold: -5 }), 'threshold');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'spend_threshold_reached', threshold: '9'.repeat(400) as unknown as number }), 'threshold');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'spend_threshold_reached', threshold: `0.${'1'.repeat(20)}` as unknown as number }), 'threshold');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'spend_threshold_reached', group_values: [{ key: 'not_a_group_key' }] }), 'group_values.0.key');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'usage_threshold_reached' }), 'billable_metric_id');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'spend_threshold_reached', customer_id: '00000000-0000-7000-8000-000000000000' }), 'customer_id');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'spend_threshold_reached', credit_grant_type_filters: ['x'] }), 'credit_grant_type_filters');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'low_remaining_credit_percentage_reached', threshold: 120 }), 'threshold');
    await expect400(client.v1.alerts.create({ ...base, alert_type: 'usage_threshold_reached', group_values: [{ key: 'user_id' }], billable_metric_id: eventsMetric }), 'group_values');
    expect((await rejection(client.v1.customers.alerts.retrieve({ customer_id: customer, alert_id: '00000000-0000-7000-8000-000000000000' }))).status).toBe(404);
  });

  it('writes contract.create and contract.edit webhooks, and credit segment starts and ends as the clock moves', async () => {
    const { customer, contract } = await seatCustomer(2);
    await client.v2.contracts.edit({ customer_id: customer, contract_id: contract, update_contract_name: 'Renamed' });
    await waitFor(async () => receiver.requests.some((request) => request.body.includes('"contract.edit"') && request.body.includes(contract)), { what: 'contract.edit' });
    const system = receiver.requests.map((request) => JSON.parse(request.body) as Record<string, unknown>).filter((body) => body.contract_id === contract);
    expect(system.find((body) => body.type === 'contract.create')).toMatchObject({ customer_id: customer, environment_type: 'PRODUCTION', contract_custom_fields: {} });
    await sweep();
    await waitFor(async () => receiver.requests.some((request) => request.body.includes('"credit.segment.start"') && request.body.includes(contract)), {
      what: 'credit.segment.start',
    });
  });

  it('the pool alert: ok at 389 of 400 used, in alarm with exactly one webhook at 390, resolved by the next period’s grant', async () => {
    const { customer, alias, contract } = await seatCustomer(8);
    const alert = (
      await client.v1.alerts.create({
        alert_type: 'low_remaining_contract_credit_and_commit_balance_reached',
        name: 'Pool below 10 credits',
        threshold: 10,
        credit_type_id: catalog.aiCredits,
        customer_id: customer,
      })
    ).data.id;
    expect((await status(customer, alert)).customer_status).toBe('ok');

    await spend(alias, 389);
    await sweep();
    const atOk = await status(customer, alert);
    expect(atOk.customer_status).toBe('ok');
    expect((await ofAlert(alert)()).length).toBe(0);

    await spend(alias, 1);
    // No sweep: the ingest commit alone gets the customer evaluated.
    await waitFor(async () => (await status(customer, alert)).customer_status === 'in_alarm', { what: 'the pool alert in alarm' });
    await waitFor(async () => webhooksOf(alert).length === 1, { what: 'the alarm webhook' });
    const [reached] = webhooksOf(alert);
    expect(reached!.type).toBe('alerts.low_remaining_contract_credit_and_commit_balance_reached');
    expect(reached!.properties).toMatchObject({
      customer_id: customer,
      alert_id: alert,
      alert_name: 'Pool below 10 credits',
      threshold: 10,
      credit_type_id: catalog.aiCredits,
      remaining_balance: 10,
      triggered_by: 'usage',
    });

    // Further usage while in alarm announces nothing new.
    await spend(alias, 5);
    await sweep();
    expect((await ofAlert(alert)()).length).toBe(1);

    await sweep('2024-05-01T00:00:00Z');
    expect((await status(customer, alert)).customer_status).toBe('ok');
    await waitFor(async () => webhooksOf(alert).length === 2, { what: 'the resolved webhook' });
    const resolved = webhooksOf(alert)[1]!;
    expect(resolved.type).toBe('alerts.low_remaining_contract_credit_and_commit_balance_resolved');
    expect(resolved.properties).toMatchObject({ alert_id: alert, remaining_balance: 400, triggered_by: 'schedule' });

    // The pool's segments: April's start and end, May's start, each announced once however often the customer is looked at.
    const segmentEvents = () =>
      [...new Map(receiver.requests.map((request) => JSON.parse(request.body) as Record<string, unknown>).map((body) => [body.id, body])).values()]
        .filter((body) => body.contract_id === contract && String(body.type).startsWith('credit.segment.'))
        .map((body) => `${String(body.type)} ${String(body.timestamp)}`)
        .sort();
    await waitFor(async () => segmentEvents().length === 3, { what: 'three segment events' });
    await sweep();
    await sweep();
    expect(segmentEvents()).toEqual([
      'credit.segment.end 2024-05-01T00:00:00.000Z',
      'credit.segment.start 2024-04-01T00:00:00.000Z',
      'credit.segment.start 2024-05-01T00:00:00.000Z',
    ]);
  });
});

/** What survives a restart: the outbox, on PostgreSQL and PGlite. */
describe.each(ENGINES)('alert webhooks across restarts and processes on %s', (engine) => {
  let server: TestServer;
  let receiver: Receiver;
  let dataDir: string | undefined;
  /** A client of the server as it runs now: a restart listens on a new port. */
  const client = {
    get v1() {
      return server.client().v1;
    },
  };
  let rateCard: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    // Delivery is off: whatever the alerts commit stays in the outbox until the restart below.
    dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'allot-alerts-')) : undefined;
    server = await startTestServer({ engine, clockStart: NOW, webhooks: { deliver: false, retryBaseMs: 10, retryMaxMs: 50 }, ...(dataDir ? { dataDir } : {}) });
    rateCard = await payAsYouGoPlan(server.client());
    await registerEndpoint(server, receiver.url, ['alerts.spend_threshold_reached']);
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers an alert committed before the server stopped once it is back (the outbox survives)', async () => {
    const { customer, alias } = await payAsYouGoCustomer(client, rateCard, `restart-${engine}`);
    const alert = (await client.v1.alerts.create({ alert_type: 'spend_threshold_reached', name: '$1 spent', threshold: 100, customer_id: customer })).data.id;
    await client.v1.usage.ingest({ usage: requests(alias, 10, `restart-${engine}`) });
    await waitFor(async () => (await client.v1.customers.alerts.retrieve({ customer_id: customer, alert_id: alert })).data.customer_status === 'in_alarm', {
      what: 'the alert in alarm',
    });
    expect(receiver.requests).toHaveLength(0);

    await server.restart({ webhooks: { retryBaseMs: 10, retryMaxMs: 50 } });
    const [delivered] = await receiver.waitForRequests(1);
    const body = JSON.parse(delivered!.body) as Webhook;
    expect(body).toMatchObject({ type: 'alerts.spend_threshold_reached', properties: { alert_id: alert, customer_id: customer, current_spend: 100 } });
    expect(() => new Metronome({ bearerToken: 'unused' }).webhooks.unwrap(delivered!.body, delivered!.headers, SECRET)).not.toThrow();
  });
});

/** What concurrency cannot double: two server processes on one PostgreSQL database (locking is PostgreSQL's). */
describe('alert crossings under concurrent ingest on postgres', () => {
  let server: TestServer;
  let client: Metronome;
  let receiver: Receiver;
  let rateCard: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startTestServer({ engine: 'postgres', clockStart: NOW, webhooks: { retryBaseMs: 10, retryMaxMs: 50 } });
    client = server.client();
    rateCard = await payAsYouGoPlan(client);
    await registerEndpoint(server, receiver.url);
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
  });

  it('fires once for one crossing while two processes ingest at once', async () => {
    const { customer, alias } = await payAsYouGoCustomer(client, rateCard, 'racing');
    const alert = (await client.v1.alerts.create({ alert_type: 'spend_threshold_reached', name: '$1 spent', threshold: 100, customer_id: customer })).data.id;
    const second = await startServe(['--port', '0', '--test-clock', NOW], { DATABASE_URL: server.database.url!, LOG_LEVEL: 'silent' });
    try {
      const secondUrl = /is listening on (\S+)/.exec(second.output())![1]!;
      const clients = Array.from({ length: 20 }, (_, i) => new Metronome({ bearerToken: server.key, baseURL: i % 2 ? secondUrl : server.baseURL, maxRetries: 0 }));
      // 20 calls of 1 request at 10 cents each, at once through both processes: the threshold of 100 is crossed by one of them.
      await Promise.all(clients.map((each, i) => each.v1.usage.ingest({ usage: requests(alias, 1, `racing-${i}`) })));
      await waitFor(async () => (await client.v1.customers.alerts.retrieve({ customer_id: customer, alert_id: alert })).data.customer_status === 'in_alarm', {
        what: 'the alert in alarm',
      });
      // Each process looks at the customer once more, after everything it queued.
      for (const url of [server.baseURL, secondUrl]) {
        const response = await fetch(`${url}/v1/allot/test-clock/advance`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: NOW }),
        });
        expect(response.status).toBe(200);
      }
      await waitFor(async () => receiver.requests.some((request) => request.body.includes(alert)), { what: 'the alarm webhook' });
      const events = await server.database.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM webhook_events WHERE type = 'alerts.spend_threshold_reached' AND body LIKE $1`, [`%${alert}%`]);
      expect(events[0]!.n).toBe('1');
    } finally {
      await second.stop();
    }
  }, 120_000);
});
