import type Metronome from '@metronome/sdk';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Stripe owns the seats: a signed `customer.subscription.updated` moves the quantity of the linked
 * $0 Allot subscription, which drives the pooled credit (docs/rules.md rule 5), at the event's exact
 * instant (rule 21). The clock stands at 2024-04-16T18:00:00Z; the events were created earlier that day.
 */

const WEBHOOK_SECRET = 'whsec_allot_test_secret';
const STRIPE_PRICE = 'price_seats_monthly';
const unix = (instant: string) => Math.floor(new Date(instant).getTime() / 1000);

interface Link {
  id: string;
  customer_id: string;
  contract_id: string;
  subscription_id: string;
  stripe_subscription_id: string;
  stripe_price_id: string;
  last_event_id: string | null;
  last_event_created: string | null;
  created_at: string;
}

/** A Stripe subscription event as Stripe sends it (the parts Allot reads, and a few it does not). */
function subscriptionEvent({
  id,
  type = 'customer.subscription.updated',
  created,
  subscription,
  quantity,
}: {
  id: string;
  type?: string;
  created: string;
  subscription: string;
  quantity: number;
}): string {
  return JSON.stringify({
    id,
    object: 'event',
    api_version: '2024-04-10',
    type,
    created: unix(created),
    livemode: false,
    data: {
      object: {
        id: subscription,
        object: 'subscription',
        customer: 'cus_team',
        status: type === 'customer.subscription.deleted' ? 'canceled' : 'active',
        items: {
          object: 'list',
          data: [
            { id: 'si_other', object: 'subscription_item', price: { id: 'price_support_addon', object: 'price' }, quantity: 3 },
            { id: 'si_seats', object: 'subscription_item', price: { id: STRIPE_PRICE, object: 'price' }, quantity },
          ],
        },
      },
      previous_attributes: {},
    },
  });
}

