import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Clock, TestClock } from './lib/clock.js';
import { signalsOf, type ServiceContext } from './lib/context.js';
import type { Database } from './lib/db/database.js';
import { registerDashboard } from './dashboard/routes.js';
import { DEFAULT_SIGN_IN_LIMIT, type SignInLimit } from './dashboard/signInLimit.js';
import { createHttpServer, DEFAULT_BODY_LIMIT } from './http/server.js';
import { registerTestClockRoutes } from './http/testClockRoutes.js';
import type { App } from './http/types.js';
import { registerCustomerRoutes } from './modules/customers/routes.js';
import { registerDashboardRoutes } from './modules/dashboards/routes.js';
import { registerContractRoutes } from './modules/contracts/routes.js';
import { registerSeatRoutes } from './modules/contracts/seatRoutes.js';
import { registerInvoiceRoutes } from './modules/invoices/routes.js';
import { startPeriodClose, type PeriodClose } from './modules/invoices/worker.js';
import { registerPricingRoutes } from './modules/pricing/routes.js';
import { registerReportRoutes } from './modules/reports/routes.js';
import { registerSimulationRoutes } from './modules/simulations/routes.js';
import { startSimulationRunner, type SimulationRunner } from './modules/simulations/service.js';
import { registerEntitlementRoutes } from './modules/entitlements/routes.js';
import { registerIngestRoutes } from './modules/usage/ingestRoutes.js';
import { registerApiKeyRoutes, registerSettingsRoutes } from './modules/tenants/routes.js';
import { authenticate } from './modules/tenants/service.js';
import { registerUsageQueryRoutes } from './modules/usage/queryRoutes.js';
import { registerUnmatchedEventRoutes } from './modules/usage/unmatchedRoutes.js';
import { rollUpStoredEvents } from './modules/usage/service.js';
import { registerAlertRoutes } from './modules/alerts/routes.js';
import { startAccountEngine } from './modules/account/service.js';
import { startAlertEvaluation, type AlertEvaluation } from './modules/alerts/evaluator.js';
import { startStripeInvoicePush, type StripePush } from './modules/stripe/pushWorker.js';
import { registerStripeRoutes } from './modules/stripe/routes.js';
import { DEFAULT_STRIPE_SETTINGS, type StripeSettings } from './modules/stripe/settings.js';
import { registerWebhookRoutes } from './modules/webhooks/routes.js';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './modules/webhooks/settings.js';
import { startWebhookDelivery, type WebhookDelivery } from './modules/webhooks/worker.js';
import { startThresholdWatcher, type ThresholdWatcher } from './modules/thresholds/watcher.js';

/** What the background workers need: the settings of each one. */
export interface WorkerOptions {
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
  /** Pricing simulations: `run: false` leaves them to other processes (this one queues them); how often unfinished ones are looked for (default 5 s). */
  simulations?: { run?: boolean | undefined; intervalMs?: number | undefined } | undefined;
}

export interface ServerOptions extends WorkerOptions {
  db: Database;
  clock: Clock;
  /** Present only in test-clock mode: then `POST /v1/allot/test-clock/advance` exists. */
  testClock?: TestClock | undefined;
  bodyLimit?: number | undefined;
  logger?: FastifyServerOptions['logger'];
  version?: string;
  /** Registers extra routes after the built-in ones, under the same conventions (tests use it to reach edge cases). */
  register?: ((app: App) => void) | undefined;
  /** The invoice grace period, in hours, of tenants that set none (default 24). */
  invoiceGracePeriodHours?: number | undefined;
  /** Where browsers reach this server (embeddable dashboard URLs start with it); default: the request's own scheme and host. */
  publicUrl?: string | undefined;
  /** Fastify's `trustProxy`: behind a TLS-terminating proxy, requests then read as HTTPS with the browser's host. */
  trustProxy?: boolean | string | undefined;
  /** Answer every request with a `Server-Timing` header (`ALLOT_SERVER_TIMING`). */
  serverTiming?: boolean | undefined;
  /** Dashboard sign-ins with a wrong key allowed per client address and window (default 10 a minute); the next are a 429. */
  signInLimit?: { maxFailures?: number | undefined; windowMs?: number | undefined } | undefined;
  /** With a usage log: what account reads wait for first (`ServiceContext.readFence`). */
  readFence?: ServiceContext['readFence'];
}

/**
 * The whole of Allot in one process: the HTTP server (`http/`) with every module's routes and the
 * dashboard, and the background workers, started once the routes are ready and stopped when the
 * app closes.
 */
export async function buildServer(options: ServerOptions): Promise<App> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const context: ServiceContext = {
    db: options.db,
    clock: options.clock,
    signals: signalsOf(options.db),
    invoiceGracePeriodHours: options.invoiceGracePeriodHours,
    readFence: options.readFence,
  };
  const app = await createHttpServer({
    context,
    authenticate,
    bodyLimit,
    logger: options.logger,
    version: options.version,
    trustProxy: options.trustProxy,
    serverTiming: options.serverTiming,
  });
  await registerRoutes(app, context, {
    bodyLimit,
    publicUrl: options.publicUrl,
    webhooks: webhookSettings(options),
    stripe: stripeSettings(options),
    signInLimit: { ...DEFAULT_SIGN_IN_LIMIT, ...definedValues(options.signInLimit ?? {}) },
  });
  let workers: Workers | undefined;
  // Moving the test clock crosses period and segment boundaries: periods are closed, and alerts and
  // segments looked at again, before it answers.
  if (options.testClock) {
    registerTestClockRoutes(app, options.testClock, {
      afterAdvance: async () => {
        await workers?.periodClose.run();
        await workers?.evaluation.sweep();
        await workers?.thresholds.sweep();
      },
    });
  }
  options.register?.(app);

  // Stopped on close, before the caller closes the database: interrupted attempts are recorded first.
  let stopAccountEngine: (() => Promise<void>) | undefined;
  app.addHook('onClose', async () => {
    await workers?.stop();
    await stopAccountEngine?.();
  });

  await app.ready();
  // Before anything reads an account: from here on computed accounts are kept, and dropped as they change.
  stopAccountEngine = await startAccountEngine(context);
  workers = startWorkers(context, options, app.log);
  return app;
}

