import { addExactly, isNegative, isPositive, subExactly, ZERO, type Decimal } from '../../../lib/money.js';
import { canFund, drawRecords, orderOf, type ChargeDraws, type Drawdown, type FundingCharge, type FundingSegment } from './drawdown.js';

/** The same charge in two drawdowns: the same line, seat, slice and period, in the same place. */
const sameCharge = (a: FundingCharge, b: FundingCharge) =>
  a.lineId === b.lineId &&
  a.seatId === b.seatId &&
  Boolean(a.seat) === Boolean(b.seat) &&
  a.startingAt.getTime() === b.startingAt.getTime() &&
  a.endingBefore.getTime() === b.endingBefore.getTime() &&
  a.periodEnded?.getTime() === b.periodEnded?.getTime();

/** Whether two charges drew from the same segments in the same order, and both or neither left something uncovered. */
const samePattern = (a: ChargeDraws, b: ChargeDraws) =>
  a.takes.length === b.takes.length && a.takes.every((take, i) => take.segmentId === b.takes[i]!.segmentId) && (a.over === undefined) === (b.over === undefined);

/** `map` with `key`'s amount moved by `delta` (an entry that exists). */
const shifted = (map: Map<string, Decimal>, key: string, delta: Decimal) => map.set(key, addExactly(map.get(key)!, delta));

/**
 * The drawdown of `charges` from `segments`, derived from `previous` (a drawdown of the same
 * segments and the same charges, some of whose amounts were different) when that gives exactly
 * what `drawDown` would; undefined when it cannot, and the caller draws down afresh.
 *
 * It can when no shared segment ran short in `previous` nor would now, no charge gives back, and
 * no segment holds a rolled-over remainder: then a charge's draws depend on no other seat's. A
 * seat's own segments fund only that seat's charges, and every shared segment a charge reaches
 * covers all that is left of it. So only the charges of the seats whose amounts changed (the
 * charges naming no seat counting as one) are drawn again, against their own segments from what
 * they held, each taking what is left from the first shared segment that may fund it. The result
 * is `previous` with those charges' draws replaced, provided each drew from the same segments in
 * the same order as before (so every map keeps its order) and every shared segment still holds
 * something at the end, which means it never ran short along the way.
 *
 * After an ingest for one seat of a hundred, this redraws one seat's parts instead of every
 * seat's, with no sort.
 */
export function redrawDown(previous: Drawdown | undefined, { segments, charges }: { segments: readonly FundingSegment[]; charges: readonly FundingCharge[] }): Drawdown | undefined {
  const record = previous && drawRecords.get(previous);
  if (!previous || !record || record.contended || record.segments !== segments || record.charges.length !== charges.length) return undefined;
  const seats = new Set<string | undefined>();
  for (let i = 0; i < charges.length; i++) {
    const now = charges[i]!;
    const before = record.charges[i]!;
    if (isNegative(now.amount) || !sameCharge(now, before)) return undefined;
    if (now.amount !== before.amount && !now.amount.eq(before.amount)) seats.add(now.seatId);
  }
  if (seats.size === 0) {
    drawRecords.set(previous, { ...record, charges });
    return previous;
  }

  const { bySegmentId, candidatesFor } = orderOf(segments);
  const held = new Map<string, Decimal>();
  const redrawn = new Map<number, ChargeDraws>();
  for (const index of record.order) {
    const charge = charges[index]!;
    if (!seats.has(charge.seatId)) continue;
    const draws: ChargeDraws = { takes: [], over: undefined };
    let left = charge.amount;
    for (const segment of candidatesFor(charge.seatId)) {
      if (!isPositive(left)) break;
      if (!canFund(segment, charge)) continue;
      if (segment.seatId === undefined) {
        // Never short (checked below): it covers what is left. One empty from the start is passed over, as before.
        if (!isPositive(segment.available)) continue;
        draws.takes.push({ segmentId: segment.segmentId, amount: left });
        left = ZERO;
        break;
      }
      const room = held.get(segment.segmentId) ?? segment.available;
      const take = left.lte(room) ? left : room;
      if (!isPositive(take)) continue;
      held.set(segment.segmentId, subExactly(room, take));
      draws.takes.push({ segmentId: segment.segmentId, amount: take });
      left = subExactly(left, take);
    }
    if (isPositive(left)) draws.over = left;
    if (!samePattern(draws, record.draws[index]!)) return undefined;
    redrawn.set(index, draws);
  }

  // The previous maps, with the redrawn charges' draws replaced: the same keys, in the same order.
  const drawn = new Map(previous.drawn);
  const applied = new Map(previous.applied);
  const overage = new Map(previous.overage);
  const copied = new Set<string>();
  const appliedTo = (lineId: string) => {
    if (!copied.has(lineId)) {
      copied.add(lineId);
      applied.set(lineId, new Map(previous.applied.get(lineId)));
    }
    return applied.get(lineId)!;
  };
  for (const [index, draws] of redrawn) {
    const before = record.draws[index]!;
    const { lineId } = charges[index]!;
    draws.takes.forEach((take, i) => {
      const delta = subExactly(take.amount, before.takes[i]!.amount);
      if (delta.isZero()) return;
      shifted(drawn, take.segmentId, delta);
      shifted(appliedTo(lineId), take.segmentId, delta);
    });
    if (draws.over !== undefined) shifted(overage, lineId, subExactly(draws.over, before.over!));
  }
  for (const [segmentId, amount] of drawn) {
    const segment = bySegmentId.get(segmentId)!;
    if (segment.seatId === undefined && !isPositive(subExactly(segment.available, amount))) return undefined;
  }

  const draws = [...record.draws];
  for (const [index, redrawnDraws] of redrawn) draws[index] = redrawnDraws;
  const result = { drawn, applied, overage };
  drawRecords.set(result, { segments, charges, order: record.order, draws, contended: false });
  return result;
}