describe.each(ENGINES)('Stripe seat webhooks on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let team: { customer: string; contract: string; subscription: string };

  const post = (path: string, body: unknown) => client.post<{ data: Link }>(path, { body }).then((response) => response.data);

  /** Posts a Stripe webhook, signed with `secret` (the server's unless given), exactly as Stripe does. */
  async function deliver(payload: string, { secret = WEBHOOK_SECRET, signature }: { secret?: string; signature?: string | null } = {}) {
    const header = signature === undefined ? Stripe.webhooks.generateTestHeaderString({ payload, secret }) : signature;
    const response = await fetch(`${server.baseURL}/v1/allot/stripe/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...(header !== null && { 'stripe-signature': header }) },
      body: payload,
    });
    return { status: response.status, body: (await response.json()) as { received?: boolean; outcome?: string; message?: string } };
  }

  async function pool(): Promise<number> {
    return (await client.v1.contracts.getNetBalance({ customer_id: team.customer, credit_type_id: catalog.aiCredits })).data.balance;
  }

  /** The subscription's whole quantity history: [starting_at, quantity] steps. */
  async function schedule(of: { customer: string; contract: string; subscription: string } = team) {
    const history = await client.v1.contracts.retrieveSubscriptionQuantityHistory({ customer_id: of.customer, contract_id: of.contract, subscription_id: of.subscription });
    return history.data.history!.map((step) => [step.starting_at, step.data[0]!.quantity]);
  }

  async function seatLedger() {
    const [credit] = (await client.v1.contracts.listBalances({ customer_id: team.customer, include_ledgers: true })).data;
    return (credit!.ledger ?? []).map((entry) => [entry.type, entry.amount, entry.timestamp]);
  }

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-16T18:00:00Z', stripe: { webhookSecret: WEBHOOK_SECRET } });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 0, aiCreditsInCents: 100 });
    team = await createSeatContract(client, { catalog, seats: 100 });
  });
  afterAll(() => server.stop());

  it('links a contract subscription to a Stripe subscription price, refusing one that is not on that contract', async () => {
    const link = await post('/v1/allot/stripe/subscription-links', {
      customer_id: team.customer,
      contract_id: team.contract,
      subscription_id: team.subscription,
      stripe_subscription_id: 'sub_team',
      stripe_price_id: STRIPE_PRICE,
    });
    expect(link).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      customer_id: team.customer,
      contract_id: team.contract,
      subscription_id: team.subscription,
      stripe_subscription_id: 'sub_team',
      stripe_price_id: STRIPE_PRICE,
      last_event_id: null,
      last_event_created: null,
      created_at: '2024-04-16T18:00:00.000Z',
    });
    const listed = await client.get<{ data: Link[]; next_page: string | null }>('/v1/allot/stripe/subscription-links');
    expect(listed).toEqual({ data: [link], next_page: null });

    const other = await createSeatContract(client, { catalog, seats: 5 });
    const refused = (body: Record<string, unknown>) =>
      post('/v1/allot/stripe/subscription-links', {
        customer_id: team.customer,
        contract_id: team.contract,
        subscription_id: team.subscription,
        stripe_subscription_id: 'sub_other',
        stripe_price_id: STRIPE_PRICE,
        ...body,
      }).then(
        () => expect.fail('the link should have been refused'),
        (error: { status: number; message: string }) => error,
      );
    await expect(refused({ subscription_id: other.subscription })).resolves.toMatchObject({ status: 400, message: expect.stringContaining('subscription_id:') });
    await expect(refused({ contract_id: other.contract })).resolves.toMatchObject({ status: 400, message: expect.stringContaining('contract_id:') });
    await expect(refused({ customer_id: '0190f1a0-0000-7000-8000-000000000000' })).resolves.toMatchObject({ status: 400, message: expect.stringContaining('customer_id:') });
    await expect(refused({ stripe_price_id: '' })).resolves.toMatchObject({ status: 400, message: expect.stringContaining('stripe_price_id:') });
    // One Allot subscription follows one Stripe price.
    await expect(refused({})).resolves.toMatchObject({ status: 409 });
    // Another tenant sees no link.
    const stranger = server.client(await server.keyFor(`stripe-seats-${engine}-other`));
    await expect(stranger.get('/v1/allot/stripe/subscription-links')).resolves.toEqual({ data: [], next_page: null });
  });

  it('refuses a webhook with a bad or missing signature with a 400, changing nothing', async () => {
    const payload = subscriptionEvent({ id: 'evt_forged', created: '2024-04-16T12:30:00Z', subscription: 'sub_team', quantity: 500 });
    const forged = await deliver(payload, { secret: 'whsec_someone_else' });
    expect(forged.status).toBe(400);
    expect(forged.body.message).toMatch(/^Stripe-Signature: does not verify/);
    const missing = await deliver(payload, { signature: null });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/^Stripe-Signature: is required/);
    // A body altered after signing does not verify either.
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const altered = await deliver(payload.replace('"quantity":500', '"quantity":501'), { signature: header });
    expect(altered.status).toBe(400);

    expect(await schedule()).toEqual([['2024-04-01T00:00:00.000Z', 100]]);
    expect(await pool()).toBe(5000);
  });

  it('moves 100 → 110 seats at the event’s exact instant, 12:30: +10 × 50 × 347.5/720 to the pool', async () => {
    const result = await deliver(subscriptionEvent({ id: 'evt_110', created: '2024-04-16T12:30:00Z', subscription: 'sub_team', quantity: 110 }));
    expect(result).toEqual({ status: 200, body: { received: true, outcome: `subscription ${team.subscription}: quantity 110 from 2024-04-16T12:30:00.000Z` } });
    expect(await schedule()).toEqual([['2024-04-01T00:00:00.000Z', 100], ['2024-04-16T12:30:00.000Z', 110]]);
    // 14 days 11.5 hours of April's 30 days are left: 500 × 347.5/720 = 241.3194…, rounded once to 20 decimals.
    expect(await pool()).toBe(Number('5241.31944444444444444444'));
    expect(await seatLedger()).toEqual([
      ['CREDIT_SEGMENT_START', 5000, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_SEAT_BASED_ADJUSTMENT', Number('241.31944444444444444444'), '2024-04-16T12:30:00.000Z'],
    ]);
    const edits = await client.v2.contracts.getEditHistory({ customer_id: team.customer, contract_id: team.contract });
    expect(edits.data.map((edit) => edit.update_subscriptions)).toEqual([
      [{ id: team.subscription, quantity_updates: [{ starting_at: '2024-04-16T12:30:00.000Z', quantity: 110 }] }],
    ]);
  });

  it('changes nothing when the same event is delivered again', async () => {
    const again = await deliver(subscriptionEvent({ id: 'evt_110', created: '2024-04-16T12:30:00Z', subscription: 'sub_team', quantity: 110 }));
    expect(again.status).toBe(200);
    expect(again.body.outcome).toMatch(/^already handled: /);
    expect(await pool()).toBe(Number('5241.31944444444444444444'));
    expect(await schedule()).toHaveLength(2);
    expect((await client.v2.contracts.getEditHistory({ customer_id: team.customer, contract_id: team.contract })).data).toHaveLength(1);
  });

  it('ignores an event older than the last one applied: the newest Stripe state wins', async () => {
    // Stripe sent 110 at 14:10 after 90 at 13:05; the 90 arrives last.
    const newer = await deliver(subscriptionEvent({ id: 'evt_newer', created: '2024-04-16T14:10:00Z', subscription: 'sub_team', quantity: 110 }));
    expect(newer.body.outcome).toBe(`subscription ${team.subscription}: unchanged: quantity already 110 at 2024-04-16T14:10:00.000Z`);
    const older = await deliver(subscriptionEvent({ id: 'evt_older', created: '2024-04-16T13:05:00Z', subscription: 'sub_team', quantity: 90 }));
    expect(older.status).toBe(200);
    expect(older.body.outcome).toMatch(/ignored: older than the last event applied/);
    expect(await schedule()).toEqual([['2024-04-01T00:00:00.000Z', 100], ['2024-04-16T12:30:00.000Z', 110]]);
    const [link] = (await client.get<{ data: Link[] }>('/v1/allot/stripe/subscription-links')).data;
    expect(link).toMatchObject({ last_event_id: 'evt_newer', last_event_created: '2024-04-16T14:10:00.000Z' });
  });

  it('acknowledges events for subscriptions nobody linked, and types Allot does not handle, changing nothing', async () => {
    const unknown = await deliver(subscriptionEvent({ id: 'evt_unknown', created: '2024-04-16T15:00:00Z', subscription: 'sub_nobody', quantity: 7 }));
    expect(unknown).toEqual({ status: 200, body: { received: true, outcome: 'ignored: no Allot subscription is linked to sub_nobody' } });
    const invoicePaid = await deliver(JSON.stringify({ id: 'evt_paid', object: 'event', type: 'invoice.paid', created: unix('2024-04-16T03:00:00Z'), data: { object: { id: 'in_1', object: 'invoice' } } }));
    expect(invoicePaid).toEqual({ status: 200, body: { received: true, outcome: 'ignored: Allot does not handle invoice.paid' } });
    expect(await schedule()).toHaveLength(2);
  });

  it('answers a signed body that is not an event, or an event dated past the year 9999, with a 400', async () => {
    expect((await deliver('null')).status).toBe(200);
    const farFuture = JSON.parse(subscriptionEvent({ id: 'evt_far', created: '2024-04-16T03:00:00Z', subscription: 'sub_nobody', quantity: 7 })) as { created: number };
    farFuture.created = 1e15;
    const refused = await deliver(JSON.stringify(farFuture));
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('created');
  });

  it('sets the quantity to 0 when the Stripe subscription is deleted; a decrease claws nothing back', async () => {
    const deleted = await deliver(
      subscriptionEvent({ id: 'evt_deleted', type: 'customer.subscription.deleted', created: '2024-04-16T15:30:00Z', subscription: 'sub_team', quantity: 110 }),
    );
    expect(deleted.body.outcome).toBe(`subscription ${team.subscription}: quantity 0 from 2024-04-16T15:30:00.000Z`);
    expect(await schedule()).toEqual([['2024-04-01T00:00:00.000Z', 100], ['2024-04-16T12:30:00.000Z', 110], ['2024-04-16T15:30:00.000Z', 0]]);
    expect(await pool()).toBe(Number('5241.31944444444444444444'));
  });

  it('never starts a change before the open period: an event from March applies from April 1', async () => {
    const late = await createSeatContract(client, { catalog, seats: 10 });
    await post('/v1/allot/stripe/subscription-links', {
      customer_id: late.customer,
      contract_id: late.contract,
      subscription_id: late.subscription,
      stripe_subscription_id: 'sub_late',
      stripe_price_id: STRIPE_PRICE,
    });
    const result = await deliver(subscriptionEvent({ id: 'evt_march', created: '2024-03-20T10:45:00Z', subscription: 'sub_late', quantity: 12 }));
    expect(result.body.outcome).toBe(`subscription ${late.subscription}: quantity 12 from 2024-04-01T00:00:00.000Z`);
    // A backdated increase at the period's start is a seat change in it: +2 × 50 for the whole period.
    expect((await client.v1.contracts.getNetBalance({ customer_id: late.customer, credit_type_id: catalog.aiCredits })).data.balance).toBe(600);
  });

  it('applies an event dated ahead of Allot’s clock at the clock’s now, says so, and keeps applying the next ones', async () => {
    const ahead = await createSeatContract(client, { catalog, seats: 10 });
    await post('/v1/allot/stripe/subscription-links', {
      customer_id: ahead.customer,
      contract_id: ahead.contract,
      subscription_id: ahead.subscription,
      stripe_subscription_id: 'sub_ahead',
      stripe_price_id: STRIPE_PRICE,
    });
    // Real Stripe events of today reaching a server whose test clock stands at 2024-04-16T18:00.
    const first = await deliver(subscriptionEvent({ id: 'evt_ahead_1', created: '2026-12-07T09:15:00Z', subscription: 'sub_ahead', quantity: 12 }));
    expect(first.body.outcome).toBe(
      `subscription ${ahead.subscription}: quantity 12 from 2024-04-16T18:00:00.000Z (the event was created at 2026-12-07T09:15:00.000Z, ahead of Allot's clock: applied now)`,
    );
    const second = await deliver(subscriptionEvent({ id: 'evt_ahead_2', created: '2026-12-07T09:20:00Z', subscription: 'sub_ahead', quantity: 14 }));
    expect(second.body.outcome).toMatch(new RegExp(`^subscription ${ahead.subscription}: quantity 14 from 2024-04-16T18:00:00.000Z`));
    expect(await schedule(ahead)).toEqual([['2024-04-01T00:00:00.000Z', 10], ['2024-04-16T18:00:00.000Z', 14]]);
  });
  it('moves a SEAT_BASED subscription’s unassigned seats to Stripe’s quantity, and never drops a seat id assigned in Allot', async () => {
    const customer = (await client.v1.customers.create({ name: 'Seat-based team' })).data.id;
    const contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: catalog.rateCard,
        subscriptions: [
          {
            collection_schedule: 'ADVANCE',
            quantity_management_mode: 'SEAT_BASED',
            seat_config: { initial_seat_ids: ['ada', 'bob', 'cy'], seat_group_key: 'user_id', initial_unassigned_seats: 2 },
            proration: { is_prorated: true },
            subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
          },
        ],
      })
    ).data.id;
    const subscription = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.subscriptions![0]!.id!;
    const seats = { customer, contract, subscription };
    await post('/v1/allot/stripe/subscription-links', { customer_id: customer, contract_id: contract, subscription_id: subscription, stripe_subscription_id: 'sub_seat_based', stripe_price_id: STRIPE_PRICE });
    const seatsAt = async (covering: string) => {
      const [step] = (await client.v1.contracts.getSubscriptionSeatsHistory({ customer_id: customer, contract_id: contract, subscription_id: subscription, covering_date: covering })).data;
      return [step!.assigned_seat_ids.slice().sort(), step!.total_quantity];
    };

    // 3 seat ids and 2 unassigned (5); Stripe says 8: three more unassigned seats (total_quantity: seat ids and unassigned seats).
    const up = await deliver(subscriptionEvent({ id: 'evt_seat_based_8', created: '2024-04-10T09:00:00Z', subscription: 'sub_seat_based', quantity: 8 }));
    expect(up.body.outcome).toBe(`subscription ${subscription}: quantity 8 from 2024-04-10T09:00:00.000Z`);
    expect(await seatsAt('2024-04-10T09:00:00Z')).toEqual([['ada', 'bob', 'cy'], 8]);
    // Stripe says 4: one unassigned seat is left.
    await deliver(subscriptionEvent({ id: 'evt_seat_based_4', created: '2024-04-12T09:00:00Z', subscription: 'sub_seat_based', quantity: 4 }));
    expect(await seatsAt('2024-04-12T09:00:00Z')).toEqual([['ada', 'bob', 'cy'], 4]);
    // Stripe says 2: the unassigned seat goes; the three seat ids stay, and the outcome says so.
    const down = await deliver(subscriptionEvent({ id: 'evt_seat_based_2', created: '2024-04-14T09:00:00Z', subscription: 'sub_seat_based', quantity: 2 }));
    expect(down.body.outcome).toBe(`subscription ${subscription}: quantity 2 from 2024-04-14T09:00:00.000Z (1 seat id assigned in Allot beyond it kept: unassigned seats set to 0)`);
    expect(await seatsAt('2024-04-14T09:00:00Z')).toEqual([['ada', 'bob', 'cy'], 3]);
    expect(await schedule(seats)).toEqual([
      ['2024-04-01T00:00:00.000Z', 5],
      ['2024-04-10T09:00:00.000Z', 8],
      ['2024-04-12T09:00:00.000Z', 4],
      ['2024-04-14T09:00:00.000Z', 3],
    ]);
    // Each was one seat edit, made once.
    const edits = (await client.v2.contracts.getEditHistory({ customer_id: customer, contract_id: contract })).data;
    expect(edits).toHaveLength(3);
  });
});
