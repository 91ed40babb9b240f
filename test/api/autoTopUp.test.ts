import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/app.js';
import type { App } from '../../src/http/types.js';
import { openPostgres } from '../../src/lib/db/postgres.js';
import { startStripeSandbox, type StripeSandbox } from '../../src/stripeSandbox/server.js';
import { createCreditType } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const NOW = '2024-04-10T00:00:00Z';
let sequence = 0;

interface PaymentGateEvent {
  type: string;
  properties: Record<string, unknown> & { customer_id: string };
}

/**
 * Auto top-up (`prepaid_balance_threshold_configuration`, docs/rules.md rule 30) through the SDK,
 * on a clock fixed at 2024-04-10: usage priced at 1 cent a unit draws a $50 prepaid commit; at or
 * below the threshold of 1,000 cents one commit recharges the balance to 5,000 cents. Payment gates
 * NONE and STRIPE (the local Stripe sandbox: paid, and declined).
 */
describe.each(ENGINES)('auto top-up on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let sandbox: StripeSandbox;
  let receiver: Receiver;
  let prepaid: string;
  let rateCard: string;

  beforeAll(async () => {
    sandbox = await startStripeSandbox();
    sandbox.createCustomer({ id: 'cus_pays' });
    sandbox.createCustomer({ id: 'cus_declines', paymentMethod: 'pm_card_chargeDeclined' });
    receiver = await startReceiver();
    server = await startTestServer({ engine, clockStart: NOW, stripe: { secretKey: sandbox.secretKey, apiBase: sandbox.apiBase, push: false }, webhooks: { retryBaseMs: 10, retryMaxMs: 50 } });
    client = server.client();
    const registered = await fetch(`${server.baseURL}/v1/allot/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, event_types: ['payment_gate.threshold_reached', 'payment_gate.payment_status'] }),
    });
    expect(registered.status).toBe(200);
    prepaid = (await client.v1.contracts.products.create({ name: 'Prepaid balance', type: 'FIXED' })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({
        name: 'Cents spent',
        event_type_filter: { in_values: ['spend'] },
        aggregation_type: 'SUM',
        aggregation_key: 'cents',
        property_filters: [{ name: 'cents', exists: true }],
      })
    ).data.id;
    const usage = (await client.v1.contracts.products.create({ name: 'API', type: 'USAGE', billable_metric_id: metric })).data.id;
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'Prepaid plan' })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: usage, entitled: true, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:00:00Z' });
  });
  afterAll(async () => {
    await server.stop();
    await sandbox.close();
    await receiver.close();
  });

  const recharge = (gate: 'NONE' | 'STRIPE') => ({
    commit: { product_id: prepaid, name: 'Auto recharge' },
    is_enabled: true,
    payment_gate_config: { payment_gate_type: gate },
    threshold_amount: 1000,
    recharge_to_amount: 5000,
  });

  /** A customer with a $50 prepaid commit for April 2024 → 2025 on a contract from April 1, with `configuration` when given. */
  async function prepaidCustomer({ stripeCustomer, configuration }: { stripeCustomer?: string; configuration?: ReturnType<typeof recharge> } = {}) {
    const customer = (
      await client.v1.customers.create({
        name: `Prepaid ${++sequence}`,
        ...(stripeCustomer && {
          customer_billing_provider_configurations: [
            { billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider', configuration: { stripe_customer_id: stripeCustomer, stripe_collection_method: 'charge_automatically' } },
          ],
        }),
      })
    ).data.id;
    const contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: rateCard,
        commits: [
          {
            type: 'PREPAID',
            product_id: prepaid,
            priority: 1,
            access_schedule: { credit_type_id: USD, schedule_items: [{ amount: 5000, starting_at: '2024-04-01T00:00:00Z', ending_before: '2025-04-01T00:00:00Z' }] },
          },
        ],
        ...(configuration && { prepaid_balance_threshold_configuration: configuration }),
      })
    ).data.id;
    return { customer, contract };
  }

  const spend = (customer: string, cents: number, via = client) =>
    via.v1.usage.ingest({ usage: [{ transaction_id: `spend-${++sequence}`, customer_id: customer, event_type: 'spend', timestamp: NOW, properties: { cents } }] });
  const balanceOf = async (customer: string) => (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: USD })).data.balance;
  const commitsOf = async (customer: string) =>
    (await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true })).data
      .filter((grant) => grant.type === 'PREPAID')
      .map((grant) => ({ amount: grant.access_schedule!.schedule_items[0]!.amount, name: grant.name ?? null, balance: grant.balance }));
  const eventsOf = (customer: string, type?: string): PaymentGateEvent[] =>
    receiver.requests
      .map((request) => JSON.parse(request.body) as PaymentGateEvent)
      .filter((event) => event.properties.customer_id === customer && (type === undefined || event.type === type));

  it('tops a balance left at 900 cents up to 5,000 with one commit of 4,100 (gate NONE), and says so in payment_gate.threshold_reached', async () => {
    const { customer, contract } = await prepaidCustomer({ configuration: recharge('NONE') });
    await spend(customer, 3000);
    expect(await balanceOf(customer)).toBe(2000);
    await spend(customer, 1100);
    await waitFor(async () => (await balanceOf(customer)) === 5000, { what: 'the balance recharged to 5,000' });
    expect(await commitsOf(customer)).toEqual([
      { amount: 5000, name: null, balance: 900 },
      { amount: 4100, name: 'Auto recharge', balance: 4100 },
    ]);
    await receiver.waitForRequests(1);
    await waitFor(async () => eventsOf(customer).length === 1, { what: 'the threshold webhook' });
    expect(eventsOf(customer)[0]).toMatchObject({
      type: 'payment_gate.threshold_reached',
      properties: { contract_id: contract, threshold_type: 'prepaid_balance', payment_gate_type: 'NONE', credit_type_id: USD, amount: 4100, remaining_balance: 900, threshold_amount: 1000, recharge_to_amount: 5000 },
    });

    // Retrieve shows the configuration in the SDK's shape, on v2 and v1.
    const expected = { commit: { product_id: prepaid, name: 'Auto recharge' }, is_enabled: true, payment_gate_config: { payment_gate_type: 'NONE' }, threshold_amount: 1000, recharge_to_amount: 5000 };
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.prepaid_balance_threshold_configuration).toEqual(expected);
    const v1 = (await client.v1.contracts.retrieve({ customer_id: customer, contract_id: contract })).data;
    expect(v1.prepaid_balance_threshold_configuration).toEqual(expected);
    expect(v1.current.prepaid_balance_threshold_configuration).toEqual(expected);

    // Above the threshold again: further usage recharges nothing until it crosses again.
    await spend(customer, 3500);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await balanceOf(customer)).toBe(1500);
    expect((await commitsOf(customer)).length).toBe(2);
  });

  it('pays a Stripe invoice of 4,100 cents before releasing the commit (gate STRIPE)', async () => {
    const { customer, contract } = await prepaidCustomer({ stripeCustomer: 'cus_pays', configuration: recharge('STRIPE') });
    await spend(customer, 4100);
    await waitFor(async () => (await balanceOf(customer)) === 5000, { what: 'the balance recharged to 5,000' });
    const [invoice, ...others] = [...sandbox.invoices.values()].filter((each) => each.customer === 'cus_pays');
    expect(others).toEqual([]);
    expect(invoice).toMatchObject({ status: 'paid', total: 4100, amount_paid: 4100, collection_method: 'charge_automatically' });
    expect(invoice!.metadata).toMatchObject({ allot_contract_id: contract });
    await waitFor(async () => eventsOf(customer).length === 2, { what: 'both payment gate webhooks' });
    const [reached, status] = eventsOf(customer);
    expect(reached).toMatchObject({ type: 'payment_gate.threshold_reached', properties: { payment_gate_type: 'STRIPE', amount: 4100, charge_amount_cents: 4100, remaining_balance: 900 } });
    expect(status).toMatchObject({ type: 'payment_gate.payment_status', properties: { payment_status: 'paid', stripe_invoice_id: invoice!.id, amount: 4100 } });
    expect(status!.properties.commit_id).toEqual(expect.any(String));
    expect(await commitsOf(customer)).toEqual([
      { amount: 5000, name: null, balance: 900 },
      { amount: 4100, name: 'Auto recharge', balance: 4100 },
    ]);
  });

  it('releases no commit when Stripe declines the payment: the webhook says why, the invoice is voided and the configuration turned off', async () => {
    const { customer, contract } = await prepaidCustomer({ stripeCustomer: 'cus_declines', configuration: recharge('STRIPE') });
    await spend(customer, 4100);
    await waitFor(async () => eventsOf(customer, 'payment_gate.payment_status').length === 1, { what: 'the payment status webhook' });
    expect(eventsOf(customer, 'payment_gate.payment_status')[0]).toMatchObject({
      properties: { payment_status: 'failed', error_message: 'Your card was declined.', error_code: 'card_declined', amount: 4100, contract_id: contract },
    });
    expect(await balanceOf(customer)).toBe(900);
    expect((await commitsOf(customer)).length).toBe(1);
    const invoices = [...sandbox.invoices.values()].filter((each) => each.customer === 'cus_declines');
    expect(invoices.map((each) => [each.status, each.total, each.amount_paid])).toEqual([['void', 4100, 0]]);
    const configuration = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.prepaid_balance_threshold_configuration;
    expect(configuration?.is_enabled).toBe(false);

    // Turned off, it charges nothing more; enabling it again (with a card that pays) evaluates at once.
    sandbox.customers.get('cus_declines')!.invoice_settings.default_payment_method = null;
    await spend(customer, 100);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(eventsOf(customer, 'payment_gate.threshold_reached').length).toBe(1);
    await client.v2.contracts.edit({ customer_id: customer, contract_id: contract, update_prepaid_balance_threshold_configuration: { is_enabled: true } });
    await waitFor(async () => (await balanceOf(customer)) === 5000, { what: 'the recharge once enabled again' });
    expect((await commitsOf(customer)).map((commit) => commit.amount)).toEqual([5000, 4200]);
  });

  it('recharges in a custom unit: 40 AI credits left → 460 more, charged in Stripe at 2.5 cents a credit (1,150 cents)', async () => {
    const aiCredits = await createCreditType(server, `AI credits ${++sequence}`);
    const eventType = `ai-${sequence}`;
    const card = (await client.v1.contracts.rateCards.create({ name: `AI plan ${sequence}`, credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 2.5 }] })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({ name: `Credits ${sequence}`, event_type_filter: { in_values: [eventType] }, aggregation_type: 'SUM', aggregation_key: 'credits', property_filters: [{ name: 'credits', exists: true }] })
    ).data.id;
    const product = (await client.v1.contracts.products.create({ name: `AI ${sequence}`, type: 'USAGE', billable_metric_id: metric })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: card, product_id: product, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    const customer = (
      await client.v1.customers.create({
        name: `AI buyer ${sequence}`,
        customer_billing_provider_configurations: [
          { billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider', configuration: { stripe_customer_id: 'cus_ai', stripe_collection_method: 'charge_automatically' } },
        ],
      })
    ).data.id;
    sandbox.createCustomer({ id: 'cus_ai' });
    await client.v1.contracts.create({
      customer_id: customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: card,
      commits: [{ type: 'PREPAID', product_id: prepaid, priority: 1, access_schedule: { credit_type_id: aiCredits, schedule_items: [{ amount: 500, starting_at: '2024-04-01T00:00:00Z', ending_before: '2025-04-01T00:00:00Z' }] } }],
      prepaid_balance_threshold_configuration: { ...recharge('STRIPE'), custom_credit_type_id: aiCredits, threshold_amount: 100, recharge_to_amount: 500 },
    });
    const aiBalance = async () => (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits })).data.balance;
    await client.v1.usage.ingest({ usage: [{ transaction_id: `ai-${++sequence}`, customer_id: customer, event_type: eventType, timestamp: NOW, properties: { credits: 460 } }] });
    await waitFor(async () => (await aiBalance()) === 500, { what: 'the AI credits recharged to 500' });
    const [invoice] = [...sandbox.invoices.values()].filter((each) => each.customer === 'cus_ai');
    expect(invoice).toMatchObject({ status: 'paid', total: 1150 });
    const invoices = (await client.v1.customers.invoices.list({ customer_id: customer })).data.filter((each) => each.type === 'SCHEDULED');
    expect(invoices.map((each) => [each.status, each.total, each.credit_type.id])).toEqual([['FINALIZED', 1150, USD]]);
  });

  it('adds a configuration with a v2 edit (evaluated at once) and updates it field by field', async () => {
    const { customer, contract } = await prepaidCustomer();
    await spend(customer, 4500);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await balanceOf(customer)).toBe(500);
    await client.v2.contracts.edit({ customer_id: customer, contract_id: contract, add_prepaid_balance_threshold_configuration: recharge('NONE') });
    await waitFor(async () => (await balanceOf(customer)) === 5000, { what: 'the recharge after the edit' });
    expect((await commitsOf(customer)).map((commit) => commit.amount)).toEqual([5000, 4500]);

    await client.v2.contracts.edit({
      customer_id: customer,
      contract_id: contract,
      update_prepaid_balance_threshold_configuration: { threshold_amount: 2000, recharge_to_amount: 8000, commit: { name: 'Top-up', priority: 5 } },
    });
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.prepaid_balance_threshold_configuration).toEqual({
      commit: { product_id: prepaid, name: 'Top-up', priority: 5 },
      is_enabled: true,
      payment_gate_config: { payment_gate_type: 'NONE' },
      threshold_amount: 2000,
      recharge_to_amount: 8000,
    });
    await spend(customer, 3000);
    await waitFor(async () => (await balanceOf(customer)) === 8000, { what: 'the recharge to 8,000' });
    expect((await commitsOf(customer)).map((commit) => [commit.amount, commit.name])).toEqual([
      [5000, null],
      [4500, 'Auto recharge'],
      [6000, 'Top-up'],
    ]);

    await expect400(client.v2.contracts.edit({ customer_id: customer, contract_id: contract, add_prepaid_balance_threshold_configuration: recharge('NONE') }), 'add_prepaid_balance_threshold_configuration');
    const bare = await prepaidCustomer();
    await expect400(
      client.v2.contracts.edit({ customer_id: bare.customer, contract_id: bare.contract, update_prepaid_balance_threshold_configuration: { threshold_amount: 10 } }),
      'update_prepaid_balance_threshold_configuration',
    );
    await expect400(
      client.v2.contracts.edit({ customer_id: customer, contract_id: contract, update_prepaid_balance_threshold_configuration: { threshold_amount: 9000 } }),
      'update_prepaid_balance_threshold_configuration.recharge_to_amount',
    );
  });

  it('refuses a bad value of each field with a 400 naming it, and names every one at once', async () => {
    const customer = (await client.v1.customers.create({ name: `Refused ${++sequence}` })).data.id;
    const create = (configuration: object) =>
      client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard, prepaid_balance_threshold_configuration: configuration as never });
    const field = 'prepaid_balance_threshold_configuration';
    const cases: [object, string][] = [
      [{ ...recharge('NONE'), threshold_amount: -1 }, `${field}.threshold_amount`],
      [{ ...recharge('NONE'), recharge_to_amount: 1000 }, `${field}.recharge_to_amount`],
      [{ ...recharge('NONE'), recharge_to_amount: 0 }, `${field}.recharge_to_amount`],
      [{ ...recharge('NONE'), is_enabled: 'yes' }, `${field}.is_enabled`],
      [{ ...recharge('NONE'), commit: { product_id: '00000000-0000-0000-0000-000000000000' } }, `${field}.commit.product_id`],
      [{ ...recharge('NONE'), commit: { product_id: prepaid, specifiers: [] } }, `${field}.commit.specifiers`],
      [{ ...recharge('NONE'), payment_gate_config: { payment_gate_type: 'EXTERNAL' } }, `${field}.payment_gate_config.payment_gate_type`],
      [{ ...recharge('NONE'), payment_gate_config: { payment_gate_type: 'STRIPE', stripe_config: { payment_type: 'PAYMENT_INTENT' } } }, `${field}.payment_gate_config.stripe_config.payment_type`],
      [{ ...recharge('NONE'), payment_gate_config: { payment_gate_type: 'NONE', tax_type: 'STRIPE' } }, `${field}.payment_gate_config.tax_type`],
      // STRIPE needs the customer's Stripe configuration, which this customer lacks.
      [recharge('STRIPE'), `${field}.payment_gate_config.payment_gate_type`],
      [{ ...recharge('NONE'), custom_credit_type_id: '00000000-0000-0000-0000-000000000000' }, `${field}.custom_credit_type_id`],
      [{ ...recharge('NONE'), discount_configuration: { payment_fraction: 0.9 } }, `${field}.discount_configuration`],
      [{ ...recharge('NONE'), threshold_balance_specifiers: [] }, `${field}.threshold_balance_specifiers`],
    ];
    for (const [configuration, named] of cases) await expect400(create(configuration), named);
    const all = await create({ ...recharge('NONE'), threshold_amount: -1, payment_gate_config: { payment_gate_type: 'EXTERNAL' }, commit: {} }).catch((error: { status: number; message: string }) => error);
    expect((all as { status: number }).status).toBe(400);
    for (const named of ['threshold_amount', 'payment_gate_config.payment_gate_type', 'commit.product_id']) expect((all as { message: string }).message).toContain(`${field}.${named}`);
  });

  if (engine === 'postgres') it('makes exactly one recharge when 20 concurrent ingests on two processes cross the threshold together', async () => {
    const { customer } = await prepaidCustomer({ configuration: recharge('NONE') });
    // Another Allot process on the same PostgreSQL: its own pool, signals and threshold watcher.
    const otherDb = openPostgres({ url: server.database.url!, poolSize: 5 });
    const other: App = await buildServer({ db: otherDb, clock: server.clock, webhooks: { deliver: false } });
    const otherUrl = await other.listen({ port: 0, host: '127.0.0.1' });
    try {
      const viaOther = new Metronome({ bearerToken: server.key, baseURL: otherUrl, maxRetries: 0 });
      // 20 × 205 = 4,100: only the last of them takes the balance to 900, at or below 1,000.
      await Promise.all(Array.from({ length: 20 }, (_, index) => spend(customer, 205, index % 2 === 0 ? client : viaOther)));
      await waitFor(async () => (await balanceOf(customer)) === 5000, { what: 'the recharge' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await commitsOf(customer)).map((commit) => commit.amount)).toEqual([5000, 4100]);
      expect(await balanceOf(customer)).toBe(5000);
    } finally {
      await other.close();
      await otherDb.close();
    }
  });
});
