import { z } from 'zod';
import { Invalid } from '../../lib/errors.js';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import { verifiedStripeEvent } from './client.js';
import * as schemas from './schemas.js';
import { SEAT_EVENT_TYPES } from './seatEvents.js';
import * as service from './service.js';
import type { StripeSettings } from './settings.js';

function toBillingConfiguration(row: service.BillingConfiguration): z.infer<typeof schemas.billingConfiguration> {
  return {
    id: row.id,
    customer_id: row.customer_id,
    billing_provider: row.billing_provider,
    delivery_method: row.delivery_method,
    delivery_method_id: schemas.STRIPE_DIRECT_DELIVERY_METHOD_ID,
    delivery_method_configuration: {},
    configuration: row.configuration,
    archived_at: row.archived_at && toRfc3339(row.archived_at),
  };
}

function toLink(row: service.SubscriptionLink): z.infer<typeof schemas.link> {
  return {
    id: row.id,
    customer_id: row.customer_id,
    contract_id: row.contract_id,
    subscription_id: row.subscription_id,
    stripe_subscription_id: row.stripe_subscription_id,
    stripe_price_id: row.stripe_price_id,
    last_event_id: row.last_event_id,
    last_event_created: row.last_event_created && toRfc3339(row.last_event_created),
    created_at: toRfc3339(row.created_at),
  };
}

function toInvoiceSync(row: service.InvoiceSync): z.infer<typeof schemas.invoiceSync> {
  return {
    invoice_id: row.invoice_id,
    customer_id: row.customer_id,
    billing_provider_configuration_id: row.configuration_id,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' && row.next_attempt_at ? toRfc3339(row.next_attempt_at) : null,
    stripe_invoice_id: row.stripe_invoice_id,
    skip_reason: row.skip_reason,
    last_error: row.last_error,
    created_at: toRfc3339(row.created_at),
    updated_at: toRfc3339(row.updated_at),
  };
}

/**
 * Billing provider configurations at Metronome's paths, and Allot's Stripe extensions: the push
 * state of an invoice, subscription links, and the Stripe webhook.
 */
