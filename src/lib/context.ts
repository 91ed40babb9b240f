import { randomUUID } from 'node:crypto';
import { publishChanges } from './changeFeed.js';
import type { Clock } from './clock.js';
import { databaseWithin, type Database } from './db/database.js';
import { TypedEmitter } from './emitter.js';
import type { Decimal } from './money.js';
import type { ServerTiming } from './serverTiming.js';

/** New usage of a tenant is committed: `customerIds` are the customers with new events (no unknown ones), each once. */
export interface UsageCommitted {
  tenantId: string;
  customerIds: readonly string[];
  /** Per customer, the billable metrics its new events matched (empty when they matched none). */
  metricIds: ReadonlyMap<string, ReadonlySet<string>>;
  /** Per customer whose new events a metric matched, the hour of the earliest of them: its rollups changed from that hour on (absent when none matched). */
  since?: ReadonlyMap<string, Date>;
  /**
   * What the commit added to the rollups, per customer of `since` (absent when the signal comes
   * from elsewhere, such as another node of a usage log): with `sequence`, taken (`nextSequence`)
   * just before the commit, a process that kept a customer's usage as read before that number
   * was taken can add these rows to it instead of reading them back.
   */
  rollups?: ReadonlyMap<string, readonly RollupAdded[]>;
  sequence?: number;
}

/** What one commit added to one row of a customer's rollups (`usage_rollups`): its key, and the events' count, sum, greatest and latest value. */
export interface RollupAdded {
  metricId: string;
  /** The group key's property names, sorted; [] for the metric's total. */
  groupKey: readonly string[];
  hourMs: number;
  /** The events' values for `groupKey`, in its order. */
  groupValues: readonly string[];
  eventCount: number;
  /** The sum of the aggregated values (SUM, MAX, LATEST); 0 for COUNT and UNIQUE. */
  valueSum: Decimal;
  /** The greatest aggregated value; null for COUNT and UNIQUE. */
  valueMax: Decimal | null;
  /** The value of the event with the greatest (timestamp, transaction id); null for COUNT and UNIQUE. */
  latest: { value: Decimal; atMs: number; transactionId: string } | null;
}

/** One ingest transaction committed: how many requests and events it held, and what became of the events. */
export interface IngestBatchCommitted {
  requests: number;
  /** Events received (after validation), duplicates included. */
  events: number;
  /** New events stored. */
  accepted: number;
  /** Events ignored because their transaction_id was already stored or repeated within the batch. */
  duplicates: number;
  /** New events stored with no customer: their customer_id was neither a customer id nor an ingest alias of the tenant. */
  unmatched: number;
  /** From the start of the transaction to the end of its commit. */
  seconds: number;
}

/** Changes other parts of the process react to once they are committed. */
export interface Signals {
  /** An ingest transaction committed new usage of a tenant (one per tenant with new events). */
  usageCommitted: UsageCommitted;
  /** An ingest transaction committed (for metrics). */
  ingestBatchCommitted: IngestBatchCommitted;
  /**
   * What a customer holds or owes may have moved: contracts, seats, credits, commits or manual
   * entries changed, or period close recorded a finalised invoice's deductions (`invoice`: the
   * balances stay as they were, only their ledgers' entries move from live to recorded).
   */
  accountChanged: { tenantId: string; customerIds: readonly string[]; cause: 'contract' | 'balance' | 'invoice' };
  /** The tenant's pricing catalog changed (rates, products, billable metrics, pricing units): any of its customers' accounts may have moved. */
  catalogChanged: { tenantId: string };
  /** An alert was created or archived: evaluators reload the tenant's alerts (and evaluate a new all-customer alert). */
  alertsChanged: { tenantId: string; evaluateEveryCustomer: boolean };
  /** Webhook events were committed to the outbox: the delivery worker need not wait for its next poll. */
  outboxWritten: { tenantId: string };
  /** Invoices were finalised: the Stripe push worker need not wait for its next poll. */
  invoicesFinalized: { tenantId: string };
}

