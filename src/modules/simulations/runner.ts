import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ServiceContext } from '../../lib/context.js';
import type { Database } from '../../lib/db/database.js';
import * as repo from './repo.js';
import { requestOf, storedResult } from './stored.js';
import { simulateCustomer } from './simulate.js';

/** How long a process may go without word before another takes its simulation over (wall-clock time). */
export const DEFAULT_LEASE_MS = 60_000;

export interface SimulationRunnerOptions {
  /** How often unfinished simulations are looked for (default 5 s); new ones in this process wake it at once. */
  intervalMs?: number | undefined;
  leaseMs?: number | undefined;
  onError?: (error: unknown) => void;
}

export interface SimulationRunner {
  /** The lease holder's name. */
  owner: string;
  leaseMs: number;
  /** Runs what is unfinished now; resolves when nothing is left. */
  wake(): Promise<void>;
  stop(): Promise<void>;
  /** True once `stop` was called: a run stops between two customers. */
  readonly stopped: boolean;
}

const runners = new WeakMap<Database, SimulationRunner>();

/** The runner of this process for `db`, if it runs simulations. */
export function runnerFor(db: Database): SimulationRunner | undefined {
  return runners.get(db);
}

/**
 * Runs a simulation to its end under a lease: takes it (the given one, or the oldest unfinished
 * whose lease is free or lapsed), replays its customers from the first without a stored result —
 * so a simulation a stopped process left goes on where it stopped — storing each result and
 * renewing the lease as it goes, and marks it completed (or failed, with the error). It stops
 * between two customers when cancelled, taken over, or when the runner stops. Each customer is
 * replayed as of the simulation's `as_of`, so a simulation resumed later answers as it would have.
 * Returns false when there was nothing to take.
 */
export async function runSimulation(ctx: ServiceContext, runner: SimulationRunner, simulation?: { tenantId: string; id: string }): Promise<boolean> {
  const leaseUntil = () => new Date(Date.now() + runner.leaseMs);
  const row = await repo.claim(ctx.db, { owner: runner.owner, at: new Date(), until: leaseUntil(), simulation });
  if (!row) return false;
  const { tenant_id: tenantId, id } = row;
  const { request, asOf } = requestOf(row.request);
  // One simulation reads the catalog once, however many customers it replays, all as of `as_of`.
  const at: ServiceContext = { ...ctx, clock: { now: () => asOf }, memo: new Map() };
  try {
    for (let position = await repo.resultCount(ctx.db, tenantId, id); position < row.customer_ids.length; position += 1) {
      if (runner.stopped || !(await repo.renewLease(ctx.db, { tenantId, id, owner: runner.owner, until: leaseUntil() }))) return true;
      const customerId = row.customer_ids[position]!;
      const result = await simulateCustomer(at, { tenantId, customerId, request });
      await repo.insertResult(ctx.db, tenantId, id, { position, customer_id: customerId, result: storedResult(result) });
    }
    await repo.finish(ctx.db, { tenantId, id, owner: runner.owner, status: 'completed', error: null, at: ctx.clock.now() });
  } catch (error) {
    await repo.finish(ctx.db, { tenantId, id, owner: runner.owner, status: 'failed', error: error instanceof Error ? error.message : String(error), at: ctx.clock.now() });
  }
  return true;
}

/**
 * Runs pricing simulations in the background: at start (taking up those a stopped process left),
 * every `intervalMs`, and when this process creates one. One at a time per process; any number of
 * processes may run it, each simulation being held by one lease. Stopping lets go of the lease,
 * so another process (or this one, started again) goes on at once.
 */
export function startSimulationRunner(ctx: ServiceContext, options: SimulationRunnerOptions = {}): SimulationRunner {
  const onError = options.onError ?? (() => {});
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  const runDue = async () => {
    while (!stopped && (await runSimulation(ctx, runner))) {
      // Until nothing is left.
    }
  };
  const wake = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await runDue();
        } catch (error) {
          onError(error);
        }
      } while (again && !stopped);
    })().finally(() => (running = undefined));
    return running;
  };
  const runner: SimulationRunner = {
    owner: `${hostname()}:${process.pid}:${randomUUID()}`,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    wake,
    get stopped() {
      return stopped;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      runners.delete(ctx.db);
      await running;
      await repo.releaseLeases(ctx.db, runner.owner).catch(onError);
    },
  };
  const timer = setInterval(() => void wake(), options.intervalMs ?? 5_000);
  timer.unref();
  runners.set(ctx.db, runner);
  void wake();
  return runner;
}
