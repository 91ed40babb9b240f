import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { App } from '../../src/http/types.js';
import { signalInvoicesFinalized } from '../../src/modules/stripe/service.js';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startStripeSandbox, type StripeSandbox } from '../../src/stripeSandbox/server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Billing provider configurations, and finalised invoices pushed to Stripe (the local Stripe sandbox,
 * src/stripeSandbox). Invoices are written straight into the invoices table, in the shape period close writes.
 */

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';

interface InvoiceSync {
  invoice_id: string;
  customer_id: string;
  billing_provider_configuration_id: string;
  status: 'pending' | 'synced' | 'skipped' | 'failed' | 'voided';
  attempts: number;
  next_attempt_at: string | null;
  stripe_invoice_id: string | null;
  skip_reason: string | null;
  last_error: string | null;
}

/** A route only these tests have: what period close calls once it has written finalised invoices. */
function registerFinalizedSignal(app: App): void {
  app.post('/test/invoices-finalized', { schema: { body: z.object({}).optional() } }, async (request) => {
    signalInvoicesFinalized(request.context, request.auth.tenantId);
    return { ok: true };
  });
}

function line(type: string, name: string, creditTypeId: string, total: string, extra: Record<string, unknown> = {}) {
  return {
    type,
    name,
    credit_type_id: creditTypeId,
    total,
    quantity: null,
    unit_price: null,
    product_id: null,
    pricing_group_values: null,
    applied: null,
    subscription_id: null,
    starting_at: '2024-03-01T00:00:00.000Z',
    ending_before: '2024-04-01T00:00:00.000Z',
    ...extra,
  };
}

