import { coalesced } from '../../lib/coalesce.js';
import { CustomerQueue } from '../../lib/customerQueue.js';
import type { ServiceContext } from '../../lib/context.js';
import * as contracts from '../contracts/service.js';
import { evaluateThresholds, type GateSettings } from './service.js';

/** How long this process trusts its list of a tenant's customers with threshold configurations. */
const CACHE_MS = 2_000;

export interface ThresholdWatcherOptions {
  /** How Allot reaches Stripe for STRIPE payment gates. */
  gate: GateSettings;
  /** Every customer with an enabled configuration is looked at this often (default 60 s). */
  sweepIntervalMs?: number | undefined;
  onError?: (error: unknown) => void;
}

export interface ThresholdWatcher {
  /** Looks at every customer with an enabled configuration now; resolves when done. */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Watches threshold configurations in the background (docs/rules.md rules 30–31), as the alert
 * evaluator watches alerts: after every ingest commit of this process, for the customers it
 * touched that have a configuration; after their contracts or balances change (an edit that sets
 * or enables a configuration is looked at at once); and in a sweep every `sweepIntervalMs`. Work
 * is queued per customer: a customer changed again while queued is looked at once, and never by
 * two evaluations of this process at a time (the customer's lock orders those of other processes).
 */
export function startThresholdWatcher(ctx: ServiceContext, options: ThresholdWatcherOptions): ThresholdWatcher {
  const concurrency = ctx.db.engine === 'postgres' ? 2 : 1;
  const onError = options.onError ?? (() => {});
  const watched = new Map<string, { at: number; customers: Promise<Set<string>> }>();

  const customersWatched = (tenantId: string): Promise<Set<string>> => {
    const hit = watched.get(tenantId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.customers;
    const customers = contracts.customersWithEnabledThresholds(ctx, { tenantId }).then((rows) => new Set(rows.map((row) => row.customerId)));
    watched.set(tenantId, { at: Date.now(), customers });
    return customers;
  };

  // A sweep's looks wait behind those of customers whose usage or account just changed.
  const queue = new CustomerQueue<{ tenantId: string; customerId: string; sweep: boolean }>({
    concurrency,
    run: ({ tenantId, customerId }) => evaluateThresholds(ctx, { tenantId, customerId, gate: options.gate }),
    onError,
    merge: (waiting, added) => {
      waiting.sweep &&= added.sweep;
    },
    urgent: (job) => !job.sweep,
  });
  const enqueue = (tenantId: string, customerId: string, sweep = false) =>
    queue.enqueue({ tenantId: tenantId.toLowerCase(), customerId: customerId.toLowerCase(), sweep });

  async function sweepOnce(): Promise<void> {
    watched.clear();
    const rows = await contracts.customersWithEnabledThresholds(ctx);
    await Promise.all(rows.map((row) => enqueue(row.tenantId, row.customerId, true)));
  }
  const sweep = coalesced(sweepOnce);

  /** Queues those of `customerIds` that have an enabled configuration. */
  const enqueueWatched = (tenantId: string, customerIds: readonly string[]) => {
    void customersWatched(tenantId.toLowerCase())
      .then((customers) => {
        for (const customerId of customerIds) if (customers.has(customerId.toLowerCase())) void enqueue(tenantId, customerId);
      })
      .catch(onError);
  };

  const unsubscribe = [
    ctx.signals?.on('usageCommitted', ({ tenantId, customerIds }) => enqueueWatched(tenantId, customerIds)),
    ctx.signals?.on('accountChanged', ({ tenantId, customerIds, cause }) => {
      if (cause === 'invoice') return;
      // A contract change may have set or enabled a configuration: the cached list is stale.
      if (cause === 'contract') watched.delete(tenantId.toLowerCase());
      enqueueWatched(tenantId, customerIds);
    }),
  ];
  const timer = setInterval(() => {
    if (!sweep.busy) sweep().catch(onError);
  }, options.sweepIntervalMs ?? 60_000);
  timer.unref();

  return {
    sweep,
    async stop() {
      clearInterval(timer);
      for (const off of unsubscribe) off?.();
      await Promise.allSettled([queue.stop(), sweep.settled()]);
    },
  };
}