export function registerStripeRoutes(app: App, settings: Pick<StripeSettings, 'webhookSecret'>): void {
  const tags = ['customers'];

  app.post(
    '/v1/setCustomerBillingProviderConfigurations',
    { schema: { tags, body: schemas.setBillingConfigurationsBody, response: { 200: z.object({ data: z.array(schemas.createdBillingConfiguration) }) } } },
    async (request) => {
      const rows = await service.setBillingConfigurations(request.context, { tenantId: request.auth.tenantId, body: request.body });
      return {
        data: rows.map((row) => ({
          id: row.id,
          customer_id: row.customer_id,
          billing_provider: row.billing_provider,
          delivery_method_id: schemas.STRIPE_DIRECT_DELIVERY_METHOD_ID,
          configuration: row.configuration,
        })),
      };
    },
  );

  app.post(
    '/v1/getCustomerBillingProviderConfigurations',
    { schema: { tags, body: schemas.retrieveBillingConfigurationsBody, response: { 200: z.object({ data: z.array(schemas.billingConfiguration) }) } } },
    async (request) => {
      const rows = await service.listBillingConfigurations(request.context, {
        tenantId: request.auth.tenantId,
        customerId: request.body.customer_id,
        includeArchived: request.body.include_archived ?? false,
      });
      return { data: rows.map(toBillingConfiguration) };
    },
  );

  app.post(
    '/v1/archiveCustomerBillingProviderConfigurations',
    {
      schema: {
        tags,
        body: schemas.archiveBillingConfigurationsBody,
        response: { 200: z.object({ data: z.object({ customer_id: z.string(), customer_billing_provider_configuration_ids: z.array(z.string()) }) }) },
      },
    },
    async (request) => {
      const { customer_id: customerId, customer_billing_provider_configuration_ids: ids } = request.body;
      await service.archiveBillingConfigurations(request.context, { tenantId: request.auth.tenantId, customerId, ids });
      return { data: { customer_id: customerId, customer_billing_provider_configuration_ids: ids } };
    },
  );

  const allot = ['allot'];

  app.get(
    '/v1/allot/stripe/invoices/:invoice_id',
    {
      schema: {
        tags: allot,
        description: 'Where the push of a finalised invoice to Stripe stands: status, attempts, the Stripe invoice id, the last error.',
        params: schemas.invoiceSyncParams,
        response: { 200: z.object({ data: schemas.invoiceSync }) },
      },
    },
    async (request) => {
      const sync = await service.getInvoiceSync(request.context, { tenantId: request.auth.tenantId, invoiceId: request.params.invoice_id });
      return { data: toInvoiceSync(sync) };
    },
  );

  app.post(
    '/v1/allot/stripe/subscription-links',
    {
      schema: {
        tags: allot,
        description: "Lets a Stripe subscription's price own the quantity of an Allot contract subscription.",
        body: schemas.createLinkBody,
        response: { 200: z.object({ data: schemas.link }) },
      },
    },
    async (request) => {
      const created = await service.createSubscriptionLink(request.context, { tenantId: request.auth.tenantId, link: request.body });
      return { data: toLink(created) };
    },
  );

  app.get(
    '/v1/allot/stripe/subscription-links',
    { schema: { tags: allot, querystring: schemas.listLinksQuery, response: { 200: z.object({ data: z.array(schemas.link), next_page: z.string().nullable() }) } } },
    async (request) => {
      const page = await service.listSubscriptionLinks(request.context, {
        tenantId: request.auth.tenantId,
        limit: request.query.limit,
        nextPage: request.query.next_page,
        customerId: request.query.customer_id,
      });
      return { data: page.links.map(toLink), next_page: page.nextPage };
    },
  );

  // The signature covers the bytes Stripe sent, so this route alone keeps the body raw: its own
  // scope replaces the JSON parser with one that hands the handler the buffer.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post(
      '/v1/allot/stripe/webhook',
      {
        config: { public: true, idempotency: 'built-in' },
        schema: {
          tags: allot,
          description:
            'Receives Stripe webhooks, verified by Stripe-Signature with ALLOT_STRIPE_WEBHOOK_SECRET. customer.subscription.updated and .deleted set the quantity of linked subscriptions.',
        },
      },
      async (request, reply) => {
        if (!settings.webhookSecret) return reply.code(503).send({ message: 'Stripe webhooks are not configured on this server: set ALLOT_STRIPE_WEBHOOK_SECRET' });
        const header = request.headers['stripe-signature'];
        const signature = Array.isArray(header) ? header[0] : header;
        if (!signature) throw new Invalid('Stripe-Signature', 'is required: Stripe signs every webhook it sends');
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        let event: unknown;
        try {
          event = await verifiedStripeEvent({ rawBody, signature, secret: settings.webhookSecret });
        } catch (error) {
          throw new Invalid('Stripe-Signature', `does not verify: ${(error as Error).message}`);
        }
        const type = event && typeof event === 'object' ? (event as { type?: unknown }).type : undefined;
        if (!SEAT_EVENT_TYPES.includes(type as (typeof SEAT_EVENT_TYPES)[number])) return { received: true, outcome: `ignored: Allot does not handle ${String(type)}` };
        const parsed = schemas.subscriptionEvent.safeParse(event);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new Invalid(issue.path.join('.') || 'body', issue.message);
        }
        const subscription = parsed.data.data.object;
        const result = await service.handleSubscriptionEvent(request.context, {
          id: parsed.data.id,
          type: type as (typeof SEAT_EVENT_TYPES)[number],
          created: parsed.data.created,
          stripeSubscriptionId: subscription.id,
          items: (subscription.items?.data ?? []).flatMap((item) => (item.price ? [{ priceId: item.price.id, quantity: item.quantity ?? 0 }] : [])),
          itemsIncomplete: subscription.items?.has_more ?? false,
        });
        return { received: true, outcome: result.outcome };
      },
    );
  });
}