/** Registers every module's routes and the dashboard on `app`. */
export async function registerRoutes(
  app: App,
  context: ServiceContext,
  {
    bodyLimit,
    publicUrl,
    webhooks,
    stripe,
    signInLimit,
  }: { bodyLimit: number; publicUrl: string | undefined; webhooks: WebhookSettings; stripe: StripeSettings; signInLimit?: SignInLimit | undefined },
): Promise<void> {
  registerApiKeyRoutes(app);
  registerSettingsRoutes(app);
  registerCustomerRoutes(app);
  registerPricingRoutes(app, { rollUpStoredEvents });
  registerContractRoutes(app);
  registerSeatRoutes(app);
  registerIngestRoutes(app, context);
  registerInvoiceRoutes(app);
  registerReportRoutes(app);
  registerSimulationRoutes(app);
  registerEntitlementRoutes(app);
  registerUsageQueryRoutes(app);
  registerUnmatchedEventRoutes(app);
  registerWebhookRoutes(app, webhooks);
  registerAlertRoutes(app);
  registerStripeRoutes(app, stripe);
  registerDashboardRoutes(app, { publicUrl });
  await registerDashboard(app, { bodyLimit, publicUrl, context, signInLimit });
}

/** The background workers of one process. */
export interface Workers {
  periodClose: PeriodClose;
  evaluation: AlertEvaluation;
  /** Auto top-up and threshold billing: acts on crossed threshold configurations. */
  thresholds: ThresholdWatcher;
  delivery: WebhookDelivery | undefined;
  stripePush: StripePush | undefined;
  simulations: SimulationRunner | undefined;
  /** Stops every worker, in the order that records interrupted work. */
  stop(): Promise<void>;
}

/**
 * Starts the background workers on `context`: webhook delivery (unless `webhooks.deliver` is false),
 * Stripe invoice push (with a secret key, unless `stripe.push` is false), period close and alert
 * evaluation. They need no HTTP server: a process may run them alone. The signals of `context`
 * wake them, so give them the context the routes run against when both share a process.
 */
export function startWorkers(context: ServiceContext, options: WorkerOptions, logger: FastifyBaseLogger): Workers {
  const webhooks = webhookSettings(options);
  const stripe = stripeSettings(options);
  // With a usage log, workers that follow committed changes read what is committed, without the
  // read fence: an alert or threshold evaluation runs again when the rest is folded, whereas waiting
  // for the writers to fold everything acknowledged held every evaluation behind the log under steady
  // ingest (seconds each, one customer after another). Period close keeps the fence: an invoice
  // counts every event acknowledged before its period ended.
  const committed: ServiceContext = { ...context, readFence: undefined };
  const delivery = options.webhooks?.deliver === false ? undefined : startWebhookDelivery(committed, { ...webhooks, logger });
  const stripePush = options.stripe?.push !== false && stripe.secretKey ? startStripeInvoicePush(context, { ...stripe, logger }) : undefined;
  const periodClose = startPeriodClose(context, {
    intervalMs: options.periodClose?.intervalMs,
    onError: (error) => logger.error({ err: error }, 'period close failed'),
  });
  const evaluation = startAlertEvaluation(committed, {
    sweepIntervalMs: options.alerts?.sweepIntervalMs,
    onError: (error) => logger.error({ err: error }, 'alert evaluation failed'),
  });
  const thresholds = startThresholdWatcher(committed, {
    gate: stripe,
    sweepIntervalMs: options.alerts?.sweepIntervalMs,
    onError: (error) => logger.error({ err: error }, 'threshold evaluation failed'),
  });
  const simulations =
    options.simulations?.run === false
      ? undefined
      : startSimulationRunner(context, { intervalMs: options.simulations?.intervalMs, onError: (error) => logger.error({ err: error }, 'pricing simulation failed') });
  return {
    periodClose,
    evaluation,
    thresholds,
    delivery,
    stripePush,
    simulations,
    async stop() {
      await simulations?.stop();
      await periodClose.stop();
      await evaluation.stop();
      await thresholds.stop();
      // Before webhook delivery: a push that fails on the way out still writes its webhook to the outbox.
      await stripePush?.stop();
      await delivery?.stop();
    },
  };
}

function webhookSettings(options: WorkerOptions): WebhookSettings {
  const { deliver: _deliver, ...webhookOptions } = options.webhooks ?? {};
  return { ...DEFAULT_WEBHOOK_SETTINGS, ...definedValues(webhookOptions) };
}

function stripeSettings(options: WorkerOptions): StripeSettings {
  const { push: _push, ...stripeOptions } = options.stripe ?? {};
  return { ...DEFAULT_STRIPE_SETTINGS, ...definedValues(stripeOptions) };
}

function definedValues<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
