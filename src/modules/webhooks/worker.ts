import { retryDelayMs } from '../../lib/backoff.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { ServiceContext } from '../../lib/context.js';
import { deliveryAfterAttempt, type AttemptResult } from './compute/attemptOutcome.js';
import { webhookHeaders } from './compute/signature.js';
import type { Resolve } from './destination.js';
import { postWebhook } from './post.js';
import * as repo from './repo.js';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './settings.js';

export interface WebhookDeliveryOptions extends Partial<WebhookSettings> {
  /** Attempts in flight at once (default 8). */
  concurrency?: number;
  /** How long a claimed delivery stays invisible to other workers (default: the timeout + 30 s). */
  leaseMs?: number;
  /** The clock of every delivery time; never the billing clock (default: the system clock). */
  wallClock?: Clock;
  /** A number in [0, 1) for the backoff's jitter (default `Math.random`). */
  random?: () => number;
  logger?: { error(object: object, message: string): void };
  /** How endpoint host names are resolved and checked before connecting (default `dns.lookup`). */
  resolve?: Resolve;
}

export interface WebhookDelivery {
  /** Looks for due deliveries now rather than at the next poll. */
  kick(): void;
  /**
   * Stops sending: attempts in flight are aborted and recorded as interrupted (due again at once),
   * and the promise resolves when that is written. Nothing is sent afterwards.
   */
  stop(): Promise<void>;
}

const DEFAULT_CONCURRENCY = 8;
const INTERRUPTED = 'interrupted: server stopping';

/**
 * Starts the worker that sends the outbox's deliveries: at once when `ctx.signals` reports an
 * outbox write, when a retry it scheduled comes due, and every `pollIntervalMs` otherwise (for
 * writes of other processes and leases that ran out). It claims due deliveries with a lease, so
 * that workers of several processes on one database never send the same attempt at once, then
 * posts each with no transaction open, and records the attempt afterwards.
 */
