import { followChanges, type ChangeFeed } from '../../lib/changeFeed.js';
import { originOf, signalsOf, type RollupAdded, type ServiceContext } from '../../lib/context.js';
import type { Database } from '../../lib/db/database.js';
import { Decimal } from '../../lib/money.js';
import { floorToDay } from '../../lib/time.js';
import type { Period } from '../../lib/periods.js';
import { AccountCache } from './cache.js';
import { completeAccount, planAccount, type AccountInputs, type AccountPlan, type CustomerAccount } from './compute/account.js';
import { mergeUsage, ratePeriod, usageReadFrom, usageWindowOf, type PeriodUsage, type RatedPeriod, type SplitBy, type UsageWindow } from './compute/rating.js';
import { statementPeriodAt, type Contract, type LoadedContracts } from './compute/terms.js';
import type { Balance } from './compute/balances.js';
import { invoiceIdFor } from './compute/account.js';
import { marginalCharges, type HypotheticalUsage } from './compute/marginal.js';
import { loadTerms, loadUsage, type AccountTerms, type CatalogScenario } from './load.js';
import { usageWithRollups } from './compute/usageAdded.js';
import * as usage from '../usage/service.js';

export type { AccountNames, Application, CustomerAccount, Draft, DraftLine, DraftSeatLine } from './compute/account.js';
export { invoiceIdFor } from './compute/account.js';
export type { HypotheticalUsage } from './compute/marginal.js';
export type { Balance, GrantTerms, RecurringSource, StoredGrants } from './compute/balances.js';
export { spendableBalance } from './compute/balances.js';
export type { DerivedSegment } from './compute/derivedGrants.js';
export { amountAt, generatedId } from './compute/derivedGrants.js';
export type { LedgerEntry, LedgerEntryKind } from './compute/segmentLedger.js';
export type { RatedLine, RatedPeriod, SplitBy } from './compute/rating.js';
export type { SliceCharge } from './compute/charges.js';
export { seatLinesOf, type SeatLine } from './compute/seatLines.js';
export { SEGMENT_EVENT_LOOKBACK_MS, segmentEventsDue, type SegmentEvent } from './compute/segmentEvents.js';
export { quantityRowsOfSeats, statementPeriodAt, statementScheduleOf, toQuantityChange, toSeatChange, withLatestAmount, type SubscriptionSeats, type Contract, type LoadedContracts, type RecurringGrant, type Subscription } from './compute/terms.js';
export { customerContracts, loadContracts, type CatalogScenario } from './load.js';

/**
 * The account engine: what a customer holds and owes as of now, computed in one place for every
 * reader (balances, contracts, draft invoices, period close, reports, alerts, the dashboard, the
 * Stripe seat sync). Shaped load → compute: `load.ts` reads, `compute/` derives the grants, rates
 * the open periods, draws down and builds the drafts without I/O or a clock.
 *
 * Once `startAccountEngine` runs for a database, the computed accounts are kept per customer (see
 * `cache.ts`) and dropped when what they derive from changes: in this process on the signals of
 * committed changes, in others through PostgreSQL notifications (`lib/changeFeed.ts`). On
 * PostgreSQL a read is held to a barrier notification (`withEngine`), so it reflects every change
 * acknowledged (by any process) before it began.
 */

interface Engine {
  cache: AccountCache<AccountTerms, CustomerAccount, PeriodUsage[], readonly RollupAdded[]>;
  /** Absent on PGlite, where every change is made in this process. */
  feed: ChangeFeed | undefined;
}

const engines = new WeakMap<Database, Engine>();

/**
 * Keeps computed accounts for `ctx.db` from now on, and follows what changes them: this process's
 * committed changes (the database's signals: usage, accounts, the catalog) and other processes'
 * (LISTEN). Returns the function that stops it; until then every read computes the account anew.
 */
