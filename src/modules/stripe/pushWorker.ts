import type Stripe from 'stripe';
import { retryDelayMs } from '../../lib/backoff.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { ServiceContext } from '../../lib/context.js';
import * as customers from '../customers/service.js';
import * as webhooks from '../webhooks/service.js';
import { stripeClient } from './client.js';
import { pushInvoice, type PushOutcome } from './pushInvoice.js';
import * as repo from './repo.js';
import { DEFAULT_STRIPE_SETTINGS, type StripeSettings } from './settings.js';

export interface StripePushOptions extends Partial<StripeSettings> {
  /** Invoices pushed at once (default 4). */
  concurrency?: number;
  /** How long a claimed invoice stays invisible to other workers (default 10 minutes). */
  leaseMs?: number;
  /** The clock of the push bookkeeping (due times, leases); never the billing clock. */
  wallClock?: Clock;
  /** A number in [0, 1) for the backoff's jitter (default `Math.random`). */
  random?: () => number;
  /** A ready client (tests); by default one is made from the settings. */
  stripe?: Stripe;
  logger?: { error(object: object, message: string): void };
}

export interface StripePush {
  /** Looks for finalised invoices and due retries now rather than at the next poll. */
  kick(): void;
  /** Stops: pushes in flight end at their next Stripe call and are due again at once; resolves when that is recorded. */
  stop(): Promise<void>;
}

const DEFAULT_CONCURRENCY = 4;
const DISCOVER_BATCH = 500;

/**
 * Starts the worker that pushes finalised invoices to Stripe. It wakes when `invoicesFinalized`
 * is signalled, when a retry it scheduled comes due, and every `pollIntervalMs`: each time it
 * takes on finalised invoices of customers with a live Stripe configuration that it has not
 * taken on yet, then pushes the due ones, leased so that workers of several processes never
 * push one invoice at once. A failed attempt is retried with backoff and announced with an
 * `invoice.billing_provider_error` webhook, written in the transaction that records it.
 */
