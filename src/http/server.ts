import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Clock, TestClock } from '../lib/clock.js';
import { createSignals, type ServiceContext } from '../lib/context.js';
import type { Database } from '../lib/db/database.js';
import { registerDashboard } from '../dashboard/routes.js';
import { registerCustomerRoutes } from '../modules/customers/routes.js';
import { registerDashboardRoutes } from '../modules/dashboards/routes.js';
import { registerContractRoutes } from '../modules/contracts/routes.js';
import { registerInvoiceRoutes } from '../modules/invoices/routes.js';
import { startPeriodClose, type PeriodClose } from '../modules/invoices/worker.js';
import { registerPricingRoutes } from '../modules/pricing/routes.js';
import { registerReportRoutes } from '../modules/reports/routes.js';
import { registerIngestRoutes } from '../modules/usage/ingestRoutes.js';
import { registerApiKeyRoutes } from '../modules/tenants/routes.js';
import { registerUsageQueryRoutes } from '../modules/usage/queryRoutes.js';
import { registerAlertRoutes } from '../modules/alerts/routes.js';
import { startAlertEvaluation, type AlertEvaluation } from '../modules/alerts/evaluator.js';
import { startAccountEngine } from '../modules/account/service.js';
import { onUsageCommitted } from '../modules/usage/service.js';
import { startStripeInvoicePush, type StripePush } from '../modules/stripe/pushWorker.js';
import { registerStripeRoutes } from '../modules/stripe/routes.js';
import { DEFAULT_STRIPE_SETTINGS, type StripeSettings } from '../modules/stripe/settings.js';
import { registerWebhookRoutes } from '../modules/webhooks/routes.js';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '../modules/webhooks/settings.js';
import { startWebhookDelivery, type WebhookDelivery } from '../modules/webhooks/worker.js';
import { registerAuth } from './auth.js';
import { frameworkErrors, registerErrorHandling } from './errors.js';
import { registerHealth } from './health.js';
import { registerIdempotency } from './idempotency.js';
import { parseJsonBody } from './jsonBody.js';
import { registerMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { registerTestClockRoutes } from './testClockRoutes.js';
import type { App } from './types.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface ServerOptions {
  db: Database;
  clock: Clock;
  /** Present only in test-clock mode: then `POST /v1/allot/test-clock/advance` exists. */
  testClock?: TestClock | undefined;
  bodyLimit?: number | undefined;
  logger?: FastifyServerOptions['logger'];
  version?: string;
  /** Registers extra routes after the built-in ones, under the same conventions (tests use it to reach edge cases). */
  register?: ((app: App) => void) | undefined;
  /** Webhook delivery; `deliver: false` leaves the outbox unsent (the worker is not started). */
  webhooks?: ({ deliver?: boolean | undefined } & Partial<WebhookSettings>) | undefined;
  /** Alert evaluation: how often every watched customer is evaluated again (default 60 s). */
  alerts?: { sweepIntervalMs?: number | undefined } | undefined;
  /** Period close: how often ended periods are looked for (default 60 s). */
  periodClose?: { intervalMs?: number | undefined } | undefined;
  /**
   * Stripe: keys, API base and push settings. Without `secretKey` (or with `push: false`) no
   * invoice is pushed; without `webhookSecret` the Stripe webhook route refuses every request.
   */
  stripe?: ({ push?: boolean | undefined } & { [Key in keyof StripeSettings]?: StripeSettings[Key] | undefined }) | undefined;
  /** Where browsers reach this server (embeddable dashboard URLs start with it); default: the request's own scheme and host. */
  publicUrl?: string | undefined;
  /** Fastify's `trustProxy`: behind a TLS-terminating proxy, requests then read as HTTPS with the browser's host. */
  trustProxy?: boolean | string | undefined;
}

/** Assembles the HTTP API: conventions first (errors, auth, idempotency, metrics, OpenAPI), then each module's routes. */
export async function buildServer(options: ServerOptions): Promise<App> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    ...(options.trustProxy !== undefined && { trustProxy: options.trustProxy }),
    // One log line per request would drown the ingest path; errors are logged where they are handled.
    logController: new LogController({ disableRequestLogging: true }),
    // `/v1/customers/` is the same route as `/v1/customers`.
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Bodies are JSON; anything else is a 415 rather than a string handed to validation.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  const context: ServiceContext = { db: options.db, clock: options.clock, signals: createSignals() };
  registerErrorHandling(app, { bodyLimit });
  app.decorateRequest('context', null as never);
  app.addHook('onRequest', async (request) => {
    request.context = context;
  });
  await registerOpenApi(app, { version: options.version ?? '0.0.0' });
  registerAuth(app, context);
  registerIdempotency(app, context);
  registerMetrics(app);
  registerHealth(app, context);

  registerApiKeyRoutes(app);
  registerCustomerRoutes(app);
  registerPricingRoutes(app);
  registerContractRoutes(app);
  registerIngestRoutes(app, context);
  registerInvoiceRoutes(app);
  registerReportRoutes(app);
  registerUsageQueryRoutes(app);
  const { deliver = true, ...webhookOptions } = options.webhooks ?? {};
  const webhooks: WebhookSettings = { ...DEFAULT_WEBHOOK_SETTINGS, ...definedValues(webhookOptions) };
  registerWebhookRoutes(app, webhooks);
  registerAlertRoutes(app);
  const { push = true, ...stripeOptions } = options.stripe ?? {};
  const stripe: StripeSettings = { ...DEFAULT_STRIPE_SETTINGS, ...definedValues(stripeOptions) };
  registerStripeRoutes(app, stripe);
  registerDashboardRoutes(app, { publicUrl: options.publicUrl });
  await registerDashboard(app, { bodyLimit, publicUrl: options.publicUrl, context });
  let evaluation: AlertEvaluation | undefined;
  let periodClose: PeriodClose | undefined;
  // Moving the test clock crosses period and segment boundaries: periods are closed, and alerts and
  // segments looked at again, before it answers.
  if (options.testClock) {
    registerTestClockRoutes(app, options.testClock, {
      afterAdvance: async () => {
        await periodClose?.run();
        await evaluation?.sweep();
      },
    });
  }
  options.register?.(app);

  // Stopped on close, before the caller closes the database: interrupted attempts are recorded first.
  let delivery: WebhookDelivery | undefined;
  let stripePush: StripePush | undefined;
  let stopAccountEngine: (() => Promise<void>) | undefined;
  app.addHook('onClose', async () => {
    await periodClose?.stop();
    await evaluation?.stop();
    // Before webhook delivery: a push that fails on the way out still writes its webhook to the outbox.
    await stripePush?.stop();
    await delivery?.stop();
    await stopAccountEngine?.();
  });

  await app.ready();
  // Before anything reads an account: from here on computed accounts are kept, and dropped as they change.
  stopAccountEngine = await startAccountEngine(context, { onUsageCommitted: (listener) => onUsageCommitted(context, listener) });
  if (deliver) delivery = startWebhookDelivery(context, { ...webhooks, logger: app.log });
  if (push && stripe.secretKey) stripePush = startStripeInvoicePush(context, { ...stripe, logger: app.log });
  periodClose = startPeriodClose(context, {
    intervalMs: options.periodClose?.intervalMs,
    onError: (error) => app.log.error({ err: error }, 'period close failed'),
  });
  evaluation = startAlertEvaluation(context, {
    sweepIntervalMs: options.alerts?.sweepIntervalMs,
    onError: (error) => app.log.error({ err: error }, 'alert evaluation failed'),
  });
  return app;
}

function definedValues<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
