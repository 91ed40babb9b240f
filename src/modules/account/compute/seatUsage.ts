import { isNegative, isPositive, subExactly, ZERO, type Decimal } from '../../../lib/money.js';
import type { FundingCharge } from './drawdown.js';
import type { RatedLine, RatedPeriod, UsageWindow } from './rating.js';
import { sameSelection } from './usageFold.js';
import type { LoadedContracts } from './terms.js';


/**
 * The usage property naming a seat (`seat_config.seat_group_key`) on a contract with an
 * INDIVIDUAL recurring credit or commit, whose usage must then be split per seat to find what
 * each seat's own credit may pay for; undefined when no grant of the contract is per seat.
 */
export function seatKeyOf(loaded: Pick<LoadedContracts, 'subscriptions' | 'sources'>, contractId: string): string | undefined {
  const perSeat = loaded.sources.some(({ terms }) => terms.contractId === contractId && terms.subscriptionConfig?.allocation === 'INDIVIDUAL');
  if (!perSeat) return undefined;
  return loaded.subscriptions.find((subscription) => subscription.contract_id === contractId && subscription.seats)?.seats?.groupKey;
}

/** `window` reading also what `seatWindow` reads (the rows per seat), so that one read serves both ratings. */
export function withSeatSelections(window: UsageWindow, seatWindow: UsageWindow | undefined): UsageWindow {
  if (!seatWindow) return window;
  const merge = (into: UsageWindow['selections'], more: UsageWindow['selections']) => [...into, ...more.filter((s) => !into.some((t) => sameSelection(t, s.metricId, s.groupKey)))];
  return { ...window, selections: merge(window.selections, seatWindow.selections), uniqueSelections: merge(window.uniqueSelections, seatWindow.uniqueSelections) };
}

/**
 * The usage charges of a rated period as drawdown funds them (docs/rules.md rule 29). Without a
 * per-seat rating, one charge per line and slice. With one (`bySeat`: the same period rated split
 * by the seat group key), each slice's charge of a line is cut into the part of each seat — what
 * that seat's own usage costs, in seat id order, never more than the line's charge left — which
 * the seat's own segments may fund (`seatId`), and the rest (usage naming no seat), which only
 * shared segments fund. Every part keeps the line's id, so the draft's lines are as unsplit.
 * Usage of a seat id that is not assigned has a part too; no segment of its own funds it.
 */
export function usageFundingCharges({
  rated,
  bySeat,
  periodEnded,
  lineIdOf = (line) => line.id,
}: {
  rated: RatedPeriod;
  bySeat?: RatedPeriod | undefined;
  periodEnded: Date | undefined;
  /** The charges' line id (`FundingCharge.lineId`): the line's own by default. */
  lineIdOf?: ((line: RatedLine) => string) | undefined;
}): FundingCharge[] {
  // Per line (product, pricing group, unit) and slice, each seat's part. The lines' own group values, as text once per line.
  const keyOf = (line: RatedLine) => `${line.productId}\u0000${JSON.stringify(line.pricingGroupValues)}\u0000${line.creditTypeId}`;
  const parts = new Map<string, Map<number, Array<{ seatId: string; amount: Decimal }>>>();
  for (const line of bySeat?.lines ?? []) {
    if (!line.splitValue) continue;
    const key = keyOf(line);
    let slices = parts.get(key);
    if (!slices) parts.set(key, (slices = new Map()));
    for (const charge of line.charges) {
      const list = slices.get(charge.slice.startingAt.getTime());
      if (list) list.push({ seatId: line.splitValue, amount: charge.amount });
      else slices.set(charge.slice.startingAt.getTime(), [{ seatId: line.splitValue, amount: charge.amount }]);
    }
  }
  // In seat id order, once per list.
  const bySeatId = (a: { seatId: string }, b: { seatId: string }) => (a.seatId < b.seatId ? -1 : a.seatId > b.seatId ? 1 : 0);
  // The lines come sorted by id, nearly always seat id order already: checked before sorting.
  for (const slices of parts.values()) for (const list of slices.values()) if (list.some((part, i) => i > 0 && bySeatId(list[i - 1]!, part) > 0)) list.sort(bySeatId);
  const charges: FundingCharge[] = [];
  for (const line of rated.lines) {
    const slices = parts.size > 0 ? parts.get(keyOf(line)) : undefined;
    const lineId = lineIdOf(line);
    for (const charge of line.charges) {
      const part = (amount: Decimal, seatId?: string): FundingCharge => {
        const made: FundingCharge = {
          periodEnded,
          lineId,
          contractId: rated.contractId,
          productId: line.productId,
          productTags: line.productTags,
          creditTypeId: line.creditTypeId,
          startingAt: charge.slice.startingAt,
          endingBefore: charge.slice.endingBefore,
          amount,
        };
        if (seatId !== undefined) made.seatId = seatId;
        return made;
      };
      let left = charge.amount;
      const seats = slices?.get(charge.slice.startingAt.getTime()) ?? [];
      if (isPositive(left)) {
        for (const { seatId, amount } of seats) {
          if (!isPositive(amount)) continue;
          // One subtraction says both whether the seat's part fits and what is left.
          const after = subExactly(left, amount);
          if (isNegative(after)) {
            charges.push(part(left, seatId));
            left = ZERO;
            break;
          }
          charges.push(part(amount, seatId));
          left = after;
          if (!isPositive(left)) break;
        }
      }
      if (!left.isZero() || seats.length === 0) charges.push(part(left));
    }
  }
  return charges;
}
