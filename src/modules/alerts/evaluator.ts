import { coalesced } from '../../lib/coalesce.js';
import { CustomerQueue } from '../../lib/customerQueue.js';
import type { ServiceContext, UsageCommitted } from '../../lib/context.js';
import * as contracts from '../contracts/service.js';
import * as customers from '../customers/service.js';
import * as webhooks from '../webhooks/service.js';
import { evaluateCustomer, type Trigger } from './evaluate.js';
import * as repo from './repo.js';

const SEGMENT_EVENT_TYPES = ['credit.segment.start', 'credit.segment.end'];

/** How long this process trusts its copy of a tenant's alerts (another process may create one). */
const CACHE_MS = 2_000;

export interface AlertEvaluationOptions {
  /** Every watched customer is evaluated this often (period boundaries, segments starting and ending). */
  sweepIntervalMs?: number;
  /** Customers evaluated at once. */
  concurrency?: number;
  onError?: (error: unknown) => void;
}

/** The background evaluation of alerts (and announcement of credit segments) of one process. */
export interface AlertEvaluation {
  /** Evaluates every watched customer now; resolves when done. */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

interface Job {
  tenantId: string;
  customerId: string;
  trigger: Trigger;
  /** The metrics whose usage changed, when only usage did; null when anything may have changed. */
  metricIds: Set<string> | null;
  /** Whether to announce credit segments too: any look but one after usage alone (kept when merged with one). */
  segments: boolean;
}

/**
 * Starts evaluating alerts in the background (docs/rules.md rule 13): after every ingest commit of this
 * process, for the customers it touched; after contract, balance and alert changes; and in a
 * sweep of every watched customer when it starts and every `sweepIntervalMs`, which is how period
 * boundaries (a new grant, a segment expiring) reach the alerts, and how `credit.segment.*`
 * webhooks are written. Work is queued per customer: a customer changed again while queued is
 * evaluated once, and never by two evaluations of this process at a time; a sweep's customers
 * wait behind those whose usage or account just changed (a sweep of thousands of customers must
 * not hold back the webhook of an event that just crossed a threshold).
 */
export function startAlertEvaluation(ctx: ServiceContext, options: AlertEvaluationOptions = {}): AlertEvaluation {
  // PGlite runs one transaction at a time; on PostgreSQL each evaluation holds one connection.
  const concurrency = options.concurrency ?? (ctx.db.engine === 'postgres' ? 4 : 1);
  const onError = options.onError ?? (() => {});
  const alertCache = new Map<string, { at: number; alerts: Promise<repo.AlertRow[]> }>();
  const segmentCache = new Map<string, { at: number; subscribed: Promise<boolean> }>();

  const cached = <T>(cache: Map<string, { at: number } & T>, key: string, load: () => T): T => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    const entry = { at: Date.now(), ...load() };
    cache.set(key, entry);
    return entry;
  };
  const alertsOf = (tenantId: string) => cached(alertCache, tenantId, () => ({ alerts: repo.liveAlerts(ctx.db, tenantId) })).alerts;
  const segmentsWatched = (tenantId: string) =>
    cached(segmentCache, tenantId, () => ({ subscribed: webhooks.hasSubscribers(ctx.db, tenantId, SEGMENT_EVENT_TYPES) })).subscribed;

  async function run(job: Job): Promise<void> {
    const changed = job.metricIds;
    // New usage of metrics nothing prices cannot move a balance or a spend, and a usage alert
    // moves only with its own metric.
    const alerts = (await alertsOf(job.tenantId)).filter(
      (alert) =>
        (alert.customer_id === null || alert.customer_id === job.customerId) &&
        (changed === null || (alert.alert_type === 'usage_threshold_reached' ? changed.has(alert.billable_metric_id ?? '') : changed.size > 0)),
    );
    await evaluateCustomer(ctx, { tenantId: job.tenantId, customerId: job.customerId, alerts, trigger: job.trigger });
    // Segments start and end with time, not usage: announced on every other kind of look.
    if (job.segments && (await segmentsWatched(job.tenantId))) {
      await contracts.announceCreditSegments(ctx, { tenantId: job.tenantId, customerId: job.customerId });
    }
  }

