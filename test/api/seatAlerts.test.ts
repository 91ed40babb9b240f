import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeatChat, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

interface Webhook {
  type: string;
  properties: Record<string, unknown>;
}

/**
 * Seat balance alerts (docs/rules.md rule 29), through the SDK with a real webhook receiver: seats
 * ada, bob and cy with 50 AI credits each of their own; `low_remaining_seat_balance_reached` at 10
 * on `seat_filter: {seat_group_key: 'user_id'}` keeps one state per seat. ada uses 45 (5 left): in
 * alarm, one webhook naming ada; bob uses 30 (20 left): ok. An alert on bob alone fires when bob
 * reaches 10. May's fresh grants resolve them.
 */
describe.each(ENGINES)('seat balance alerts on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let receiver: Receiver;
  let catalog: SeatCatalog;
  let customer: string;

  const received = () => receiver.requests.map((request) => JSON.parse(request.body) as Webhook).filter((hook) => hook.type.startsWith('alerts.'));
  const use = (id: string, user: string, credits: number) =>
    client.v1.usage.ingest({ usage: [{ transaction_id: id, customer_id: customer, event_type: 'tokens', timestamp: '2024-04-02T00:00:00Z', properties: { credits, user_id: user } }] });

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startTestServer({ engine, clockStart: '2024-04-05T00:00:00Z', webhooks: { retryBaseMs: 10, retryMaxMs: 50 } });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 0, aiCreditsInCents: 100 });
    const response = await fetch(`${server.baseURL}/v1/allot/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, secret: 'seat-alert-receiver-secret-0123456789' }),
    });
    expect(response.status).toBe(200);
    await addSeatChat(client, catalog);
    customer = (await client.v1.customers.create({ name: 'Seat alerts team' })).data.id;
    await client.v1.contracts.create({
      customer_id: customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: catalog.rateCard,
      subscriptions: [
        {
          temporary_id: 'seats',
          collection_schedule: 'ADVANCE',
          quantity_management_mode: 'SEAT_BASED',
          seat_config: { initial_seat_ids: ['ada', 'bob', 'cy'], seat_group_key: 'user_id' },
          proration: { is_prorated: true },
          subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
        },
      ],
      recurring_credits: [
        {
          product_id: catalog.poolProduct,
          access_amount: { credit_type_id: catalog.aiCredits, unit_price: 50 },
          commit_duration: { value: 1 },
          priority: 1,
          starting_at: '2024-04-01T00:00:00Z',
          subscription_config: { subscription_id: 'seats', allocation: 'INDIVIDUAL', apply_seat_increase_config: { is_prorated: true } },
        },
      ],
    });
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
  });

  let everySeat: string;
  let bobOnly: string;

  it('refuses a seat alert without seat_filter, and seat_filter on another type, naming the field', async () => {
    await expect400(client.v1.alerts.create({ alert_type: 'low_remaining_seat_balance_reached', name: 'x', threshold: 10, customer_id: customer, credit_type_id: catalog.aiCredits }), 'seat_filter');
    await expect400(
      client.v1.alerts.create({ alert_type: 'spend_threshold_reached', name: 'x', threshold: 10, customer_id: customer, seat_filter: { seat_group_key: 'user_id' } }),
      'seat_filter',
    );
  });

  it('keeps one state per seat and names the seat in the webhook', async () => {
    everySeat = (
      await client.v1.alerts.create({
        alert_type: 'low_remaining_seat_balance_reached',
        name: 'A seat is low',
        threshold: 10,
        customer_id: customer,
        credit_type_id: catalog.aiCredits,
        seat_filter: { seat_group_key: 'user_id' },
      })
    ).data.id;
    bobOnly = (
      await client.v1.alerts.create({
        alert_type: 'low_remaining_seat_balance_reached',
        name: 'Bob is low',
        threshold: 10,
        customer_id: customer,
        credit_type_id: catalog.aiCredits,
        seat_filter: { seat_group_key: 'user_id', seat_group_value: 'bob' },
      })
    ).data.id;
    const retrieve = (alertId: string, seat?: string) =>
      client.v1.customers.alerts.retrieve({ customer_id: customer, alert_id: alertId, ...(seat && { seat_filter: { seat_group_key: 'user_id', seat_group_value: seat } }) });
    expect((await retrieve(everySeat)).data).toMatchObject({ customer_status: 'ok', alert: { type: 'low_remaining_seat_balance_reached', seat_filter: { seat_group_key: 'user_id' } } });

    await use('ada-1', 'ada', 45);
    await use('bob-1', 'bob', 30);
    await waitFor(async () => (await retrieve(everySeat)).data.customer_status === 'in_alarm');
    expect((await retrieve(everySeat, 'ada')).data.customer_status).toBe('in_alarm');
    expect((await retrieve(everySeat, 'bob')).data.customer_status).toBe('ok');
    expect((await retrieve(bobOnly)).data).toMatchObject({ customer_status: 'ok', alert: { seat_filter: { seat_group_key: 'user_id', seat_group_value: 'bob' } } });
    await receiver.waitForRequests(1);
    expect(received().map((hook) => [hook.type, hook.properties.alert_id, hook.properties.seat_filter, hook.properties.remaining_balance])).toEqual([
      ['alerts.low_remaining_seat_balance_reached', everySeat, { seat_group_key: 'user_id', seat_group_value: 'ada' }, 5],
    ]);
    await expect400(retrieve(bobOnly, 'ada'), 'seat_filter.seat_group_value');

    await use('bob-2', 'bob', 10);
    await waitFor(async () => (await retrieve(bobOnly)).data.customer_status === 'in_alarm');
    await waitFor(async () => received().length === 3);
    expect(received().slice(1).map((hook) => [hook.properties.alert_id, hook.properties.seat_filter, hook.properties.remaining_balance])).toEqual(
      expect.arrayContaining([
        [everySeat, { seat_group_key: 'user_id', seat_group_value: 'bob' }, 10],
        [bobOnly, { seat_group_key: 'user_id', seat_group_value: 'bob' }, 10],
      ]),
    );
  });

  it("resolves each seat's alarm with May's fresh grant", async () => {
    await server.advanceClock('2024-05-01T00:00:00Z');
    await waitFor(async () => received().filter((hook) => hook.type === 'alerts.low_remaining_seat_balance_resolved').length === 3);
    expect(
      received()
        .filter((hook) => hook.type === 'alerts.low_remaining_seat_balance_resolved')
        .map((hook) => [(hook.properties.seat_filter as { seat_group_value: string }).seat_group_value, hook.properties.remaining_balance])
        .sort(),
    ).toEqual([
      ['ada', 50],
      ['bob', 50],
      ['bob', 50],
    ]);
  });
});