/** What every service needs from the outside world: the database and the clock. */
export interface ServiceContext {
  db: Database;
  clock: Clock;
  /** In-process notifications of committed changes; absent where nothing listens (the CLI, one module's tests). */
  signals?: TypedEmitter<Signals> | undefined;
  /**
   * Set when `db` is a transaction that commits after the service returns (a request with an
   * Idempotency-Key): callbacks given to it run once that transaction has committed, and never
   * if it rolls back.
   */
  afterCommit?: ((callback: () => void) => void) | undefined;
  /**
   * Set for a batch that reads the same catalog (rate cards, rates, products, metrics) for many
   * customers, such as one period-close run: lookups that go through `memoized` are made once per
   * batch. Absent for requests, which always read the catalog as it is.
   */
  memo?: Map<string, Promise<unknown>> | undefined;
  /** The invoice grace period, in hours, of tenants that set none (`ALLOT_INVOICE_GRACE_HOURS`; 24 when absent). */
  invoiceGracePeriodHours?: number | undefined;
  /**
   * Set when usage goes through a log (`ALLOT_NATS_URL`): resolves once every event of the
   * customer acknowledged before the call is folded into the database, or throws a 503 when that
   * takes longer than its bound. Account reads wait for it first.
   */
  readFence?: ((tenantId: string, customerId: string) => Promise<void>) | undefined;
  /** Set per request with `ALLOT_SERVER_TIMING`: the stages of its work, answered in the `Server-Timing` header. */
  timing?: ServerTiming | undefined;
}

/** `load()` once per key within the context's memo (a batch), or every time without one. A failed load is not kept. */
export function memoized<T>(ctx: ServiceContext, key: string, load: () => Promise<T>): Promise<T> {
  const memo = ctx.memo;
  if (!memo) return load();
  const hit = memo.get(key) as Promise<T> | undefined;
  // A shared load that failed (perhaps in another caller's transaction) is made again with this caller's.
  if (hit) return hit.catch(() => load());
  const loading = load();
  memo.set(key, loading);
  loading.catch(() => memo.delete(key));
  return loading;
}

/**
 * Runs `work` in one transaction, with a context whose database is that transaction; what it
 * signals after commit is emitted once the transaction (and any it runs within) has committed.
 */
export async function inTransaction<T>(ctx: ServiceContext, work: (txContext: ServiceContext) => Promise<T>): Promise<T> {
  const committed: (() => void)[] = [];
  const result = await ctx.db.transaction((tx) =>
    work({ ...ctx, db: databaseWithin(tx, ctx.db.engine), afterCommit: (callback) => committed.push(callback) }),
  );
  for (const callback of committed) whenCommitted(ctx, callback);
  return result;
}

/** Runs `callback` once what `ctx` wrote is committed: now, or when the transaction it runs within commits. */
function whenCommitted(ctx: ServiceContext, callback: () => void): void {
  if (ctx.afterCommit) ctx.afterCommit(callback);
  else callback();
}

const signalsByDatabase = new WeakMap<Database, TypedEmitter<Signals>>();
const origins = new WeakMap<TypedEmitter<Signals>, string>();

/**
 * Names the holder of `signals` in the changes it announces to other processes (`lib/changeFeed.ts`),
 * so that it can skip its own when they come back: it has applied them through `signals` already.
 */
export function originOf(signals: TypedEmitter<Signals>): string {
  let origin = origins.get(signals);
  if (!origin) origins.set(signals, (origin = randomUUID()));
  return origin;
}

/**
 * The in-process signals of committed changes on `db`: one emitter per database handle, so that
 * work that has the database but no request context (the ingest batcher) signals to the same
 * listeners as the services do through `ctx.signals`.
 */
export function signalsOf(db: Database): TypedEmitter<Signals> {
  let signals = signalsByDatabase.get(db);
  if (!signals) signalsByDatabase.set(db, (signals = new TypedEmitter<Signals>()));
  return signals;
}

/**
 * Emits `name` once what the service wrote is committed: now, when the service's own transaction
 * has already committed, or when the request's transaction commits.
 */
export function signalAfterCommit<Name extends keyof Signals>(ctx: ServiceContext, name: Name, payload: Signals[Name]): void {
  const signals = ctx.signals;
  if (signals) whenCommitted(ctx, () => signals.emit(name, payload));
}

/**
 * Announces that what `customerIds` hold or owe changed: to this process once the change is
 * committed (`accountChanged`), and to other processes on the same PostgreSQL through a
 * notification sent in the change's transaction, so that it is delivered when the change commits
 * and never without it. Every caller announces inside the transaction that makes the change.
 */
export async function announceAccountChange(ctx: ServiceContext, payload: Signals['accountChanged']): Promise<void> {
  await publishChanges(ctx.db, ctx.db.engine, [{ kind: 'account', tenantId: payload.tenantId, customerIds: payload.customerIds }], ctx.signals && originOf(ctx.signals));
  signalAfterCommit(ctx, 'accountChanged', payload);
}

/** Announces a change to the tenant's pricing catalog, as `announceAccountChange` does for a customer's account. */
export async function announceCatalogChange(ctx: ServiceContext, payload: Signals['catalogChanged']): Promise<void> {
  await publishChanges(ctx.db, ctx.db.engine, [{ kind: 'catalog', tenantId: payload.tenantId }], ctx.signals && originOf(ctx.signals));
  signalAfterCommit(ctx, 'catalogChanged', payload);
}
