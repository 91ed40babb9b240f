import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startStripeSandbox, type StripeSandbox } from '../../src/stripeSandbox/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * End to end: period close finalises April's invoice, and the push worker finds it on its own
 * (nobody signals it) and bills it in Stripe.
 */
describe.each(ENGINES)('Stripe push after period close on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let sandbox: StripeSandbox;

  beforeAll(async () => {
    sandbox = await startStripeSandbox({ customers: ['cus_period_close'] });
    server = await startTestServer({
      engine,
      clockStart: '2024-04-01T00:00:00Z',
      stripe: { secretKey: sandbox.secretKey, apiBase: sandbox.apiBase, pollIntervalMs: 100 },
    });
    client = server.client();
  });
  afterAll(async () => {
    await server.stop();
    await sandbox.close();
  });

  it('pushes the invoice period close finalised: 5 seats at $10 billed in Stripe', async () => {
    const catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 100 });
    const team = await createSeatContract(client, { catalog, seats: 5 });
    await client.v1.customers.setBillingConfigurations({
      data: [
        {
          customer_id: team.customer,
          billing_provider: 'stripe',
          delivery_method: 'direct_to_billing_provider',
          configuration: { stripe_customer_id: 'cus_period_close', stripe_collection_method: 'send_invoice' },
        },
      ],
    });
    expect((await server.advanceClock('2024-05-01T00:00:00Z')).status).toBe(200);

    let finalized: Metronome.V1.Customers.Invoice | undefined;
    await waitFor(
      async () => {
        finalized = (await client.v1.customers.invoices.list({ customer_id: team.customer })).data.find((invoice) => invoice.status === 'FINALIZED');
        return finalized !== undefined;
      },
      { what: 'the finalised April invoice' },
    );
    expect(finalized!.total).toBeGreaterThan(0);

    let stripeInvoiceId: string | null = null;
    await waitFor(
      async () => {
        const sync = await client.get<{ data: { status: string; stripe_invoice_id: string | null } }>(`/v1/allot/stripe/invoices/${finalized!.id}`).catch(() => undefined);
        stripeInvoiceId = sync?.data.status === 'synced' ? sync.data.stripe_invoice_id : null;
        return stripeInvoiceId !== null;
      },
      { what: 'the push of the April invoice' },
    );
    const stripeInvoice = sandbox.invoices.get(stripeInvoiceId!)!;
    expect(stripeInvoice).toMatchObject({ customer: 'cus_period_close', collection_method: 'send_invoice', status: 'open', total: finalized!.total });
    const fiatLines = finalized!.line_items.filter((line) => line.credit_type.id === '2714e483-4ff1-48e4-9e25-ac732e8f24f2' && line.total !== 0);
    expect(stripeInvoice.lines.data.map((line) => [line.description, line.amount])).toEqual(fiatLines.map((line) => [line.name, line.total]));
  });
});
