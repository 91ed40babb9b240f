import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSandbox, type StripeSandbox } from '../../src/stripeSandbox/server.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const NOW = '2024-04-10T00:00:00Z';
let sequence = 0;

interface PaymentGateEvent {
  type: string;
  properties: Record<string, unknown> & { customer_id: string };
}

/**
 * Threshold billing (`spend_threshold_configuration`, docs/rules.md rule 31) through the SDK, on a
 * clock fixed at 2024-04-10: usage priced at 1 cent a unit, no credits; once April's unpaid spend
 * reaches 1,000 cents a SCHEDULED invoice bills it, a commit pays it, and the spend starts again.
 */
describe.each(ENGINES)('threshold billing on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let sandbox: StripeSandbox;
  let receiver: Receiver;
  let chargeProduct: string;
  let rateCard: string;
  /** The first test's customer: April is closed for it by the last test. */
  let first: string;

  beforeAll(async () => {
    sandbox = await startStripeSandbox();
    sandbox.createCustomer({ id: 'cus_spender' });
    sandbox.createCustomer({ id: 'cus_declined_spender', paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' });
    receiver = await startReceiver();
    server = await startTestServer({ engine, clockStart: NOW, stripe: { secretKey: sandbox.secretKey, apiBase: sandbox.apiBase, push: false }, webhooks: { retryBaseMs: 10, retryMaxMs: 50 } });
    client = server.client();
    const registered = await fetch(`${server.baseURL}/v1/allot/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, event_types: ['payment_gate.threshold_reached', 'payment_gate.payment_status', 'invoice.finalized'] }),
    });
    expect(registered.status).toBe(200);
    chargeProduct = (await client.v1.contracts.products.create({ name: 'Usage so far', type: 'FIXED' })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({ name: 'Cents', event_type_filter: { in_values: ['spend'] }, aggregation_type: 'SUM', aggregation_key: 'cents', property_filters: [{ name: 'cents', exists: true }] })
    ).data.id;
    const usage = (await client.v1.contracts.products.create({ name: 'API', type: 'USAGE', billable_metric_id: metric })).data.id;
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'Pay as you go' })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: usage, entitled: true, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:00:00Z' });
  });
  afterAll(async () => {
    await server.stop();
    await sandbox.close();
    await receiver.close();
  });

  const spendThreshold = (gate: 'NONE' | 'STRIPE') => ({
    commit: { product_id: chargeProduct, name: 'Usage so far' },
    is_enabled: true,
    payment_gate_config: { payment_gate_type: gate },
    threshold_amount: 1000,
  });

  async function spender({ stripeCustomer, configuration }: { stripeCustomer?: string; configuration?: ReturnType<typeof spendThreshold> } = {}) {
    const customer = (
      await client.v1.customers.create({
        name: `Spender ${++sequence}`,
        ...(stripeCustomer && {
          customer_billing_provider_configurations: [
            { billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider', configuration: { stripe_customer_id: stripeCustomer, stripe_collection_method: 'charge_automatically' } },
          ],
        }),
      })
    ).data.id;
    const contract = (
      await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard, ...(configuration && { spend_threshold_configuration: configuration }) })
    ).data.id;
    return { customer, contract };
  }

  const spend = (customer: string, cents: number) =>
    client.v1.usage.ingest({ usage: [{ transaction_id: `spend-${++sequence}`, customer_id: customer, event_type: 'spend', timestamp: NOW, properties: { cents } }] });
  const invoicesOf = async (customer: string) => (await client.v1.customers.invoices.list({ customer_id: customer })).data;
  const draftTotal = async (customer: string) => (await invoicesOf(customer)).find((invoice) => invoice.type === 'USAGE' && invoice.status === 'DRAFT')!.total;
  const scheduled = async (customer: string) =>
    (await invoicesOf(customer)).filter((invoice) => invoice.type === 'SCHEDULED').map((invoice) => ({ status: invoice.status, total: invoice.total, lines: invoice.line_items.map((line) => [line.type, line.name, line.total]) }));
  const eventsOf = (customer: string, type?: string): PaymentGateEvent[] =>
    receiver.requests
      .map((request) => JSON.parse(request.body) as PaymentGateEvent)
      .filter((event) => event.properties.customer_id === customer && (type === undefined || event.type === type));

  it('issues a SCHEDULED invoice of 1,200 once April’s spend reaches 1,000, pays the spend with a commit, and starts counting again (gate NONE)', async () => {
    const { customer, contract } = await spender({ configuration: spendThreshold('NONE') });
    first = customer;
    await spend(customer, 600);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await draftTotal(customer)).toBe(600);
    expect(await scheduled(customer)).toEqual([]);

    await spend(customer, 600);
    await waitFor(async () => (await draftTotal(customer)) === 0, { what: 'the spend paid by the threshold commit' });
    expect(await scheduled(customer)).toEqual([{ status: 'FINALIZED', total: 1200, lines: [['scheduled', 'Usage so far', 1200]] }]);
    await waitFor(async () => eventsOf(customer, 'payment_gate.threshold_reached').length === 1, { what: 'the threshold webhook' });
    expect(eventsOf(customer, 'payment_gate.threshold_reached')[0]).toMatchObject({
      type: 'payment_gate.threshold_reached',
      properties: { contract_id: contract, threshold_type: 'spend', payment_gate_type: 'NONE', amount: 1200, charge_amount_cents: 1200, current_spend: 1200, threshold_amount: 1000 },
    });

    // The spend starts again: 300 is below the threshold, 300 + 800 reaches it once more.
    await spend(customer, 300);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await draftTotal(customer)).toBe(300);
    await spend(customer, 800);
    await waitFor(async () => (await scheduled(customer)).length === 2, { what: 'the second threshold invoice' });
    expect((await scheduled(customer)).map((invoice) => invoice.total)).toEqual([1200, 1100]);
    expect(await draftTotal(customer)).toBe(0);
    // Each threshold invoice is announced as every finalised invoice is.
    await waitFor(async () => eventsOf(customer, 'invoice.finalized').length === 2, { what: 'both invoice.finalized webhooks' });
    expect(eventsOf(customer, 'invoice.finalized').map((event) => [event.properties.invoice_type, event.properties.contract_id, event.properties.total])).toEqual([
      ['SCHEDULED', contract, 1200],
      ['SCHEDULED', contract, 1100],
    ]);

    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.spend_threshold_configuration).toEqual({
      commit: { product_id: chargeProduct, name: 'Usage so far' },
      is_enabled: true,
      payment_gate_config: { payment_gate_type: 'NONE' },
      threshold_amount: 1000,
    });
  });

  it('pays the threshold invoice in Stripe before the commit pays the spend (gate STRIPE)', async () => {
    const { customer } = await spender({ stripeCustomer: 'cus_spender', configuration: spendThreshold('STRIPE') });
    await spend(customer, 1200);
    await waitFor(async () => (await draftTotal(customer)) === 0, { what: 'the spend paid' });
    const stripeInvoices = [...sandbox.invoices.values()].filter((each) => each.customer === 'cus_spender');
    expect(stripeInvoices.map((each) => [each.status, each.total, each.amount_paid])).toEqual([['paid', 1200, 1200]]);
    expect(await scheduled(customer)).toEqual([{ status: 'FINALIZED', total: 1200, lines: [['scheduled', 'Usage so far', 1200]] }]);
    await waitFor(async () => eventsOf(customer, 'payment_gate.payment_status').length === 1, { what: 'the payment status webhook' });
    expect(eventsOf(customer, 'payment_gate.payment_status')[0]!.properties).toMatchObject({ payment_status: 'paid', threshold_type: 'spend', stripe_invoice_id: stripeInvoices[0]!.id });
  });

  it('leaves the spend unpaid when Stripe declines: a void invoice, the reason in the webhook, the configuration off', async () => {
    const { customer, contract } = await spender({ stripeCustomer: 'cus_declined_spender', configuration: spendThreshold('STRIPE') });
    await spend(customer, 1200);
    await waitFor(async () => eventsOf(customer, 'payment_gate.payment_status').length === 1, { what: 'the payment status webhook' });
    expect(eventsOf(customer, 'payment_gate.payment_status')[0]!.properties).toMatchObject({
      payment_status: 'failed',
      error_message: 'Your card has insufficient funds.',
      error_code: 'card_declined',
    });
    expect(await draftTotal(customer)).toBe(1200);
    expect(await scheduled(customer)).toEqual([{ status: 'VOID', total: 1200, lines: [['scheduled', 'Usage so far', 1200]] }]);
    // A voided invoice was never finalised: no invoice.finalized (the payment status webhook, written in the same transaction, has arrived).
    expect(eventsOf(customer, 'invoice.finalized')).toEqual([]);
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.spend_threshold_configuration?.is_enabled).toBe(false);
  });

  it('adds and updates a configuration with v2 edits, and refuses a bad value of each field naming it', async () => {
    const { customer, contract } = await spender();
    await spend(customer, 700);
    await client.v2.contracts.edit({ customer_id: customer, contract_id: contract, add_spend_threshold_configuration: { ...spendThreshold('NONE'), threshold_amount: 500 } });
    await waitFor(async () => (await scheduled(customer)).length === 1, { what: 'the invoice after the edit' });
    expect((await scheduled(customer))[0]!.total).toBe(700);
    await client.v2.contracts.edit({ customer_id: customer, contract_id: contract, update_spend_threshold_configuration: { threshold_amount: 2000, commit: { name: 'Spend to date' } } });
    expect((await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.spend_threshold_configuration).toMatchObject({
      threshold_amount: 2000,
      commit: { product_id: chargeProduct, name: 'Spend to date' },
    });

    const field = 'spend_threshold_configuration';
    const create = (configuration: object) =>
      client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard, spend_threshold_configuration: configuration as never });
    const cases: [object, string][] = [
      [{ ...spendThreshold('NONE'), threshold_amount: 0 }, `${field}.threshold_amount`],
      [{ ...spendThreshold('NONE'), is_enabled: undefined }, `${field}.is_enabled`],
      [{ ...spendThreshold('NONE'), commit: { product_id: rateCard } }, `${field}.commit.product_id`],
      [{ ...spendThreshold('NONE'), commit: { product_id: chargeProduct, applicable_product_ids: [] } }, `${field}.commit.applicable_product_ids`],
      [{ ...spendThreshold('NONE'), payment_gate_config: { payment_gate_type: 'EXTERNAL' } }, `${field}.payment_gate_config.payment_gate_type`],
      [spendThreshold('STRIPE'), `${field}.payment_gate_config.payment_gate_type`],
      [{ ...spendThreshold('NONE'), discount_configuration: { payment_fraction: 0.5 } }, `${field}.discount_configuration`],
    ];
    for (const [configuration, named] of cases) await expect400(create(configuration), named);
    await expect400(client.v2.contracts.edit({ customer_id: customer, contract_id: contract, add_spend_threshold_configuration: spendThreshold('NONE') }), 'add_spend_threshold_configuration');
    const bare = await spender();
    await expect400(client.v2.contracts.edit({ customer_id: bare.customer, contract_id: bare.contract, update_spend_threshold_configuration: { threshold_amount: 5 } }), 'update_spend_threshold_configuration');
  });

  if (engine === 'postgres') it('issues one invoice when 20 concurrent ingests cross the spend threshold together, and bills every cent once', async () => {
    const { customer } = await spender({ configuration: spendThreshold('NONE') });
    // 20 × 60 = 1,200: the threshold of 1,000 is reached by the 17th, however the ingests interleave.
    await Promise.all(Array.from({ length: 20 }, () => spend(customer, 60)));
    await waitFor(async () => (await scheduled(customer)).length === 1, { what: 'the threshold invoice' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [invoice, ...others] = await scheduled(customer);
    expect(others).toEqual([]);
    expect(invoice!.total).toBeGreaterThanOrEqual(1000);
    expect(invoice!.total + (await draftTotal(customer))).toBe(1200);
  });

  it('closes April at 2,300 of usage, all of it paid by the two threshold commits: nothing more to bill', async () => {
    const customer = first;
    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);
    const april = (await invoicesOf(customer)).find((invoice) => invoice.type === 'USAGE' && invoice.status === 'FINALIZED')!;
    expect(april.line_items.map((line) => [line.type, line.total])).toEqual([
      ['usage', 2300],
      ['applied_commit_or_credit', -1200],
      ['applied_commit_or_credit', -1100],
    ]);
    expect(april.total).toBe(0);
  });
});
