import { coalesced } from '../../lib/coalesce.js';
import type { ServiceContext } from '../../lib/context.js';
import * as tenants from '../tenants/service.js';
import { closeCustomer, periodsToClose } from './close.js';
import * as repo from './repo.js';

export interface PeriodCloseOptions {
  /** How often every contract is looked at (default 60 s). */
  intervalMs?: number | undefined;
  /** Customers closed at once (default 4 on PostgreSQL, 1 on PGlite). */
  concurrency?: number | undefined;
  onError?: (error: unknown) => void;
}

export interface PeriodClose {
  /** Closes everything due now; resolves when done. A run asked for while one runs starts right after it. */
  run(): Promise<{ finalized: number }>;
  stop(): Promise<void>;
}

/**
 * The customers with a period whose grace period has passed and that is not closed, or a
 * subscription billing increases immediately, with where each of their contracts' close stands.
 */
export async function customersDue(ctx: ServiceContext): Promise<{ tenantId: string; customerId: string; closedUntil: Map<string, Date | null> }[]> {
  const now = ctx.clock.now();
  const customers = new Map<string, { tenantId: string; customerId: string; closedUntil: Map<string, Date | null>; due: boolean }>();
  const contracts = await repo.closableContracts(ctx.db, now);
  const settings = await tenants.tenantSettings(ctx, [...new Set(contracts.map((contract) => contract.tenant_id))]);
  for (const contract of contracts) {
    const key = `${contract.tenant_id} ${contract.customer_id}`;
    let customer = customers.get(key);
    if (!customer) customers.set(key, (customer = { tenantId: contract.tenant_id, customerId: contract.customer_id, closedUntil: new Map(), due: false }));
    customer.closedUntil.set(contract.id, contract.closed_until);
    const schedule = { anchor: contract.statement_anchor, frequency: contract.statement_frequency, startingAt: contract.starting_at, endingBefore: contract.ending_before };
    const cutoff = tenants.graceCutoff(now, settings.get(contract.tenant_id)!);
    if (contract.bills_immediately || periodsToClose(schedule, contract.closed_until, cutoff).length > 0) customer.due = true;
  }
  return [...customers.values()].filter((customer) => customer.due).map(({ due: _due, ...customer }) => customer);
}

/**
 * Closes everything due now (`customersDue`), `concurrency` customers at a time; a customer that
 * fails is reported to `onError` and the others go on. Returns how many invoices were finalised.
 */
export async function closeDue(
  ctx: ServiceContext,
  { concurrency, onError = () => {}, stopped = () => false }: { concurrency: number; onError?: (error: unknown) => void; stopped?: () => boolean },
): Promise<{ finalized: number }> {
  const queue = await customersDue(ctx);
  // One run reads the catalog (rate cards, rates, products, metrics) once, however many customers it closes.
  const run: ServiceContext = { ...ctx, memo: new Map() };
  let finalized = 0;
  const work = async () => {
    for (let next = queue.shift(); next && !stopped(); next = queue.shift()) {
      try {
        // Read after the await: `finalized += await …` would add to a value read before it.
        const closed = await closeCustomer(run, next);
        finalized += closed.finalized.length;
      } catch (error) {
        onError(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, work));
  return { finalized };
}

/**
 * Closes ended periods in the background (the clock decides what has ended): at start, every
 * `intervalMs`, and when asked (`run`, which a test-clock advance awaits). A run that was down
 * for several periods closes each of them, oldest first. Any number of processes may run it:
 * each customer is closed under a lock, and what is closed is never closed again.
 */
export function startPeriodClose(ctx: ServiceContext, options: PeriodCloseOptions = {}): PeriodClose {
  const concurrency = options.concurrency ?? (ctx.db.engine === 'postgres' ? 4 : 1);
  const onError = options.onError ?? (() => {});
  let stopped = false;

  /** Closes what is due now, or, while a run is under way, right after it. */
  const run = coalesced(() => (stopped ? Promise.resolve({ finalized: 0 }) : closeDue(ctx, { concurrency, onError, stopped: () => stopped })));

  const timer = setInterval(() => {
    if (!run.busy) run().catch(onError);
  }, options.intervalMs ?? 60_000);
  timer.unref();
  const first = setTimeout(() => run().catch(onError), 0);
  first.unref();
  // A seat increase billed immediately is invoiced by the edit that makes it (`billIncreasesInForce`);
  // customers whose contracts changed are closed again right after, one at a time and each once
  // however often it changed meanwhile, for what a contract write brought due otherwise.
  const changed = new Map<string, { tenantId: string; customerId: string }>();
  let draining: Promise<void> | undefined;
  const drain = async () => {
    for (let next = changed.entries().next(); !next.done && !stopped; next = changed.entries().next()) {
      changed.delete(next.value[0]);
      await closeCustomer(ctx, next.value[1]).catch(onError);
    }
  };
  const unsubscribe = ctx.signals?.on('accountChanged', ({ tenantId, customerIds, cause }) => {
    if (cause !== 'contract' || stopped) return;
    for (const customerId of customerIds) changed.set(`${tenantId} ${customerId}`, { tenantId, customerId });
    draining ??= drain().finally(() => (draining = undefined));
  });

  return {
    run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(first);
      unsubscribe?.();
      changed.clear();
      await Promise.allSettled([run.settled(), draining]);
    },
  };
}
