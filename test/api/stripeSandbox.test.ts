import type Metronome from '@metronome/sdk';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSandbox, type StripeSandbox } from '../../src/stripeSandbox/server.js';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Both directions through the Stripe sandbox, driven by Stripe's official client as a user's code
 * would drive Stripe: a subscription's quantity changes in the sandbox → a signed
 * `customer.subscription.updated` → the linked Allot subscription and its pool move; period close
 * → the invoice pushed into the sandbox → paid there. Allot's clock stands in April 2024, so the
 * sandbox's events (created now, by the wall clock) take effect at Allot's now.
 */
const WEBHOOK_SECRET = 'whsec_sandbox_test';

describe.each(ENGINES)('the Stripe sandbox with Allot on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let sandbox: StripeSandbox;
  let stripe: Stripe;
  let catalog: SeatCatalog;
  let team: { customer: string; contract: string; subscription: string };
  let subscription: Stripe.Subscription;

  const pool = async () => (await client.v1.contracts.getNetBalance({ customer_id: team.customer, credit_type_id: catalog.aiCredits })).data.balance;
  const outcomeOf = (index: number) => (JSON.parse(sandbox.deliveries[index]!.response) as { outcome: string }).outcome;

  beforeAll(async () => {
    sandbox = await startStripeSandbox({ webhookSecret: WEBHOOK_SECRET, retryDelaysMs: [] });
    server = await startTestServer({
      engine,
      clockStart: '2024-04-01T00:00:00Z',
      stripe: { secretKey: sandbox.secretKey, apiBase: sandbox.apiBase, webhookSecret: WEBHOOK_SECRET, pollIntervalMs: 100 },
    });
    sandbox.webhookUrl = `${server.baseURL}/v1/allot/stripe/webhook`;
    client = server.client();
    stripe = new Stripe(sandbox.secretKey, { host: '127.0.0.1', port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  });
  afterAll(async () => {
    await server.stop();
    await sandbox.close();
  });

  it('creates a customer and a subscription of 100 seats, shaped as Stripe shapes them, and links it in Allot', async () => {
    const customer = await stripe.customers.create({ name: 'Acme AI', email: 'billing@acme-ai.example' });
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Seats' } });
    subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id, quantity: 100 }] });
    expect(subscription).toMatchObject({
      id: expect.stringMatching(/^sub_\w{14}$/),
      object: 'subscription',
      customer: customer.id,
      status: 'active',
      items: { object: 'list', has_more: false, data: [{ id: expect.stringMatching(/^si_/), object: 'subscription_item', quantity: 100, subscription: subscription.id, price: { id: price.id, object: 'price', unit_amount: 1000, recurring: { interval: 'month', interval_count: 1 } } }] },
    });
    expect(sandbox.deliveries).toEqual([]);

    catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 100 });
    team = await createSeatContract(client, { catalog, seats: 100 });
    await client.v1.customers.setBillingConfigurations({
      data: [{ customer_id: team.customer, billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider', configuration: { stripe_customer_id: customer.id, stripe_collection_method: 'charge_automatically' } }],
    });
    await client.post('/v1/allot/stripe/subscription-links', {
      body: { customer_id: team.customer, contract_id: team.contract, subscription_id: team.subscription, stripe_subscription_id: subscription.id, stripe_price_id: price.id },
    });
    expect(await pool()).toBe(5000);
  });

  it('sends a signed customer.subscription.updated when the quantity changes, and the pool moves', async () => {
    expect((await server.advanceClock('2024-04-16T00:00:00Z')).status).toBe(200);
    const item = subscription.items.data[0]!;
    const updated = await stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, quantity: 110 }] });
    expect(updated.items.data[0]!.quantity).toBe(110);

    // The first delivery is made before the update is answered.
    expect(sandbox.deliveries).toHaveLength(1);
    expect(sandbox.deliveries[0]).toMatchObject({ type: 'customer.subscription.updated', subscriptionId: subscription.id, attempt: 1, status: 200 });
    expect(outcomeOf(0)).toMatch(/quantity 110 from 2024-04-16T00:00:00.000Z \(the event was created at .*ahead of Allot's clock: applied now\)/);
    const [event] = [...sandbox.events.values()];
    expect(event).toMatchObject({ object: 'event', type: 'customer.subscription.updated', livemode: false, data: { object: { id: subscription.id }, previous_attributes: { items: { data: [{ id: item.id, quantity: 100 }] } } } });
    // 10 seats × 50 credits × 15 of April's 30 days.
    expect(await pool()).toBe(5250);

    // The same quantity again changes nothing, so Stripe sends nothing.
    await stripe.subscriptionItems.update(item.id, { quantity: 110 });
    expect(sandbox.deliveries).toHaveLength(1);
  });

  it('refuses bad input with a 400 naming the parameter, as Stripe does', async () => {
    const post = (path: string, body: string, key = sandbox.secretKey) =>
      fetch(`${sandbox.apiBase}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' }, body }).then(async (response) => ({
        status: response.status,
        error: ((await response.json()) as { error: { message: string; param?: string } }).error,
      }));
    const item = subscription.items.data[0]!.id;
    await expect(post(`/v1/subscriptions/${subscription.id}`, `items[0][id]=${item}&items[0][quantity]=-1`)).resolves.toMatchObject({ status: 400, error: { param: 'items[0][quantity]' } });
    await expect(post(`/v1/subscriptions/${subscription.id}`, 'quantity=120')).resolves.toMatchObject({ status: 400, error: { param: 'quantity', message: expect.stringContaining('items[0][quantity]') } });
    await expect(post('/v1/subscriptions', `customer=cus_nobody&items[0][price]=${subscription.items.data[0]!.price.id}`)).resolves.toMatchObject({ status: 400, error: { param: 'customer', message: "No such customer: 'cus_nobody'" } });
    await expect(post('/v1/customers', 'name=x', 'sk_test_wrong')).resolves.toMatchObject({ status: 401 });
    expect(sandbox.deliveries).toHaveLength(1);
  });

  it('receives the invoice Allot pushes at period close, and pays it', async () => {
    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);
    const [april] = (await client.v1.customers.invoices.list({ customer_id: team.customer, status: 'FINALIZED' })).data;
    // 100 seats at $10 in advance, and 10 more for half of April.
    expect(april!.total).toBe(105_000);
    let stripeInvoiceId: string | null = null;
    await waitFor(
      async () => {
        const sync = await client.get<{ data: { status: string; stripe_invoice_id: string | null } }>(`/v1/allot/stripe/invoices/${april!.id}`).catch(() => undefined);
        stripeInvoiceId = sync?.data.status === 'synced' ? sync.data.stripe_invoice_id : null;
        return stripeInvoiceId !== null;
      },
      { what: 'the push of the April invoice' },
    );
    const listed = await stripe.invoices.list({ customer: subscription.customer as string });
    expect(listed.data.map((invoice) => [invoice.id, invoice.status, invoice.total])).toEqual([[stripeInvoiceId, 'open', 105_000]]);

    const paid = await stripe.invoices.pay(stripeInvoiceId!);
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 105_000, amount_remaining: 0, status_transitions: { paid_at: expect.any(Number) } });
    await expect(stripe.invoices.pay(stripeInvoiceId!)).rejects.toMatchObject({ statusCode: 400, code: 'invoice_already_paid' });
  });

  it('sends customer.subscription.deleted when the subscription is canceled: 0 seats from then on', async () => {
    expect((await server.advanceClock('2024-05-02T00:00:00Z')).status).toBe(200);
    await stripe.subscriptions.cancel(subscription.id);
    expect(sandbox.deliveries[1]).toMatchObject({ type: 'customer.subscription.deleted', status: 200 });
    expect(outcomeOf(1)).toMatch(/quantity 0 from 2024-05-02T00:00:00.000Z/);
    // May granted 110 × 50 on May 1; a decrease takes nothing back.
    expect(await pool()).toBe(5500);
  });

  it('retries a delivery Allot refuses: events signed with another secret are 400s', async () => {
    const other = await startStripeSandbox({ webhookUrl: `${server.baseURL}/v1/allot/stripe/webhook`, webhookSecret: 'whsec_not_allots', retryDelaysMs: [10] });
    try {
      const customer = other.createCustomer({ id: 'cus_elsewhere' });
      const otherStripe = new Stripe(other.secretKey, { host: '127.0.0.1', port: other.port, protocol: 'http', maxNetworkRetries: 0 });
      const seats = await otherStripe.prices.create({ currency: 'usd', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Seats' } });
      const created = await otherStripe.subscriptions.create({ customer: customer.id, items: [{ price: seats.id, quantity: 3 }] });
      await otherStripe.subscriptions.update(created.id, { items: [{ id: created.items.data[0]!.id, quantity: 4 }] });
      await waitFor(async () => other.deliveries.length === 2, { what: 'the retry' });
      expect(other.deliveries.map((delivery) => [delivery.attempt, delivery.status])).toEqual([[1, 400], [2, 400]]);
      expect(other.deliveries[0]!.response).toContain('Stripe-Signature');
    } finally {
      await other.close();
    }
  });
  it('declines the payments of a customer whose default payment method is a declining test card, as Stripe does', async () => {
    const declining = await stripe.customers.create({ name: 'Declines', invoice_settings: { default_payment_method: 'pm_card_chargeDeclined' } });
    expect(declining.invoice_settings?.default_payment_method).toBe('pm_card_chargeDeclined');
    const invoice = await stripe.invoices.create({ customer: declining.id, pending_invoice_items_behavior: 'exclude' });
    await stripe.invoiceItems.create({ customer: declining.id, invoice: invoice.id, amount: 4100, currency: 'usd' });
    await stripe.invoices.finalizeInvoice(invoice.id!);
    await expect(stripe.invoices.pay(invoice.id!)).rejects.toMatchObject({ type: 'StripeCardError', statusCode: 402, code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' });
    expect(await stripe.invoices.retrieve(invoice.id!)).toMatchObject({ status: 'open', attempted: true, attempt_count: 1, amount_paid: 0 });
    // Another card (here: none) pays.
    await stripe.customers.update(declining.id, { invoice_settings: { default_payment_method: '' } });
    expect(await stripe.invoices.pay(invoice.id!)).toMatchObject({ status: 'paid', amount_paid: 4100 });
  });
});