  const queue = new CustomerQueue<Job>({
    concurrency,
    run,
    onError,
    merge: (waiting, added) => {
      if (added.trigger !== 'schedule') waiting.trigger = added.trigger;
      waiting.segments ||= added.segments;
      if (!added.metricIds) waiting.metricIds = null;
      else if (waiting.metricIds) for (const metricId of added.metricIds) waiting.metricIds.add(metricId);
    },
    // What ingest, a contract or balance change or a new alert just moved is looked at before a sweep's customers.
    urgent: (job) => job.trigger !== 'schedule',
  });
  // Ids arrive as the request spelled them: one spelling per customer, for the queue and the alerts' customer_id.
  const enqueue = (tenantId: string, customerId: string, trigger: Trigger, metricIds?: ReadonlySet<string>) =>
    queue.enqueue({ tenantId: tenantId.toLowerCase(), customerId: customerId.toLowerCase(), trigger, metricIds: metricIds ? new Set(metricIds) : null, segments: trigger !== 'usage' });

  /**
   * New usage queues only the customers some live alert of the tenant can watch (one look at the
   * tenant's cached alerts per ingest batch): a tenant without alerts costs its ingest nothing here.
   */
  async function enqueueUsage({ tenantId, customerIds, metricIds }: UsageCommitted): Promise<void> {
    const alerts = await alertsOf(tenantId.toLowerCase());
    if (alerts.length === 0) return;
    const everyone = alerts.some((alert) => alert.customer_id === null);
    const watched = everyone ? null : new Set(alerts.map((alert) => alert.customer_id));
    for (const customerId of customerIds) {
      if (watched && !watched.has(customerId.toLowerCase())) continue;
      void enqueue(tenantId, customerId, 'usage', metricIds.get(customerId) ?? new Set());
    }
  }

  async function evaluateEveryCustomer(tenantId: string, trigger: Trigger): Promise<void> {
    const jobs: Promise<void>[] = [];
    for await (const customerId of customers.liveCustomerIds(ctx, { tenantId })) jobs.push(enqueue(tenantId, customerId, trigger));
    await Promise.all(jobs);
  }

  async function sweepOnce(): Promise<void> {
    const tenants = new Set([...(await repo.tenantsWithAlerts(ctx.db)), ...(await webhooks.tenantsSubscribedTo(ctx.db, SEGMENT_EVENT_TYPES))]);
    await Promise.all(
      [...tenants].map(async (tenantId) => {
        alertCache.delete(tenantId);
        segmentCache.delete(tenantId);
        const alerts = await alertsOf(tenantId);
        if ((await segmentsWatched(tenantId)) || alerts.some((alert) => alert.customer_id === null)) return evaluateEveryCustomer(tenantId, 'schedule');
        const customerIds = [...new Set(alerts.map((alert) => alert.customer_id!))];
        await Promise.all(customerIds.map((customerId) => enqueue(tenantId, customerId, 'schedule')));
      }),
    );
  }
  /** A sweep that starts now, or, while one runs, right after it (the clock may have moved since it started). */
  const sweep = coalesced(sweepOnce);

  const unsubscribe = [
    ctx.signals?.on('usageCommitted', (committed) => void enqueueUsage(committed).catch(onError)),
    ctx.signals?.on('accountChanged', ({ tenantId, customerIds, cause }) => {
      // Recording a finalised invoice's deductions moves no balance: the sweep at the period's turn looks.
      if (cause === 'invoice') return;
      for (const customerId of customerIds) void enqueue(tenantId, customerId, cause);
    }),
    ctx.signals?.on('alertsChanged', ({ tenantId, evaluateEveryCustomer: everyone }) => {
      alertCache.delete(tenantId);
      if (everyone) evaluateEveryCustomer(tenantId, 'alert_created').catch(onError);
    }),
  ];
  // The periodic sweep is skipped while one runs.
  const timer = setInterval(() => {
    if (!sweep.busy) sweep().catch(onError);
  }, options.sweepIntervalMs ?? 60_000);
  timer.unref();
  const first = setTimeout(() => sweep().catch(onError), 0);
  first.unref();

  return {
    sweep,
    async stop() {
      clearInterval(timer);
      clearTimeout(first);
      for (const off of unsubscribe) off?.();
      await Promise.allSettled([queue.stop(), sweep.settled()]);
    },
  };
}