export async function startAccountEngine(ctx: ServiceContext): Promise<() => Promise<void>> {
  const signals = signalsOf(ctx.db);
  const cache = new AccountCache<AccountTerms, CustomerAccount, PeriodUsage[], readonly RollupAdded[]>();
  const feed = await followChanges(ctx.db, {
    origin: originOf(signals),
    onChange(change) {
      if (change.kind === 'catalog') cache.tenantChanged(change.tenantId);
      else if (change.kind === 'usage') for (const customerId of change.customerIds) cache.usageChanged(change.tenantId, customerId, change.since?.get(customerId));
      else for (const customerId of change.customerIds) cache.termsChanged(change.tenantId, customerId);
    },
    onGap: () => cache.clear(),
  });
  const unsubscribe = [
    signals.on('usageCommitted', ({ tenantId, customerIds, since, rollups, sequence }) => {
      for (const customerId of customerIds) {
        const rows = rollups?.get(customerId);
        cache.usageChanged(tenantId, customerId, since?.get(customerId), rows && sequence !== undefined ? { sequence, rows, size: rows.length } : undefined);
      }
    }),
    signals.on('accountChanged', ({ tenantId, customerIds }) => {
      for (const customerId of customerIds) cache.termsChanged(tenantId, customerId);
    }),
    signals.on('catalogChanged', ({ tenantId }) => cache.tenantChanged(tenantId)),
  ];
  engines.set(ctx.db, { cache, feed });
  return async () => {
    engines.delete(ctx.db);
    for (const off of unsubscribe) off?.();
    await feed?.stop();
  };
}

/**
 * Runs `read` with the engine whose kept accounts it may use (undefined: read from the database):
 * none inside a caller's transaction (it may hold uncommitted changes). On PostgreSQL the read
 * must reflect every change acknowledged before it began, by any process: it runs while the
 * barrier notification travels, and stands if no change to the customer arrived meanwhile (every
 * change acknowledged before the read began had then been applied before it); otherwise it runs
 * again once the barrier is through, and without kept accounts when the feed cannot vouch for
 * them.
 */
async function withEngine<T>(ctx: ServiceContext, tenantId: string, customerId: string, read: (engine: Engine | undefined) => Promise<T>): Promise<T> {
  // Usage through a log: first the writers fold what was acknowledged before this read (usage's `readFence`).
  const timing = ctx.timing;
  if (ctx.readFence) await (timing ? timing.time('fence', ctx.readFence(tenantId, customerId)) : ctx.readFence(tenantId, customerId));
  const engine = ctx.db.transactional ? undefined : engines.get(ctx.db);
  if (!engine?.feed) return read(engine);
  const version = engine.cache.version(tenantId, customerId);
  const optimistic = read(engine);
  // Awaited below in every case but a failed barrier; never left unobserved.
  optimistic.catch(() => undefined);
  const barrier = engine.feed.barrier();
  if (!(await (timing ? timing.time('barrier', barrier) : barrier))) return read(undefined);
  if (engine.cache.version(tenantId, customerId) === version) return optimistic;
  return read(engine);
}

/**
 * The first instant after `now` at which the account could change with no write: a manual entry
 * or a quantity change dated ahead, at any instant (a change at 12:30 adds its seat adjustment
 * and charge at 12:30, not at the next hour). (Everything else that moves with time — periods,
 * segments, rates — turns on an hour, and kept terms hold until the next hour at most.)
 */
function termsValidUntil(terms: AccountTerms, now: Date): Date | null {
  let until: Date | null = null;
  const consider = (at: Date) => {
    if (at > now && (!until || at < until)) until = at;
  };
  for (const entry of terms.stored.entries) consider(entry.timestamp);
  for (const change of terms.loaded.changes) consider(change.starting_at);
  return until;
}

function termsOf(ctx: ServiceContext, engine: Engine | undefined, tenantId: string, customerId: string): Promise<AccountTerms> {
  const load = () => (ctx.timing ? ctx.timing.time('terms', loadTerms(ctx, { tenantId, customerId })) : loadTerms(ctx, { tenantId, customerId }));
  if (!engine) return load();
  const now = ctx.clock.now();
  return engine.cache.terms(tenantId, customerId, now, load, (terms) => termsValidUntil(terms, now));
}

async function computeAccount(
  ctx: ServiceContext,
  engine: Engine | undefined,
  terms: AccountTerms,
  { customerId, tenantId, finalized, previous }: { tenantId: string; customerId: string; finalized?: ReadonlySet<string> | undefined; previous?: CustomerAccount | undefined },
): Promise<CustomerAccount> {
  const inputs: AccountInputs = { customerId, ...terms, now: ctx.clock.now(), finalized };
  const plan = finalized ? planAccount(inputs) : planOf(terms, inputs);
  // Timed from before the call: kept usage is brought up to date in it when no read is needed (`ServerTiming`).
  const reading = performance.now();
  const usage = await usageOf(ctx, engine, { tenantId, customerId, windows: plan.windows });
  const computing = performance.now();
  ctx.timing?.add('usage', computing - reading);
  const account = completeAccount(inputs, plan, usage, previous);
  ctx.timing?.add('compute', performance.now() - computing);
  return account;
}