describe.each(ENGINES)('Stripe invoice push on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let sandbox: StripeSandbox;
  let receiver: Receiver;
  let catalog: SeatCatalog;
  let invoices = 0;

  beforeAll(async () => {
    sandbox = await startStripeSandbox({ customers: ['cus_config', 'cus_other', 'cus_team', 'cus_voided', 'cus_zero', 'cus_flaky', 'cus_net45'] });
    receiver = await startReceiver();
    // A poll far longer than any test: pushes happen because the signal or a due retry woke the worker.
    server = await startTestServer({
      engine,
      clockStart: '2024-04-16T00:00:00Z',
      register: registerFinalizedSignal,
      stripe: { secretKey: sandbox.secretKey, apiBase: sandbox.apiBase, pollIntervalMs: 60_000, retryBaseMs: 20, retryMaxMs: 50, maxAttempts: 5 },
      webhooks: { retryBaseMs: 10, retryMaxMs: 40 },
    });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 0, aiCreditsInCents: 100 });
  });
  afterAll(async () => {
    await server.stop();
    await sandbox.close();
    await receiver.close();
  });

  const nudge = () => client.post('/test/invoices-finalized', { body: {} });

  async function tenantId(): Promise<string> {
    const [row] = await server.database.db.query<{ tenant_id: string }>('SELECT tenant_id FROM api_keys LIMIT 1');
    return row!.tenant_id;
  }

  /** A finalised invoice for `contract`, written as period close writes one (each with its own period). */
  async function insertInvoice(of: { customer: string; contract: string }, lines: ReturnType<typeof line>[], total: string): Promise<string> {
    const id = `0190f1a0-0000-7000-8000-${String(++invoices).padStart(12, '0')}`;
    const start = new Date(Date.UTC(2023, invoices, 1));
    await server.database.db.query(
      `INSERT INTO invoices (tenant_id, id, customer_id, contract_id, type, status, start_timestamp, end_timestamp, issued_at, credit_type_id, total, lines, finalized_at)
       VALUES ($1, $2, $3, $4, 'USAGE', 'FINALIZED', $5, $6, $6, $7, $8, $9::jsonb, $10)`,
      [await tenantId(), id, of.customer, of.contract, start, new Date(Date.UTC(2023, invoices + 1, 1)), USD, total, JSON.stringify(lines), server.clock.now()],
    );
    return id;
  }

  const syncOf = (invoiceId: string) => client.get<{ data: InvoiceSync }>(`/v1/allot/stripe/invoices/${invoiceId}`).then((response) => response.data);

  async function settled(invoiceId: string): Promise<InvoiceSync> {
    let found: InvoiceSync | undefined;
    await waitFor(
      async () => {
        found = await syncOf(invoiceId).catch(() => undefined);
        return found !== undefined && found.status !== 'pending';
      },
      { what: `the push of invoice ${invoiceId}` },
    );
    return found!;
  }

  const stripeRequestsFor = (invoiceId: string) =>
    sandbox.requests.filter((request) => request.idempotencyKey?.startsWith(`allot-invoice-${invoiceId}`));

  async function configuredCustomer(configuration: Record<string, unknown>): Promise<{ customer: string; contract: string; configuration: string }> {
    const team = await createSeatContract(client, { catalog, seats: 1 });
    const [created] = (
      await client.v1.customers.setBillingConfigurations({
        data: [{ customer_id: team.customer, billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider', configuration }],
      })
    ).data;
    return { ...team, configuration: created!.id! };
  }

  it('sets, retrieves and archives billing provider configurations; refuses what Allot does not support with a 400 naming the field', async () => {
    const team = await createSeatContract(client, { catalog, seats: 1 });
    const set = await client.v1.customers.setBillingConfigurations({
      data: [
        {
          customer_id: team.customer,
          billing_provider: 'stripe',
          delivery_method: 'direct_to_billing_provider',
          configuration: { stripe_customer_id: 'cus_config', stripe_collection_method: 'send_invoice' },
        },
      ],
    });
    expect(set.data).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        customer_id: team.customer,
        billing_provider: 'stripe',
        delivery_method_id: expect.any(String),
        configuration: { stripe_customer_id: 'cus_config', stripe_collection_method: 'send_invoice' },
      },
    ]);
    const id = set.data[0]!.id!;
    const retrieved = await client.v1.customers.retrieveBillingConfigurations({ customer_id: team.customer });
    expect(retrieved.data).toEqual([
      {
        id,
        customer_id: team.customer,
        billing_provider: 'stripe',
        delivery_method: 'direct_to_billing_provider',
        delivery_method_id: set.data[0]!.delivery_method_id,
        delivery_method_configuration: {},
        configuration: { stripe_customer_id: 'cus_config', stripe_collection_method: 'send_invoice' },
        archived_at: null,
      },
    ]);

    const entry = {
      customer_id: team.customer,
      billing_provider: 'stripe' as const,
      delivery_method: 'direct_to_billing_provider' as const,
      configuration: { stripe_customer_id: 'cus_other', stripe_collection_method: 'charge_automatically' },
    };
    const setOne = (changes: Record<string, unknown>) => client.v1.customers.setBillingConfigurations({ data: [{ ...entry, ...changes } as typeof entry] });
    await expect400(setOne({ billing_provider: 'netsuite' }), 'data.0.billing_provider');
    await expect400(setOne({ delivery_method: 'aws_sqs' }), 'data.0.delivery_method');
    await expect400(setOne({ customer_id: '0190f1a0-0000-7000-8000-000000000000' }), 'data.0.customer_id');
    await expect400(setOne({ configuration: { stripe_customer_id: 'cus_x', stripe_collection_method: 'auto_charge_payment_intent' } }), 'data.0.configuration.stripe_collection_method');
    await expect400(setOne({ configuration: { stripe_collection_method: 'send_invoice' } }), 'data.0.configuration.stripe_customer_id');
    await expect400(setOne({ tax_provider: 'stripe' }), 'data.0.tax_provider');
    await expect400(client.v1.customers.retrieveBillingConfigurations({ customer_id: '0190f1a0-0000-7000-8000-000000000000' }), 'customer_id');
    // One live Stripe configuration per customer.
    await expect(setOne({})).rejects.toMatchObject({ status: 409 });

    await expect400(
      client.v1.customers.archiveBillingConfigurations({ customer_id: team.customer, customer_billing_provider_configuration_ids: ['0190f1a0-0000-7000-8000-000000000000'] }),
      'customer_billing_provider_configuration_ids.0',
    );
    const archived = await client.v1.customers.archiveBillingConfigurations({ customer_id: team.customer, customer_billing_provider_configuration_ids: [id] });
    expect(archived.data).toEqual({ customer_id: team.customer, customer_billing_provider_configuration_ids: [id] });
    expect((await client.v1.customers.retrieveBillingConfigurations({ customer_id: team.customer })).data).toEqual([]);
    expect((await client.v1.customers.retrieveBillingConfigurations({ customer_id: team.customer, include_archived: true })).data).toEqual([
      expect.objectContaining({ id, archived_at: '2024-04-16T00:00:00.000Z' }),
    ]);
    // Archived, it no longer blocks a new one.
    await expect(setOne({})).resolves.toMatchObject({ data: [expect.objectContaining({ customer_id: team.customer })] });
  });

  it('pushes a finalised invoice once: fiat lines as invoice items, custom units left out, finalised at 600', async () => {
    const team = await configuredCustomer({ stripe_customer_id: 'cus_team', stripe_collection_method: 'charge_automatically' });
    const invoiceId = await insertInvoice(
      team,
      [
        line('usage', 'API calls', USD, '1000', { quantity: '1000', unit_price: '1' }),
        line('applied_commit_or_credit', 'Promotional credit', USD, '-400', { applied: { grant_id: 'g', segment_id: 's', kind: 'CREDIT' } }),
        line('usage', 'Tokens', catalog.aiCredits, '50', { quantity: '50' }),
      ],
      '600',
    );
    await nudge();
    const sync = await settled(invoiceId);
    expect(sync).toMatchObject({
      invoice_id: invoiceId,
      customer_id: team.customer,
      billing_provider_configuration_id: team.configuration,
      status: 'synced',
      attempts: 1,
      next_attempt_at: null,
      stripe_invoice_id: expect.stringMatching(/^in_/),
      last_error: null,
    });

    const stripeInvoice = sandbox.invoices.get(sync.stripe_invoice_id!)!;
    expect(stripeInvoice).toMatchObject({
      object: 'invoice',
      customer: 'cus_team',
      collection_method: 'charge_automatically',
      days_until_due: null,
      currency: 'usd',
      status: 'open',
      total: 600,
      amount_due: 600,
      metadata: { allot_invoice_id: invoiceId, allot_customer_id: team.customer, allot_contract_id: team.contract },
    });
    const items = [...sandbox.invoiceItems.values()].filter((item) => item.invoice === stripeInvoice.id);
    expect(items.map((item) => [item.amount, item.currency, item.description, item.metadata.allot_line_index])).toEqual([
      [1000, 'usd', 'API calls', '0'],
      [-400, 'usd', 'Promotional credit', '1'],
    ]);
    expect(items[0]!.period).toEqual({ start: Date.parse('2024-03-01T00:00:00Z') / 1000, end: Date.parse('2024-04-01T00:00:00Z') / 1000 });
    // Every call carried a key derived from the invoice id (and the line index).
    expect(stripeRequestsFor(invoiceId).map((request) => `${request.method} ${request.path.replace(stripeInvoice.id, '{id}')} ${request.idempotencyKey}`)).toEqual([
      `POST /v1/invoices allot-invoice-${invoiceId}`,
      `POST /v1/invoiceitems allot-invoice-${invoiceId}-line-0`,
      `POST /v1/invoiceitems allot-invoice-${invoiceId}-line-1`,
      `POST /v1/invoices/{id}/finalize allot-invoice-${invoiceId}-finalize`,
    ]);
    const created = sandbox.requests.find((request) => request.idempotencyKey === `allot-invoice-${invoiceId}`)!;
    expect(created.form).toMatchObject({ customer: 'cus_team', collection_method: 'charge_automatically', auto_advance: 'false', pending_invoice_items_behavior: 'exclude' });

    // A worker that died after Stripe answered but before it recorded the outcome: the next run
    // repeats every call under the same keys, and Stripe creates nothing new.
    const objects = sandbox.invoices.size + sandbox.invoiceItems.size;
    await server.database.db.query(
      `UPDATE stripe_invoice_syncs SET status = 'pending', attempts = 0, stripe_invoice_id = NULL, next_attempt_at = now() WHERE invoice_id = $1`,
      [invoiceId],
    );
    await nudge();
    expect(await settled(invoiceId)).toMatchObject({ status: 'synced', stripe_invoice_id: stripeInvoice.id });
    expect(sandbox.invoices.size + sandbox.invoiceItems.size).toBe(objects);
    const repeated = stripeRequestsFor(invoiceId).slice(4).filter((request) => request.method === 'POST');
    expect(repeated.length).toBeGreaterThan(0);
    expect(repeated.every((request) => request.replayed)).toBe(true);

    // A restarted server (a new worker) finds nothing left to push for it (PGlite here is in memory: a restart would start empty).
    if (engine === 'postgres') {
      const before = stripeRequestsFor(invoiceId).length;
      await server.restart();
      client = server.client();
      await nudge();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await syncOf(invoiceId)).status).toBe('synced');
      expect(stripeRequestsFor(invoiceId).length).toBe(before);
    }
  });

  it('voids the Stripe invoice of an invoice voided in Allot after it was sent', async () => {
    const team = await configuredCustomer({ stripe_customer_id: 'cus_voided', stripe_collection_method: 'send_invoice' });
    const invoiceId = await insertInvoice(team, [line('usage', 'API calls', USD, '700', { quantity: '700', unit_price: '1' })], '700');
    await nudge();
    const sent = await settled(invoiceId);
    expect(sandbox.invoices.get(sent.stripe_invoice_id!)!.status).toBe('open');

    await client.v1.invoices.void({ id: invoiceId });
    let voided: InvoiceSync | undefined;
    await waitFor(async () => (voided = await syncOf(invoiceId)).status === 'voided', { what: 'the Stripe invoice voided' });
    expect(voided).toMatchObject({ status: 'voided', stripe_invoice_id: sent.stripe_invoice_id, last_error: null });
    expect(sandbox.invoices.get(sent.stripe_invoice_id!)).toMatchObject({ status: 'void', amount_due: 0 });
    expect(stripeRequestsFor(invoiceId).filter((request) => request.path.endsWith('/void')).map((request) => request.idempotencyKey)).toEqual([`allot-invoice-${invoiceId}-void`]);
  });

  it('skips an invoice that totals 0, and sends Stripe nothing for it', async () => {
    const team = await configuredCustomer({ stripe_customer_id: 'cus_zero', stripe_collection_method: 'charge_automatically' });
    const invoiceId = await insertInvoice(
      team,
      [line('usage', 'API calls', USD, '500'), line('applied_commit_or_credit', 'Prepaid commit', USD, '-500'), line('usage', 'Tokens', catalog.aiCredits, '20')],
      '0',
    );
    await nudge();
    expect(await settled(invoiceId)).toMatchObject({ status: 'skipped', skip_reason: 'the invoice totals 0', stripe_invoice_id: null });
    expect(stripeRequestsFor(invoiceId)).toEqual([]);
  });

  it('retries a failed push with backoff, announcing each failure with invoice.billing_provider_error, and never duplicates', async () => {
    await client.post('/v1/allot/webhooks', { body: { url: `${receiver.url}/stripe-errors`, event_types: ['invoice.billing_provider_error'] } });
    const team = await configuredCustomer({ stripe_customer_id: 'cus_flaky', stripe_collection_method: 'send_invoice' });
    sandbox.failNext(2);
    const invoiceId = await insertInvoice(team, [line('usage', 'API calls', USD, '1250')], '1250');
    await nudge();
    const sync = await settled(invoiceId);
    expect(sync).toMatchObject({ status: 'synced', attempts: 3, last_error: null });

    const stripeInvoice = sandbox.invoices.get(sync.stripe_invoice_id!)!;
    expect(stripeInvoice).toMatchObject({ customer: 'cus_flaky', collection_method: 'send_invoice', days_until_due: 30, status: 'open', total: 1250 });
    expect([...sandbox.invoices.values()].filter((invoice) => invoice.metadata.allot_invoice_id === invoiceId)).toHaveLength(1);
    expect([...sandbox.invoiceItems.values()].filter((item) => item.metadata.allot_invoice_id === invoiceId)).toHaveLength(1);

    const received = await receiver.waitForRequests(2);
    const bodies = received.filter((request) => request.path === '/hooks/stripe-errors').map((request) => JSON.parse(request.body) as Record<string, unknown>);
    expect(bodies).toHaveLength(2);
    for (const [index, body] of bodies.sort((a, b) => (a as { properties: { attempt: number } }).properties.attempt - (b as { properties: { attempt: number } }).properties.attempt).entries()) {
      expect(body).toEqual({
        id: expect.any(String),
        type: 'invoice.billing_provider_error',
        properties: {
          invoice_id: invoiceId,
          customer_id: team.customer,
          billing_provider: 'STRIPE',
          billing_provider_error: expect.stringContaining('the Stripe sandbox was told to fail'),
          attempt: index + 1,
          next_attempt_at: expect.any(String),
        },
      });
    }
  });

  it("makes a send_invoice Stripe invoice due the contract's net_payment_terms_days, before the configuration's days_until_due", async () => {
    const customer = (await client.v1.customers.create({ name: 'Net 45' })).data.id;
    const contract = (await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', net_payment_terms_days: 45 })).data.id;
    const other = (await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z' })).data.id;
    await client.v1.customers.setBillingConfigurations({
      data: [
        {
          customer_id: customer,
          billing_provider: 'stripe',
          delivery_method: 'direct_to_billing_provider',
          configuration: { stripe_customer_id: 'cus_net45', stripe_collection_method: 'send_invoice', days_until_due: 10 },
        },
      ],
    });
    const withTerms = await insertInvoice({ customer, contract }, [line('usage', 'API calls', USD, '900')], '900');
    const withoutTerms = await insertInvoice({ customer, contract: other }, [line('usage', 'API calls', USD, '300')], '300');
    await nudge();
    const dueIn = async (invoiceId: string) => {
      const sync = await settled(invoiceId);
      expect(sync.status).toBe('synced');
      const created = sandbox.requests.find((request) => request.idempotencyKey === `allot-invoice-${invoiceId}`)!;
      expect(created.form).toMatchObject({ collection_method: 'send_invoice' });
      return sandbox.invoices.get(sync.stripe_invoice_id!)!.days_until_due;
    };
    expect(await dueIn(withTerms)).toBe(45);
    expect(await dueIn(withoutTerms)).toBe(10);
  });

  it('does not push invoices of customers without a Stripe configuration', async () => {
    const team = await createSeatContract(client, { catalog, seats: 1 });
    const invoiceId = await insertInvoice(team, [line('usage', 'API calls', USD, '700')], '700');
    await nudge();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(syncOf(invoiceId)).rejects.toMatchObject({ status: 404 });
    expect(stripeRequestsFor(invoiceId)).toEqual([]);
  });
});
