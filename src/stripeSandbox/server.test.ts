import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSandbox, type StripeSandbox } from './server.js';

/** The sandbox on its own: subscription changes as Stripe applies them, and the events they make. */
describe('the Stripe sandbox', () => {
  let sandbox: StripeSandbox;
  let receiver: ReturnType<typeof createServer>;
  const received: { body: string; signature: string }[] = [];

  const call = async (method: string, path: string, form: Record<string, string> = {}, headers: Record<string, string> = {}) => {
    const response = await fetch(`${sandbox.apiBase}${path}`, {
      method,
      headers: { authorization: `Bearer ${sandbox.secretKey}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      ...(method === 'POST' && { body: new URLSearchParams(form).toString() }),
    });
    return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as Record<string, any> };
  };
  const price = async (amount: string) => (await call('POST', '/v1/prices', { currency: 'usd', unit_amount: amount, 'recurring[interval]': 'month', product: 'prod_seats' })).body.id as string;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push({ body, signature: String(request.headers['stripe-signature']) });
        response.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sandbox = await startStripeSandbox({ customers: ['cus_team'], webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, webhookSecret: 'whsec_unit' });
  });
  afterAll(async () => {
    await sandbox.close();
    receiver.close();
  });

  it('updates items as Stripe does: by id, added by price, deleted, one item a price; one signed event a change, none for a replay', async () => {
    const seats = await price('1000');
    const support = await price('5000');
    const created = (await call('POST', '/v1/subscriptions', { customer: 'cus_team', 'items[0][price]': seats, 'items[0][quantity]': '5' })).body;
    const seatItem = created.items.data[0].id as string;
    expect(created.items.data[0]).toMatchObject({ object: 'subscription_item', subscription: created.id, quantity: 5, price: { id: seats, object: 'price' }, current_period_start: created.created });
    // A monthly price: the first period ends one calendar month later.
    expect((created.items.data[0].current_period_end - created.created) / 86_400).toBeGreaterThanOrEqual(28);
    expect((created.items.data[0].current_period_end - created.created) / 86_400).toBeLessThanOrEqual(31);
    expect(received).toHaveLength(0);

    const key = { 'idempotency-key': 'add-support' };
    const added = await call('POST', `/v1/subscriptions/${created.id}`, { 'items[0][id]': seatItem, 'items[0][quantity]': '7', 'items[1][price]': support }, key);
    expect(added.body.items.data.map((item: { price: { id: string }; quantity: number }) => [item.price.id, item.quantity])).toEqual([[seats, 7], [support, 1]]);
    const replay = await call('POST', `/v1/subscriptions/${created.id}`, { 'items[0][id]': seatItem, 'items[0][quantity]': '7', 'items[1][price]': support }, key);
    expect(replay).toMatchObject({ status: 200, replayed: 'true', body: added.body });
    expect((await call('POST', `/v1/subscriptions/${created.id}`, { 'items[0][id]': seatItem, 'items[0][quantity]': '8' }, key)).body.error.type).toBe('idempotency_error');
    expect(received).toHaveLength(1);

    const event = Stripe.webhooks.constructEvent(received[0]!.body, received[0]!.signature, 'whsec_unit') as Stripe.CustomerSubscriptionUpdatedEvent;
    expect(event.data.object.items.data.map((item) => item.quantity)).toEqual([7, 1]);
    expect((event.data.previous_attributes as { items: Stripe.ApiList<Stripe.SubscriptionItem> }).items.data.map((item) => item.quantity)).toEqual([5]);

    const supportItem = added.body.items.data[1].id as string;
    expect((await call('POST', `/v1/subscriptions/${created.id}`, { 'items[0][price]': seats })).body.error).toMatchObject({ param: 'items[0][price]', message: 'Cannot add multiple subscription items with the same price.' });
    expect((await call('POST', `/v1/subscriptions/${created.id}`, { 'items[0][id]': 'si_missing', 'items[0][quantity]': '1' })).body.error).toMatchObject({ param: 'items[0][id]' });
    const removed = await call('POST', `/v1/subscriptions/${created.id}`, { 'items[0][id]': supportItem, 'items[0][deleted]': 'true' });
    expect(removed.body.items.data.map((item: { id: string }) => item.id)).toEqual([seatItem]);
    expect((await call('POST', `/v1/subscription_items/${seatItem}`, { quantity: '9', proration_behavior: 'none' })).body).toMatchObject({ id: seatItem, object: 'subscription_item', quantity: 9 });
    expect(received).toHaveLength(3);
    expect([...sandbox.events.values()].map((each) => each.type)).toEqual(['customer.subscription.updated', 'customer.subscription.updated', 'customer.subscription.updated']);

    const canceled = await call('DELETE', `/v1/subscriptions/${created.id}`);
    expect(canceled.body).toMatchObject({ status: 'canceled', canceled_at: expect.any(Number) });
    expect((await call('POST', `/v1/subscriptions/${created.id}`, { 'items[0][id]': seatItem, 'items[0][quantity]': '1' })).status).toBe(400);
    expect(JSON.parse(received[3]!.body)).toMatchObject({ type: 'customer.subscription.deleted', data: { object: { id: created.id, status: 'canceled' } } });
  });

  it('keeps invoices honest: unknown customers, items on another customer’s invoice, paying a draft', async () => {
    expect((await call('POST', '/v1/invoices', { customer: 'cus_nobody' })).body.error).toMatchObject({ param: 'customer', code: 'resource_missing' });
    const invoice = (await call('POST', '/v1/invoices', { customer: 'cus_team', pending_invoice_items_behavior: 'exclude' })).body;
    expect((await call('POST', '/v1/invoiceitems', { customer: 'cus_team', invoice: invoice.id, amount: '12.5' })).body.error).toMatchObject({ param: 'amount' });
    const other = sandbox.createCustomer({ name: 'Other' });
    expect((await call('POST', '/v1/invoiceitems', { customer: other.id, invoice: invoice.id, amount: '100' })).body.error).toMatchObject({ param: 'invoice' });
    await call('POST', '/v1/invoiceitems', { customer: 'cus_team', invoice: invoice.id, amount: '2500' });
    expect((await call('POST', `/v1/invoices/${invoice.id}/pay`)).body.error).toMatchObject({ code: 'invoice_not_open' });
    expect((await call('POST', `/v1/invoices/${invoice.id}/finalize`)).body).toMatchObject({ status: 'open', total: 2500, amount_due: 2500 });
    expect((await call('POST', `/v1/invoices/${invoice.id}/pay`)).body).toMatchObject({ status: 'paid', amount_paid: 2500, amount_remaining: 0 });
  });
});