/** The plan of kept terms: they are valid only as long as what they derive to stays the same, and so is their plan. */
function planOf(terms: AccountTerms, inputs: AccountInputs): AccountPlan {
  let plan = plans.get(terms);
  if (!plan) {
    plan = planAccount(inputs);
    plans.set(terms, plan);
  }
  return plan;
}

/** What the rollups hold for `windows`: kept per day when the engine runs, so that new usage costs a read of the days it changed only. */
function usageOf(ctx: ServiceContext, engine: Engine | undefined, { tenantId, customerId, windows }: { tenantId: string; customerId: string; windows: UsageWindow[] }): Promise<PeriodUsage[]> {
  if (!engine) return loadUsage(ctx, { tenantId, customerId, windows });
  // The extension is kept with the usage for commits until its next read: it holds the clock, not the request's context.
  const { clock } = ctx;
  return engine.cache.usage(
    tenantId,
    customerId,
    windowsKey(windows),
    (readFrom) => loadUsage(ctx, { tenantId, customerId, windows, byDay: true, readFrom }),
    mergeUsage,
    // The clock read when the kept usage is at hand, just before the re-read.
    (previous, staleFrom) => usageReadFrom(previous, staleFrom, floorToDay(ctx.clock.now())),
    // What this process's ingest added, put in without a read when the hour is a bucket of its own.
    (previous, added, since) => usageWithRollups({ previous, windows, added: added.flat(), since, today: floorToDay(clock.now()), rowWith: usage.rowWithRollup }),
  );
}

const plans = new WeakMap<AccountTerms, AccountPlan>();

/** What a set of usage windows reads: the same key, the same rows. */
function windowsKey(windows: readonly UsageWindow[]): string {
  return JSON.stringify(windows.map((window) => [window.from, window.to, window.slices.map((slice) => slice.startingAt), window.selections, window.uniqueSelections, window.splitBy ?? null]));
}

/**
 * A customer's account as of the clock's now (docs/rules.md rules 9–11): its credits and commits with
 * their ledgers, including the open periods' live deductions, and each live contract's draft.
 * Two reads at the same instant agree.
 *
 * `contracts`: the customer's contracts, when the caller has just read them (in its transaction).
 * `finalized`: invoices among the open periods' that are already finalised (period close, looking
 * at the account as of a period's last instant): their periods are neither drafted nor drawn
 * again, and the deductions they recorded count instead, whatever their date. Either computes
 * the account anew.
 */
export async function customerAccount(
  ctx: ServiceContext,
  { tenantId, customerId, contracts, finalized }: { tenantId: string; customerId: string; contracts?: Contract[] | undefined; finalized?: ReadonlySet<string> | undefined },
): Promise<CustomerAccount> {
  if (contracts || finalized) return computeAccount(ctx, undefined, await loadTerms(ctx, { tenantId, customerId, contracts }), { tenantId, customerId, finalized });
  return withEngine(ctx, tenantId, customerId, (engine) => accountWith(ctx, engine, tenantId, customerId));
}

/** The customer's account, kept by `engine` (computed and kept when not yet), or computed from the database without one. */
function accountWith(ctx: ServiceContext, engine: Engine | undefined, tenantId: string, customerId: string): Promise<CustomerAccount> {
  const terms = termsOf(ctx, engine, tenantId, customerId);
  const compute = async (previous?: CustomerAccount) => computeAccount(ctx, engine, await terms, { tenantId, customerId, previous });
  return engine ? engine.cache.account(tenantId, customerId, terms, compute) : compute();
}

/**
 * `query`, then the customer's account as `customerAccount` reads it, in one round trip: `query`
 * sends the change feed's barrier in its own statement (`notice`: `SELECT pg_notify(channel,
 * payload), …`), so the account reflects every change committed before what `query` read. Without
 * a feed (PGlite, a caller's transaction, the LISTEN connection down) `notice` is undefined and the
 * account is read after `query` as `customerAccount` does. The hard-stop check reads the open holds
 * this way: a hold consumed by an event before its snapshot has that event in the balance.
 */
