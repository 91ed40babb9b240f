import { Decimal } from '../../lib/money.js';
import type { Balance } from '../../modules/account/service.js';
import type { SliceCharge } from '../../modules/account/service.js';
import type { Unit } from '../format.js';

/** A customer's credits and commits of one credit type over their current segments: the pool chart. */
export interface Pool {
  unit: Unit;
  /** What the customer can spend now: the sum of the grants' balances (what `listBalances` shows). */
  balance: Decimal;
  /** Everything put in so far: segment starts, seat adjustments, manual entries, rollovers. */
  granted: Decimal;
  window: { startingAt: Date; endingBefore: Date };
  /** The balance at each midnight of the window up to now, just before and at each movement, and now. */
  points: { at: Date; available: Decimal }[];
  /** What was put in or taken out by hand, and when. */
  /** What was added, one movement per instant and kind: 2,000 seats' credits granted at once are one row of 2,000. */
  movements: { at: Date; kind: string; amount: Decimal; count: number }[];
  /** The usage burn per day over the last seven days (or since the period or the window started, when later). */
  burnPerDay: Decimal;
  /** When the balance reaches 0 at that burn; null when it lasts past the window (or nothing burns). */
  runOutAt: Date | null;
  /** The balance from now to the run-out date or the window's end, at that burn. */
  projection: { at: Date; available: Decimal }[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const RECENT_MS = 7 * DAY_MS;
const zero = new Decimal(0);

/**
 * The pool of one credit type (pure). Its line starts at what was granted and moves by three
 * things: what was added (segment starts, seat adjustments, manual entries and rollovers, at their
 * time), recorded invoice deductions (at their time), and the open period's live drawdown. The live
 * drawdown is one amount (the draft's), so it is spread over time in proportion to the day-by-day
 * usage charges in this credit type (`charges`, the open period rated per day): the line ends at
 * the balance exactly, and where usage is priced flat and stays within the pool it is exact all along.
 *
 * Example: 5,000 granted on the 1st, 1,000 used evenly over 10 days → 4,900 at the end of day 1,
 * 4,000 on the 11th; at 100 a day the 4,000 left run out 40 days later (null if the month ends first).
 */
export function poolOf({ unit, balances, charges, now }: { unit: Unit; balances: readonly Balance[]; charges: readonly SliceCharge[]; now: Date }): Pool | undefined {
  const current = balances.flatMap((balance) => balance.segments.filter((segment) => segment.startingAt <= now && now < segment.endingBefore));
  if (current.length === 0) return undefined;
  const from = new Date(Math.min(...current.map((segment) => segment.startingAt.getTime())));
  const to = new Date(Math.max(...current.map((segment) => segment.endingBefore.getTime())));
  const entries = current.flatMap((segment) => segment.ledger.entries);
  const added = entries.filter((entry) => entry.kind !== 'AUTOMATED_INVOICE_DEDUCTION' && entry.kind !== 'EXPIRATION' && entry.timestamp <= now);
  const recorded = entries.filter((entry) => entry.kind === 'AUTOMATED_INVOICE_DEDUCTION' && !entry.live && entry.timestamp <= now);
  const live = entries.filter((entry) => entry.live).reduce((total, entry) => total.add(entry.amount), zero);
  // Usage charges between `a` and `b`: a slice counts in proportion to its part inside, and runs to
  // now at most (its usage after now has not happened).
  const usedBetween = (a: Date, b: Date) =>
    charges.reduce((total, charge) => {
      const start = charge.slice.startingAt.getTime();
      const end = Math.min(charge.slice.endingBefore.getTime(), now.getTime());
      const inside = Math.min(end, b.getTime()) - Math.max(start, a.getTime());
      return end > start && inside > 0 ? total.add(charge.amount.mul(inside).div(end - start)) : total;
    }, zero);
  const usedBy = (at: Date) => usedBetween(from, at);
  const burned = usedBy(now);
  const sumUntil = (list: typeof entries, at: Date) => list.filter((entry) => entry.timestamp <= at).reduce((total, entry) => total.add(entry.amount), zero);
  // The live drawdown follows usage; with no usage charge at all (seat charges alone) it counts from the start.
  const liveBy = (at: Date) => (burned.isZero() ? live : live.mul(usedBy(at)).div(burned));
  const availableAt = (at: Date) => sumUntil(added, at).add(sumUntil(recorded, at)).add(liveBy(at));

  // Each midnight, and both sides of every movement after the start, so a grant is a step, not a slope.
  const instants = new Set<number>();
  for (let at = from.getTime(); at < now.getTime(); at += DAY_MS) instants.add(at);
  for (const entry of added) {
    const at = entry.timestamp.getTime();
    if (at > from.getTime() && at < now.getTime()) instants.add(at - 1).add(at);
  }
  const points: Pool['points'] = [...instants].sort((a, b) => a - b).map((at) => ({ at: new Date(at), available: availableAt(new Date(at)) }));
  const balance = balances.reduce((total, grant) => total.add(grant.balance), zero);
  points.push({ at: now, available: balance });

  // The last seven days, but not before the pool's window or the rated period began (a credit usable
  // since before the period has no charges from before it).
  const ratedFrom = charges.length ? Math.min(...charges.map((charge) => charge.slice.startingAt.getTime())) : now.getTime();
  const recentFrom = new Date(Math.max(from.getTime(), ratedFrom, now.getTime() - RECENT_MS));
  const recentDays = new Decimal(Math.max(0, now.getTime() - recentFrom.getTime())).div(DAY_MS);
  const burnPerDay = recentDays.isZero() ? zero : usedBetween(recentFrom, now).div(recentDays);
  let runOutAt: Date | null = null;
  let projection: Pool['projection'] = [];
  if (burnPerDay.gt(0)) {
    const daysLeft = Decimal.max(balance, 0).div(burnPerDay);
    const runOut = now.getTime() + daysLeft.mul(DAY_MS).round().toNumber();
    if (runOut < to.getTime()) runOutAt = new Date(runOut);
    const end = new Date(Math.min(runOut, to.getTime()));
    projection = [
      { at: now, available: balance },
      { at: end, available: Decimal.max(balance.sub(burnPerDay.mul(new Decimal(end.getTime() - now.getTime()).div(DAY_MS))), 0) },
    ];
  }
  return {
    unit,
    balance,
    granted: sumUntil(added, now),
    window: { startingAt: from, endingBefore: to },
    points,
    movements: movementsOf(added),
    burnPerDay,
    runOutAt,
    projection,
  };
}

/** Additions in time order, those of one kind at one instant (every seat's credit at a period's start) added up. */
function movementsOf(added: readonly { timestamp: Date; kind: string; amount: Decimal }[]): Pool['movements'] {
  const merged = new Map<string, Pool['movements'][number]>();
  for (const entry of [...added].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime())) {
    const key = `${entry.timestamp.getTime()}/${entry.kind}`;
    const same = merged.get(key);
    if (same) merged.set(key, { ...same, amount: same.amount.add(entry.amount), count: same.count + 1 });
    else merged.set(key, { at: entry.timestamp, kind: entry.kind, amount: entry.amount, count: 1 });
  }
  return [...merged.values()];
}
