import { Decimal } from '../../../lib/money.js';
import type { Balance, Draft } from '../../account/service.js';

/** What one replay of a customer came to, in one credit type. */
export interface ReplayOutcome {
  /** The invoices' totals, in cents (the rate cards' fiat unit), as period close would finalise them. */
  total: Decimal;
  /** What the usage and seats priced in the credit type cost, whether the pool paid or not. */
  creditsBurned: Decimal;
  /** When the pool of the credit type ran out (or, in the open period, will at the recent burn); null when it lasted. */
  runsOutAt: Date | null;
  /** Whether charges in the credit type went past what the pool held (overage). */
  crossesPool: boolean;
  /** The pool's remaining balance at the window's start, each UTC midnight in it, and its end (or now): null when no segment of the pool is active then. */
  burnDown: { at: Date; remaining: Decimal | null }[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const RECENT_MS = 7 * DAY_MS;
const zero = new Decimal(0);

interface Spend {
  startingAt: number;
  /** The slice's end, or now for the slice under way: its usage after now has not happened. */
  endingBefore: number;
  amount: Decimal;
}

/**
 * The outcome of a replay (pure): `drafts` are the replayed periods' invoices, `invoiceTotals` their
 * finalised totals, `balances` the credits and commits as the replay left them, `asOf` the
 * instant it looked from and `open` whether that is now.
 *
 * The run-out date follows the pool of `creditTypeId` through the window: at each instant, the
 * pool holds what its segments active then were given so far (grants, seat adjustments, manual
 * entries, deductions recorded before the window), and has paid the usage charged in the credit
 * type since the earliest of them started, each day's charge spread evenly over the day (the
 * replay cuts its periods at midnight), as the dashboard's pool chart spreads it. It runs out at
 * the first instant the usage reaches what it holds. When it has not by now, in a window that
 * reaches now, the date is projected as the dashboard projects it (docs/rules.md rule 24):
 * now + balance ÷ the burn per day of the last 7 days, when that falls before the pool ends.
 *
 * Example: 1,000 credits on April 1, 50 a day of usage: runs out on April 21 at 00:00; at a
 * doubled burn rate, 100 a day, on April 11 at 00:00.
 */
export function replayOutcome({
  drafts,
  invoiceTotals,
  balances,
  creditTypeId,
  asOf,
  open,
  window,
}: {
  drafts: readonly Draft[];
  invoiceTotals: readonly Decimal[];
  balances: readonly Balance[];
  creditTypeId: string;
  asOf: Date;
  open: boolean;
  /** The simulated window: where the burn-down starts and ends (default: no burn-down). */
  window?: { from: Date; to: Date };
}): ReplayOutcome {
  const total = invoiceTotals.reduce((sum, amount) => sum.add(amount), zero);
  let creditsBurned = zero;
  let overage = zero;
  const perSlice = new Map<number, Spend>();
  // The replay of a window that reaches now looks from now; one of a past window, from its last instant.
  const until = open ? asOf.getTime() : asOf.getTime() + 1;
  for (const draft of drafts) {
    for (const line of draft.lines) {
      if (line.creditTypeId !== creditTypeId) continue;
      creditsBurned = creditsBurned.add(line.total);
      overage = overage.add(line.overage);
      for (const charge of line.charges) {
        const startingAt = charge.slice.startingAt.getTime();
        const spend = perSlice.get(startingAt) ?? { startingAt, endingBefore: Math.min(charge.slice.endingBefore.getTime(), until), amount: zero };
        spend.amount = spend.amount.add(charge.amount);
        perSlice.set(startingAt, spend);
      }
    }
    for (const line of draft.seatLines) {
      if (line.creditTypeId !== creditTypeId) continue;
      creditsBurned = creditsBurned.add(line.amount);
      overage = overage.add(line.overage);
    }
  }
  const spends = [...perSlice.values()].filter((spend) => spend.endingBefore > spend.startingAt).sort((a, b) => a.startingAt - b.startingAt);
  const pool = new Pool(balances.filter((balance) => balance.creditTypeId === creditTypeId && !balance.archivedAt));
  const runsOutAt = runOut(spends, pool) ?? (open ? projectedRunOut(spends, pool, asOf) : null);
  return { total, creditsBurned, runsOutAt, crossesPool: overage.gt(0), burnDown: window ? burnDownOf(spends, pool, window.from.getTime(), Math.min(window.to.getTime(), until)) : [] };
}

/** The pool's segments, and what they hold at an instant. */
class Pool {
  private readonly segments;
  constructor(balances: readonly Balance[]) {
    this.segments = balances.flatMap((balance) => balance.segments);
  }

  /** The segments active at `at`: what they were given by then, the earliest start and the latest end; undefined when none is. */
  at(at: number): { holds: Decimal; since: number; until: number } | undefined {
    const active = this.segments.filter((segment) => segment.startingAt.getTime() <= at && at < segment.endingBefore.getTime());
    if (active.length === 0) return undefined;
    const holds = active
      .flatMap((segment) => segment.ledger.entries)
      .filter((entry) => !entry.live && entry.timestamp.getTime() <= at)
      .reduce((sum, entry) => sum.add(entry.amount), zero);
    return { holds, since: Math.min(...active.map((segment) => segment.startingAt.getTime())), until: Math.max(...active.map((segment) => segment.endingBefore.getTime())) };
  }
}

/** What was spent in `[from, to)`, each slice's amount spread evenly over it. */
function spentBetween(spends: readonly Spend[], from: number, to: number): Decimal {
  return spends.reduce((sum, spend) => {
    const inside = Math.min(spend.endingBefore, to) - Math.max(spend.startingAt, from);
    return inside > 0 ? sum.add(spend.amount.mul(inside).div(spend.endingBefore - spend.startingAt)) : sum;
  }, zero);
}

function runOut(spends: readonly Spend[], pool: Pool): Date | null {
  for (const spend of spends) {
    if (!spend.amount.gt(0)) continue;
    const held = pool.at(spend.endingBefore - 1);
    if (!held) continue;
    const before = spentBetween(spends, held.since, spend.startingAt);
    if (before.add(spend.amount).lt(held.holds)) continue;
    const share = Decimal.max(held.holds.sub(before), 0).div(spend.amount);
    return new Date(spend.startingAt + share.mul(spend.endingBefore - spend.startingAt).round().toNumber());
  }
  return null;
}

function projectedRunOut(spends: readonly Spend[], pool: Pool, asOf: Date): Date | null {
  const now = asOf.getTime();
  const held = pool.at(now);
  if (!held || spends.length === 0) return null;
  const recentFrom = Math.max(now - RECENT_MS, held.since, spends[0]!.startingAt);
  const days = new Decimal(now - recentFrom).div(DAY_MS);
  if (!days.gt(0)) return null;
  const burnPerDay = spentBetween(spends, recentFrom, now).div(days);
  if (!burnPerDay.gt(0)) return null;
  const balance = Decimal.max(held.holds.sub(spentBetween(spends, held.since, now)), 0);
  const runsOut = now + balance.div(burnPerDay).mul(DAY_MS).round().toNumber();
  return runsOut < held.until ? new Date(runsOut) : null;
}

/**
 * The pool's remaining balance day by day over `[from, to]`: at `from`, each UTC midnight after it
 * and `to` (the window's end, or now), what the segments active then hold minus the usage charged
 * since the earliest of them started (as `runOut` reads it), never below 0. The last point looks at
 * the pool just before `to`, whose segments may end there. Example: 1,000 on April 1 and 50 a day:
 * 1,000 at April 1, 950 at April 2, …, 0 from April 21 to May 1.
 */
function burnDownOf(spends: readonly Spend[], pool: Pool, from: number, to: number): ReplayOutcome['burnDown'] {
  if (to <= from) return [];
  const instants = [from];
  for (let at = Math.floor(from / DAY_MS) * DAY_MS + DAY_MS; at < to; at += DAY_MS) instants.push(at);
  instants.push(to);
  return instants.map((at) => {
    const held = pool.at(at === to ? at - 1 : at);
    return { at: new Date(at), remaining: held ? Decimal.max(held.holds.sub(spentBetween(spends, held.since, at)), 0) : null };
  });
}