export async function accountAfter<T>(
  ctx: ServiceContext,
  { tenantId, customerId }: { tenantId: string; customerId: string },
  query: (notice: { channel: string; payload: string } | undefined) => Promise<T>,
): Promise<{ result: T; account: CustomerAccount }> {
  await ctx.readFence?.(tenantId, customerId);
  const engine = ctx.db.transactional ? undefined : engines.get(ctx.db);
  const notice = engine?.feed?.ownBarrier();
  if (!engine || !notice) {
    const result = await query(undefined);
    return { result, account: await customerAccount(ctx, { tenantId, customerId }) };
  }
  const version = engine.cache.version(tenantId, customerId);
  const optimistic = accountWith(ctx, engine, tenantId, customerId);
  // Awaited below in every case but a failed barrier; never left unobserved.
  optimistic.catch(() => undefined);
  const result = await query({ channel: notice.channel, payload: notice.payload });
  if (!(await notice.seen)) return { result, account: await accountWith(ctx, undefined, tenantId, customerId) };
  if (engine.cache.version(tenantId, customerId) === version) return { result, account: await optimistic };
  return { result, account: await accountWith(ctx, engine, tenantId, customerId) };
}

/**
 * A customer's credits and commits as of now without the live deductions of its draft invoices:
 * only what finalised invoices deducted (and manual entries) counts. Drafts are the open
 * periods' and the ended periods' still in their grace period (docs/rules.md rule 18). A pool of
 * 400 with 120 drawn by the open period's usage shows 400 here and 280 in `customerAccount`;
 * once the period closes, both show 280. It is the account's plan (`planAccount`'s `before`),
 * kept with the terms: no usage is read. Like `current`, it leaves out the settled periods of
 * recurring grants, which hold nothing to spend.
 */