export function startStripeInvoicePush(ctx: ServiceContext, options: StripePushOptions = {}): StripePush {
  const { concurrency: _concurrency, leaseMs: _leaseMs, wallClock: _wallClock, random: _random, stripe: _stripe, logger: _logger, ...overrides } = options;
  const settings: StripeSettings = { ...DEFAULT_STRIPE_SETTINGS, ...definedValues(overrides) };
  const stripe: Promise<Stripe> = options.stripe ? Promise.resolve(options.stripe) : stripeClient(settings);
  // A client that cannot be made (a malformed API base) fails each attempt, saying why.
  stripe.catch(() => {});
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const leaseMs = options.leaseMs ?? 10 * 60_000;
  const wallClock = options.wallClock ?? systemClock;
  const random = options.random ?? Math.random;
  const logError = (error: unknown, message: string) => options.logger?.error({ err: error }, message);

  let stopped = false;
  let running: Promise<void> | null = null;
  let runAgain = false;
  let wake: NodeJS.Timeout | null = null;

  const kick = (): void => {
    if (stopped) return;
    if (running) {
      runAgain = true;
      return;
    }
    runAgain = false;
    running = runOnce()
      .catch((error: unknown) => logError(error, 'stripe push: a run failed'))
      .finally(() => {
        running = null;
        if (runAgain) kick();
        else void scheduleWake();
      });
  };

  async function runOnce(): Promise<void> {
    await ctx.db.transaction((tx) => repo.discoverFinalizedInvoices(tx, { now: wallClock.now(), limit: DISCOVER_BATCH }));
    await repo.discoverVoidedInvoices(ctx.db, { now: wallClock.now() });
    for (;;) {
      if (stopped) return;
      const now = wallClock.now();
      const claimed = await ctx.db.transaction((tx) => repo.claimDueSyncs(tx, { now, leaseUntil: new Date(now.getTime() + leaseMs), limit: concurrency }));
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((sync) => attempt(sync).catch((error: unknown) => logError(error, `stripe push: invoice ${sync.invoice_id} failed`))));
    }
  }

  /** Sleeps until the earliest retry, or the poll, whichever is first. */
  async function scheduleWake(): Promise<void> {
    if (stopped) return;
    let delay = settings.pollIntervalMs;
    try {
      const due = await repo.nextDueAt(ctx.db);
      if (due) delay = Math.min(delay, Math.max(0, due.getTime() - wallClock.now().getTime()));
    } catch (error) {
      logError(error, 'stripe push: reading the next due time failed');
    }
    if (stopped) return;
    if (wake) clearTimeout(wake);
    wake = setTimeout(() => {
      wake = null;
      kick();
    }, delay);
    wake.unref();
  }

  async function attempt(sync: repo.SyncRow): Promise<void> {
    let client: Stripe;
    let leaveInDraft: boolean;
    try {
      client = await stripe;
    } catch (error) {
      const message = `the Stripe client could not be made: ${(error as Error).message}`;
      await record(sync, { kind: 'failed', error: message, permanent: false, stripeInvoiceId: sync.stripe_invoice_id });
      return;
    }
    try {
      leaveInDraft = (await customers.getCustomer(ctx, { tenantId: sync.tenant_id, customerId: sync.customer_id })).leave_stripe_invoices_in_draft === true;
    } catch (error) {
      await record(sync, { kind: 'failed', error: `the customer could not be read: ${(error as Error).message}`, permanent: false, stripeInvoiceId: sync.stripe_invoice_id });
      return;
    }
    const outcome: PushOutcome = await pushInvoice({
      db: ctx.db,
      stripe: client,
      sync,
      daysUntilDue: settings.daysUntilDue,
      leaveInDraft,
      stopping: () => stopped,
      at: () => wallClock.now(),
    });
    await record(sync, outcome);
  }

  async function record(sync: repo.SyncRow, outcome: PushOutcome): Promise<void> {
    const key = { tenantId: sync.tenant_id, invoiceId: sync.invoice_id, expectedAttempts: sync.attempts };
    const now = wallClock.now();
    const attempts = sync.attempts + 1;
    switch (outcome.kind) {
      case 'interrupted':
        await repo.releaseSync(ctx.db, { ...key, at: now });
        return;
      case 'synced':
        await repo.updateSync(ctx.db, key, { status: 'synced', attempts, nextAttemptAt: null, stripeInvoiceId: outcome.stripeInvoiceId, lastError: null, at: now });
        return;
      case 'voided':
        await repo.updateSync(ctx.db, key, { status: 'voided', attempts, nextAttemptAt: null, stripeInvoiceId: outcome.stripeInvoiceId, lastError: null, at: now });
        return;
      case 'skipped':
        await repo.updateSync(ctx.db, key, { status: 'skipped', attempts, nextAttemptAt: null, skipReason: outcome.reason, at: now });
        return;
      case 'failed': {
        const giveUp = outcome.permanent || attempts >= settings.maxAttempts;
        const nextAttemptAt = giveUp
          ? null
          : new Date(now.getTime() + retryDelayMs({ attempt: attempts, baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs, random: random() }));
        const written = await ctx.db.transaction(async (tx) => {
          const updated = await repo.updateSync(tx, key, {
            status: giveUp ? 'failed' : 'pending',
            attempts,
            nextAttemptAt,
            stripeInvoiceId: outcome.stripeInvoiceId,
            lastError: outcome.error,
            at: now,
          });
          if (!updated) return false;
          await webhooks.enqueueWebhookEvent(tx, {
            tenantId: sync.tenant_id,
            type: 'invoice.billing_provider_error',
            fields: {
              properties: {
                invoice_id: sync.invoice_id,
                customer_id: sync.customer_id,
                billing_provider: 'STRIPE',
                billing_provider_error: outcome.error,
                attempt: attempts,
                next_attempt_at: nextAttemptAt?.toISOString() ?? null,
              },
            },
            // Voiding counts its attempts afresh: its failures have keys of their own.
            dedupeKey: `stripe-${outcome.voiding ? 'void' : 'push'}-error:${sync.invoice_id}:${attempts}`,
            at: ctx.clock.now(),
          });
          return true;
        });
        if (written) webhooks.signalOutboxWritten(ctx, sync.tenant_id);
        return;
      }
    }
  }

  const unsubscribe = ctx.signals?.on('invoicesFinalized', () => kick());
  kick();

  return {
    kick,
    async stop() {
      stopped = true;
      unsubscribe?.();
      if (wake) clearTimeout(wake);
      wake = null;
      await running;
    },
  };
}

function definedValues<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
