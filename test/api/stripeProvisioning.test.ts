import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { App } from '../../src/http/types.js';
import { signalInvoicesFinalized } from '../../src/modules/stripe/service.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startStripeSandbox, type StripeSandbox } from '../../src/stripeSandbox/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * What Metronome + Stripe onboarding code sends on its first calls, through the SDK:
 * `customer_billing_provider_configurations` on `customers.create`, `billing_provider_configuration`
 * on `contracts.create`, `delivery_method_id`, and `updateConfig`'s `leave_stripe_invoices_in_draft`.
 * Finalised invoices are written straight into the invoices table, as period close writes them,
 * and pushed to the local Stripe sandbox (src/stripeSandbox).
 */

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const ALLOT_DELIVERY_METHOD_ID = '7d1ed6c6-2f0b-4f4a-9c55-1e0d6f6f7a01';

function registerFinalizedSignal(app: App): void {
  app.post('/test/invoices-finalized', { schema: { body: z.object({}).optional() } }, async (request) => {
    signalInvoicesFinalized(request.context, request.auth.tenantId);
    return { ok: true };
  });
}

describe.each(ENGINES)('Stripe provisioning payloads on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let sandbox: StripeSandbox;
  let invoices = 0;

  beforeAll(async () => {
    sandbox = await startStripeSandbox({ customers: ['cus_onboarded', 'cus_replacement', 'cus_drafts', 'cus_refused'] });
    server = await startTestServer({
      engine,
      clockStart: '2024-04-16T00:00:00Z',
      register: registerFinalizedSignal,
      stripe: { secretKey: sandbox.secretKey, apiBase: sandbox.apiBase, pollIntervalMs: 60_000, retryBaseMs: 20, retryMaxMs: 50, maxAttempts: 5 },
    });
    client = server.client();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await sandbox?.close();
  });

  const nudge = () => client.post('/test/invoices-finalized', { body: {} });
  const syncOf = (invoiceId: string) =>
    client.get<{ data: { status: string; stripe_invoice_id: string | null; billing_provider_configuration_id: string } }>(`/v1/allot/stripe/invoices/${invoiceId}`).then((response) => response.data);

  async function insertInvoice(customer: string, contract: string, totalCents: number): Promise<string> {
    const id = `0190f1a0-0000-7000-8000-${String(++invoices).padStart(12, '0')}`;
    const [key] = await server.database.db.query<{ tenant_id: string }>('SELECT tenant_id FROM api_keys LIMIT 1');
    const lines = [{ type: 'usage', name: 'Usage', credit_type_id: USD, total: String(totalCents), quantity: null, unit_price: null, product_id: null, pricing_group_values: null, applied: null, subscription_id: null, starting_at: '2024-03-01T00:00:00.000Z', ending_before: '2024-04-01T00:00:00.000Z' }];
    await server.database.db.query(
      `INSERT INTO invoices (tenant_id, id, customer_id, contract_id, type, status, start_timestamp, end_timestamp, issued_at, credit_type_id, total, lines, finalized_at)
       VALUES ($1, $2, $3, $4, 'USAGE', 'FINALIZED', $5, $6, $6, $7, $8, $9::jsonb, $10)`,
      [key!.tenant_id, id, customer, contract, new Date(Date.UTC(2023, invoices, 1)), new Date(Date.UTC(2023, invoices + 1, 1)), USD, String(totalCents), JSON.stringify(lines), server.clock.now()],
    );
    return id;
  }

  async function settled(invoiceId: string) {
    let found: Awaited<ReturnType<typeof syncOf>> | undefined;
    await waitFor(
      async () => {
        found = await syncOf(invoiceId).catch(() => undefined);
        return found !== undefined && found.status !== 'pending';
      },
      { what: `the push of invoice ${invoiceId}` },
    );
    return found!;
  }

  const stripeConfiguration = (stripeCustomerId: string) => ({ stripe_customer_id: stripeCustomerId, stripe_collection_method: 'charge_automatically' });

  it('sets the Stripe configuration on customers.create, selects it on contracts.create, and pushes the contract’s invoice through it', async () => {
    const customer = (
      await client.v1.customers.create({
        name: 'Onboarded',
        customer_billing_provider_configurations: [{ billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider', configuration: stripeConfiguration('cus_onboarded') }],
      })
    ).data.id;
    const [configuration] = (await client.v1.customers.retrieveBillingConfigurations({ customer_id: customer })).data;
    expect(configuration).toMatchObject({ customer_id: customer, billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider', configuration: stripeConfiguration('cus_onboarded') });

    const pinned = (
      await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', billing_provider_configuration: { billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider' } })
    ).data.id;
    const first = await insertInvoice(customer, pinned, 1000);
    await nudge();
    const pushed = await settled(first);
    expect(pushed).toMatchObject({ status: 'synced', billing_provider_configuration_id: configuration!.id });
    expect(sandbox.invoices.get(pushed.stripe_invoice_id!)).toMatchObject({ customer: 'cus_onboarded', status: 'open', total: 1000 });

    // The pinned contract follows its configuration: once archived, the contract's invoices stay in Allot, while
    // a contract that named none goes through the customer's new live configuration.
    await client.v1.customers.archiveBillingConfigurations({ customer_id: customer, customer_billing_provider_configuration_ids: [configuration!.id!] });
    const [replacement] = (
      await client.v1.customers.setBillingConfigurations({ data: [{ customer_id: customer, billing_provider: 'stripe', delivery_method_id: ALLOT_DELIVERY_METHOD_ID, configuration: stripeConfiguration('cus_replacement') }] })
    ).data;
    const unpinned = (await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z' })).data.id;
    const ofPinned = await insertInvoice(customer, pinned, 700);
    const ofUnpinned = await insertInvoice(customer, unpinned, 300);
    await nudge();
    const through = await settled(ofUnpinned);
    expect(through).toMatchObject({ status: 'synced', billing_provider_configuration_id: replacement!.id });
    expect(sandbox.invoices.get(through.stripe_invoice_id!)).toMatchObject({ customer: 'cus_replacement', total: 300 });
    expect(await syncOf(ofPinned).catch((error: { status: number }) => error.status)).toBe(404);
    // Named by id, the replacement is selected too.
    await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', billing_provider_configuration: { billing_provider_configuration_id: replacement!.id! } });
  });

  it('leaves the invoices of a customer with leave_stripe_invoices_in_draft in draft in Stripe, checked but not finalised', async () => {
    const customer = (
      await client.v1.customers.create({
        name: 'Drafts',
        customer_billing_provider_configurations: [{ billing_provider: 'stripe', delivery_method_id: ALLOT_DELIVERY_METHOD_ID, configuration: stripeConfiguration('cus_drafts') }],
      })
    ).data.id;
    const contract = (await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z' })).data.id;
    expect((await client.v1.customers.retrieve({ customer_id: customer })).data.customer_config).toEqual({ salesforce_account_id: null, leave_stripe_invoices_in_draft: null });
    await client.v1.customers.updateConfig({ customer_id: customer, leave_stripe_invoices_in_draft: true });
    expect((await client.v1.customers.retrieve({ customer_id: customer })).data.customer_config).toEqual({ salesforce_account_id: null, leave_stripe_invoices_in_draft: true });

    const drafted = await insertInvoice(customer, contract, 2500);
    await nudge();
    const pushed = await settled(drafted);
    expect(pushed.status).toBe('synced');
    expect(sandbox.invoices.get(pushed.stripe_invoice_id!)).toMatchObject({ customer: 'cus_drafts', status: 'draft', total: 2500 });
    expect(sandbox.requests.some((request) => request.idempotencyKey === `allot-invoice-${drafted}-finalize`)).toBe(false);

    // Back to false: the next invoice is finalised.
    await client.v1.customers.updateConfig({ customer_id: customer, leave_stripe_invoices_in_draft: false });
    const finalized = await insertInvoice(customer, contract, 400);
    await nudge();
    expect(sandbox.invoices.get((await settled(finalized)).stripe_invoice_id!)).toMatchObject({ status: 'open', total: 400 });
  });

  it('refuses each provisioning field it cannot honour with a 400 naming it, and creates nothing', async () => {
    const stripe = { billing_provider: 'stripe' as const, configuration: stripeConfiguration('cus_refused') };
    const create = (configuration: Record<string, unknown>) =>
      client.v1.customers.create({ name: 'Refused', ingest_aliases: ['refused'], customer_billing_provider_configurations: [configuration as never] });
    await expect400(create({ ...stripe, delivery_method_id: '5b9e3072-415b-4842-94f0-0b6700c8b6be' }), 'customer_billing_provider_configurations.0.delivery_method_id');
    await expect400(create({ ...stripe, billing_provider: 'netsuite', delivery_method: 'direct_to_billing_provider' }), 'customer_billing_provider_configurations.0.billing_provider');
    await expect400(create(stripe), 'customer_billing_provider_configurations.0.delivery_method');
    await expect400(create({ ...stripe, delivery_method: 'direct_to_billing_provider', tax_provider: 'stripe' }), 'customer_billing_provider_configurations.0.tax_provider');
    expect((await client.v1.customers.list({ ingest_alias: 'refused' })).data).toEqual([]);

    const bare = (await client.v1.customers.create({ name: 'No configuration' })).data.id;
    const contract = (selection: Record<string, unknown>) => client.v1.contracts.create({ customer_id: bare, starting_at: '2024-04-01T00:00:00Z', billing_provider_configuration: selection });
    await expect400(contract({ billing_provider: 'stripe', delivery_method: 'direct_to_billing_provider' }), 'billing_provider_configuration');
    await expect400(contract({ billing_provider_configuration_id: '0190f1a0-0000-7000-8000-00000000dead' }), 'billing_provider_configuration.billing_provider_configuration_id');
    await expect400(contract({ billing_provider: 'aws_marketplace', delivery_method: 'direct_to_billing_provider' }), 'billing_provider_configuration.billing_provider');
    await expect400(contract({ billing_provider: 'stripe', delivery_method: 'aws_sqs' }), 'billing_provider_configuration.delivery_method');
    await expect400(contract({ billing_provider: 'stripe' }), 'billing_provider_configuration.delivery_method');
    expect((await client.v1.contracts.list({ customer_id: bare })).data).toEqual([]);

    await expect400(client.v1.customers.updateConfig({ customer_id: bare, leave_stripe_invoices_in_draft: 'yes' as never }), 'leave_stripe_invoices_in_draft');
    await expect400(client.v1.customers.updateConfig({ customer_id: bare, salesforce_account_id: '0015500001WO1ZiABL' }), 'salesforce_account_id');
    expect((await client.v1.customers.retrieve({ customer_id: bare })).data.customer_config).toEqual({ salesforce_account_id: null, leave_stripe_invoices_in_draft: null });
  });
});