export function startWebhookDelivery(ctx: ServiceContext, options: WebhookDeliveryOptions = {}): WebhookDelivery {
  const { db } = ctx;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_SETTINGS.timeoutMs;
  const retryBaseMs = options.retryBaseMs ?? DEFAULT_WEBHOOK_SETTINGS.retryBaseMs;
  const retryMaxMs = options.retryMaxMs ?? DEFAULT_WEBHOOK_SETTINGS.retryMaxMs;
  const maxAttempts = options.maxAttempts ?? DEFAULT_WEBHOOK_SETTINGS.maxAttempts;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_WEBHOOK_SETTINGS.pollIntervalMs;
  const allowPrivateAddresses = options.allowPrivateAddresses ?? DEFAULT_WEBHOOK_SETTINGS.allowPrivateAddresses;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const leaseMs = options.leaseMs ?? timeoutMs + 30_000;
  const wallClock = options.wallClock ?? systemClock;
  const random = options.random ?? Math.random;
  const logError = (error: unknown, message: string) => options.logger?.error({ err: error }, message);

  let stopped = false;
  const inFlight = new Map<string, { controller: AbortController; done: Promise<void>; endpointId: string }>();
  // One slow or dead endpoint may hold at most half the slots: the others' webhooks keep flowing.
  const perEndpoint = Math.max(1, Math.ceil(concurrency / 2));
  let claiming: Promise<void> | null = null;
  let claimAgain = false;
  let wake: { timer: NodeJS.Timeout; at: number } | null = null;

  const kick = (): void => {
    if (stopped) return;
    if (claiming) {
      claimAgain = true;
      return;
    }
    claimAgain = false;
    claiming = claimAndSend()
      .catch((error: unknown) => logError(error, 'webhook delivery: claiming due deliveries failed'))
      .finally(() => {
        claiming = null;
        if (claimAgain) kick();
      });
  };

  async function claimAndSend(): Promise<void> {
    const room = concurrency - inFlight.size;
    if (room <= 0) return; // each send that ends kicks again
    const sending = new Map<string, number>();
    for (const { endpointId } of inFlight.values()) sending.set(endpointId, (sending.get(endpointId) ?? 0) + 1);
    const busy = [...sending].filter(([, count]) => count >= perEndpoint).map(([endpointId]) => endpointId);
    const now = wallClock.now();
    const claimed = await repo.claimDueDeliveries(db, { now, leaseUntil: new Date(now.getTime() + leaseMs), limit: room, busyEndpointIds: busy });
    const kept: repo.ClaimedDelivery[] = [];
    const extra: repo.ClaimedDelivery[] = [];
    for (const delivery of claimed) {
      const count = sending.get(delivery.endpoint_id) ?? 0;
      if (stopped || count >= perEndpoint) extra.push(delivery);
      else {
        sending.set(delivery.endpoint_id, count + 1);
        kept.push(delivery);
      }
    }
    // Claimed beyond an endpoint's share, or while stopping: due again at once, for this worker or another.
    if (extra.length > 0) await repo.releaseDeliveries(db, extra, wallClock.now());
    for (const delivery of kept) send(delivery);
  }

  function send(delivery: repo.ClaimedDelivery): void {
    const controller = new AbortController();
    const key = `${delivery.tenant_id}/${delivery.id}`;
    const done = attempt(delivery, controller.signal)
      .catch(async (error: unknown) => {
        logError(error, 'webhook delivery: recording an attempt failed');
        // Due again at once rather than when its lease runs out (it may have been sent: webhooks go at least once).
        if (!stopped) await repo.releaseDeliveries(db, [delivery], wallClock.now()).catch((failure: unknown) => logError(failure, 'webhook delivery: releasing an unrecorded attempt failed'));
      })
      .finally(() => {
        inFlight.delete(key);
        kick();
      });
    inFlight.set(key, { controller, done, endpointId: delivery.endpoint_id });
  }

  async function attempt(delivery: repo.ClaimedDelivery, stopping: AbortSignal): Promise<void> {
    const number = delivery.attempts + 1;
    const startedAt = wallClock.now();
    const started = performance.now();
    let result: AttemptResult;
    try {
      const statusCode = await postWebhook({
        url: delivery.url,
        headers: webhookHeaders({ secret: delivery.secret, body: delivery.body, sentAt: startedAt }),
        body: delivery.body,
        signal: AbortSignal.any([stopping, AbortSignal.timeout(timeoutMs)]),
        allowPrivateAddresses,
        resolve: options.resolve,
      });
      result = { kind: 'answered', statusCode };
    } catch (error) {
      result = stopping.aborted ? { kind: 'interrupted' } : { kind: 'failed', error: describeFailure(error, timeoutMs) };
    }
    const durationMs = Math.max(0, Math.round(performance.now() - started));
    const next = deliveryAfterAttempt({
      attempt: number,
      maxAttempts: delivery.max_attempts ?? maxAttempts,
      result,
      retryDelayMs: retryDelayMs({ attempt: number, baseMs: retryBaseMs, maxMs: retryMaxMs, random: random() }),
    });
    const now = wallClock.now();
    await db.transaction((tx) =>
      repo.recordAttempt(tx, {
        tenantId: delivery.tenant_id,
        deliveryId: delivery.id,
        attempt: number,
        startedAt,
        durationMs,
        statusCode: result.kind === 'answered' ? result.statusCode : null,
        error: result.kind === 'failed' ? result.error : result.kind === 'interrupted' ? INTERRUPTED : null,
        status: next.status,
        maxAttempts: next.maxAttempts,
        nextAttemptAt: next.retryInMs === null ? null : new Date(now.getTime() + next.retryInMs),
        finishedAt: next.status === 'pending' ? null : now,
      }),
    );
    if (next.retryInMs !== null && next.retryInMs > 0) wakeIn(next.retryInMs);
  }

  /** Kicks when each retry this worker scheduled comes due, if that is before the next poll. */
  const dueTimes: number[] = [];
  function wakeIn(ms: number): void {
    if (stopped || ms >= pollIntervalMs) return;
    // A few milliseconds late, so that the retry is due by the wall clock when the claim runs.
    dueTimes.push(Date.now() + ms + 5);
    dueTimes.sort((a, b) => a - b);
    armWake();
  }
  function armWake(): void {
    const next = dueTimes[0];
    if (next === undefined || stopped || (wake && wake.at <= next)) return;
    if (wake) clearTimeout(wake.timer);
    const timer = setTimeout(() => {
      wake = null;
      const now = Date.now();
      while (dueTimes.length > 0 && dueTimes[0]! <= now) dueTimes.shift();
      kick();
      armWake();
    }, Math.max(0, next - Date.now()));
    timer.unref();
    wake = { timer, at: next };
  }

  const poll = setInterval(kick, pollIntervalMs);
  poll.unref();
  const unsubscribe = ctx.signals?.on('outboxWritten', kick);
  kick();

  return {
    kick,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(poll);
      if (wake) clearTimeout(wake.timer);
      unsubscribe?.();
      for (const { controller } of inFlight.values()) controller.abort();
      // A claim under way releases what it got; each aborted attempt records itself.
      await claiming;
      await Promise.all([...inFlight.values()].map(({ done }) => done));
    },
  };
}

/** What went wrong with a request that got no answer, in words an operator can act on. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.message === 'string' && cause.message) return cause.message;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}