export async function balancesWithoutDrafts(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<Balance[]> {
  return withEngine(ctx, tenantId, customerId, async (engine) => {
    const terms = await termsOf(ctx, engine, tenantId, customerId);
    return planOf(terms, { customerId, ...terms, now: ctx.clock.now() }).before;
  });
}

/**
 * The open period of each live contract of the customer, rated as the draft is, with options: every
 * line split per value of the group property `splitBy`, or per combination of values of several
 * (what each user, or each user in each team, spent: spend alerts on group values read it), and
 * the period cut at `cutsOf(period)` (the dashboard's daily burn reads a charge per day).
 */
export async function rateOpenPeriodsFor(
  ctx: ServiceContext,
  { tenantId, customerId, splitBy, cutsOf }: { tenantId: string; customerId: string; splitBy?: SplitBy | undefined; cutsOf?: ((period: Period) => Date[]) | undefined },
): Promise<RatedPeriod[]> {
  return withEngine(ctx, tenantId, customerId, async (engine) => {
    const open = (await termsOf(ctx, engine, tenantId, customerId)).prepared;
    const windows = open.map((prepared) => usageWindowOf({ prepared, cuts: cutsOf?.(prepared.period) ?? [], splitBy }));
    const read = await usageOf(ctx, engine, { tenantId, customerId, windows });
    return open.map((prepared, i) => ratePeriod({ prepared, window: windows[i]!, usage: read[i]! }));
  });
}

/**
 * What usage that has not happened — one event, as the metrics it matches see it — would cost the
 * customer now, per pricing unit: each open period covering now rated with it, less without it
 * (`marginalCharges`), on the same usage and rates as the drafts (the kept account's, when kept).
 * The hard-stop check prices an event with it.
 */
export async function marginalCost(
  ctx: ServiceContext,
  { tenantId, customerId, additions }: { tenantId: string; customerId: string; additions: readonly HypotheticalUsage[] },
): Promise<Map<string, Decimal>> {
  return withEngine(ctx, tenantId, customerId, async (engine) => {
    const terms = await termsOf(ctx, engine, tenantId, customerId);
    const now = ctx.clock.now();
    const plan = planOf(terms, { customerId, ...terms, now });
    const usage = await usageOf(ctx, engine, { tenantId, customerId, windows: plan.windows });
    const costs = new Map<string, Decimal>();
    plan.open.forEach((prepared, i) => {
      for (const [creditTypeId, cost] of marginalCharges({ prepared, window: plan.windows[i]!, usage: usage[i]!, additions, at: now })) {
        costs.set(creditTypeId, (costs.get(creditTypeId) ?? new Decimal(0)).add(cost));
      }
    });
    return costs;
  });
}

/**
 * The customer's billing periods in play: the current one (the usage statement period covering
 * now of its earliest live contract, if any) and, before it, the same contract's ended periods
 * still in their grace period (drafts that late usage counts in).
 */
export async function billingPeriodsInPlay(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<Period[]> {
  const terms = await withEngine(ctx, tenantId, customerId, (engine) => termsOf(ctx, engine, tenantId, customerId));
  const now = ctx.clock.now();
  const current = terms.loaded.contracts
    .filter((contract) => !contract.archived_at)
    .flatMap((contract) => {
      const period = statementPeriodAt(contract, now);
      return period ? [{ contract, period }] : [];
    })
    .sort((a, b) => a.period.startingAt.getTime() - b.period.startingAt.getTime())[0];
  if (!current) return [];
  const ended = terms.prepared.filter((prepared) => prepared.contractId === current.contract.id && prepared.period.endingBefore <= now).map((prepared) => prepared.period);
  return [...ended, current.period];
}

/** What a replay changes besides the catalog (`CatalogScenario`): the credits per seat of every pooled recurring credit or commit. */
export interface ReplayScenario extends CatalogScenario {
  pooledUnitPrice?: Decimal | undefined;
}

/** A customer's account replayed over a window (`replayAccount`). */
export interface Replay {
  /** The account as of `asOf`, the window's periods rated live: each is one of `drafts`. */
  account: CustomerAccount;
  /** The window's last instant, or now while the window is open. */
  asOf: Date;
  /** Whether the window reaches now (its last period is the open one, so far). */
  open: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A customer's account replayed over `[from, to)` under `scenario`, with the engine that bills it:
 * every statement period of its live contracts overlapping the window is rated live, as of the
 * window's last instant (or now, when the window reaches it), exactly as period close looks at a
 * period's last instant, and drawn down; the deductions recorded for those periods' invoices are
 * left out, so the replay draws the pool again itself. The periods are cut at every UTC midnight,
 * so each line's charges say what each day cost. Usage after `to` does not count. Reads only:
 * nothing is written, and the same replay on the same data gives the same account.
 */
export async function replayAccount(
  ctx: ServiceContext,
  { tenantId, customerId, from, to, scenario }: { tenantId: string; customerId: string; from: Date; to: Date; scenario?: ReplayScenario | undefined },
): Promise<Replay> {
  const now = ctx.clock.now();
  const open = to > now;
  const asOf = open ? now : new Date(to.getTime() - 1);
  const at: ServiceContext = { ...ctx, clock: { now: () => asOf } };
  const terms = await loadTerms(at, { tenantId, customerId, replay: { from, to: new Date(asOf.getTime() + 1), scenario } });
  const replayed = new Set(terms.prepared.map((period) => invoiceIdFor(period.contractId, period.period)));
  const entries = terms.stored.entries.filter((entry) => !(entry.kind === 'AUTOMATED_INVOICE_DEDUCTION' && entry.invoice_id && replayed.has(entry.invoice_id)));
  const loaded = scenario?.pooledUnitPrice ? withPooledUnitPrice(terms.loaded, scenario.pooledUnitPrice) : terms.loaded;
  const days: Date[] = [];
  for (let day = Math.ceil(from.getTime() / DAY_MS) * DAY_MS; day < to.getTime() && day <= asOf.getTime(); day += DAY_MS) days.push(new Date(day));
  const inputs: AccountInputs = { customerId, ...terms, loaded, stored: { ...terms.stored, entries }, now: asOf, cuts: days };
  const plan = planAccount(inputs);
  // A window that ends inside a period reads its usage up to the window's end only.
  const windows = open ? plan.windows : plan.windows.map((window) => (window.to > to ? { ...window, to } : window));
  const usage = await loadUsage(ctx, { tenantId, customerId, windows });
  return { account: completeAccount(inputs, { ...plan, windows }, usage), asOf, open };
}

/** The contracts' terms with every pooled recurring grant giving `unitPrice` per seat, in every period. */
function withPooledUnitPrice(loaded: LoadedContracts, unitPrice: Decimal): LoadedContracts {
  return {
    ...loaded,
    sources: loaded.sources.map((recurring) =>
      recurring.terms.subscriptionConfig?.allocation !== 'POOLED'
        ? recurring
        : {
            ...recurring,
            source: {
              ...recurring.source,
              terms: { ...recurring.source.terms, unitPrice },
              amountChanges: recurring.source.amountChanges?.map((change) => ({ ...change, unitPrice })),
            },
          },
    ),
  };
}
