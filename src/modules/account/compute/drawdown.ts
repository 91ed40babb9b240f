import { addExactly, Decimal, isNegative, isPositive, subExactly, sumExactly } from '../../../lib/money.js';
import { rolloverAmount } from './segmentLedger.js';

/** A segment of a credit or commit as drawdown sees it. */
export interface FundingSegment {
  grantId: string;
  segmentId: string;
  kind: 'CREDIT' | 'COMMIT';
  priority: Decimal;
  creditTypeId: string;
  /** Which products it pays for: the ids and tags it names, or every product when both are null. */
  applicableProductIds: readonly string[] | null;
  applicableProductTags: readonly string[] | null;
  /** How many products it applies to (Infinity for all): fewer is drawn first. */
  productScope: number;
  /** The contract it belongs to; null for a credit or commit on the customer, which pays for `applicableContractIds` (all when null). */
  contractId: string | null;
  applicableContractIds: readonly string[] | null;
  startingAt: Date;
  endingBefore: Date;
  /** What it holds before the open period's charges: grants, seat adjustments and recorded movements. */
  available: Decimal;
  /**
   * For the credit holding a segment's rolled-over remainder: the segment it came from and the
   * fraction that rolls over. What rolls over depends on what the charges drew from the source,
   * so it is settled when the sweep reaches this segment's start (the source's end).
   */
  rolloverOf: { segmentId: string; fraction: Decimal } | null;
  /** A seat's own segment (INDIVIDUAL allocation): it funds only charges of usage naming that seat. */
  seatId?: string | undefined;
}

/** A charge of the open period to fund: one product (and pricing group) in one slice. */
export interface FundingCharge {
  /** The line the charge belongs to (a product and its pricing group values on a contract). */
  lineId: string;
  contractId: string;
  productId: string;
  productTags: readonly string[];
  creditTypeId: string;
  startingAt: Date;
  endingBefore: Date;
  /** Negative when the line's usage went down (LATEST): then earlier draws of the line are given back, last first. */
  amount: Decimal;
  /** A seat charge: funded after every usage charge (docs/rules.md rule 10: usage lines first). */
  seat?: boolean | undefined;
  /** The part of a usage charge whose events named this seat (the seat group key's value): a seat's own segments may fund it. */
  seatId?: string | undefined;
  /**
   * The end of the charge's period when that period has ended and is still a draft (in its grace
   * period): its charges are funded before the open periods', oldest period first, as period close
   * will record them.
   */
  periodEnded?: Date | undefined;
}

/** What one charge drew, segment by segment in the order drawn, and what no segment covered. */
export interface ChargeDraws {
  takes: Array<{ segmentId: string; amount: Decimal }>;
  over: Decimal | undefined;
}

/**
 * How a drawdown went, for drawing the next one from it (`redraw.ts`): the segments and charges it
 * was given, the charges' order (indices into `charges`), what each charge drew, and whether a
 * shared segment ever ran short of a charge (then any charge's draws may depend on any other's).
 */
export interface DrawRecord {
  segments: readonly FundingSegment[];
  charges: readonly FundingCharge[];
  order: readonly number[];
  draws: readonly ChargeDraws[];
  /** A shared segment ran dry or short, a charge gave back, or a segment holds a rolled-over remainder. */
  contended: boolean;
}

/** Each drawdown's record, by its result. */
export const drawRecords = new WeakMap<Drawdown, DrawRecord>();

export interface Drawdown {
  /** What the charges drew from each segment (the live deductions of the draft). */
  drawn: Map<string, Decimal>;
  /** Per line, what each segment paid for it, in the order first drawn. */
  applied: Map<string, Map<string, Decimal>>;
  /** Per line, what no segment covered. */
  overage: Map<string, Decimal>;
}

/**
 * Drawdown order (docs/rules.md rule 10): priority, then a seat's own segments before shared ones
 * (rule 29), credits before commits, fewer products, earlier end, earlier start, id.
 */
function fundingOrder(a: FundingSegment, b: FundingSegment): number {
  return (
    a.priority.comparedTo(b.priority) ||
    Number(a.seatId === undefined) - Number(b.seatId === undefined) ||
    (a.kind === b.kind ? 0 : a.kind === 'CREDIT' ? -1 : 1) ||
    (a.productScope === b.productScope ? 0 : a.productScope < b.productScope ? -1 : 1) ||
    a.endingBefore.getTime() - b.endingBefore.getTime() ||
    a.startingAt.getTime() - b.startingAt.getTime() ||
    (a.grantId < b.grantId ? -1 : a.grantId > b.grantId ? 1 : 0) ||
    (a.segmentId < b.segmentId ? -1 : a.segmentId > b.segmentId ? 1 : 0)
  );
}

/** Whether `segment` may pay for `charge`: same pricing unit, active for the whole slice, applicable to its product and contract. */
export function canFund(segment: FundingSegment, charge: FundingCharge): boolean {
  if (segment.creditTypeId !== charge.creditTypeId) return false;
  if (segment.seatId !== undefined && segment.seatId !== charge.seatId) return false;
  if (segment.startingAt > charge.startingAt || segment.endingBefore < charge.endingBefore) return false;
  if (segment.contractId !== null ? segment.contractId !== charge.contractId : segment.applicableContractIds !== null && !segment.applicableContractIds.includes(charge.contractId)) {
    return false;
  }
  if (segment.applicableProductIds === null && segment.applicableProductTags === null) return true;
  return Boolean(segment.applicableProductIds?.includes(charge.productId) || segment.applicableProductTags?.some((tag) => charge.productTags.includes(tag)));
}

const OVERAGE = Symbol('overage');

/** Two lists each in `fundingOrder`, merged into one in that order. */
function mergeOrdered(a: readonly FundingSegment[], b: readonly FundingSegment[]): FundingSegment[] {
  const merged: FundingSegment[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) merged.push(fundingOrder(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) merged.push(a[i++]!);
  while (j < b.length) merged.push(b[j++]!);
  return merged;
}

/** Segments by id, and per seat id (undefined: usage naming none) the segments that may fund its usage, in funding order. */
export interface SegmentOrder {
  bySegmentId: Map<string, FundingSegment>;
  candidatesFor: (seatId: string | undefined) => readonly FundingSegment[];
}

const orders = new WeakMap<readonly FundingSegment[], SegmentOrder>();

/** The order of `segments` (worked out once per list: an account's segments stand while its terms do). */
export function orderOf(segments: readonly FundingSegment[]): SegmentOrder {
  const known = orders.get(segments);
  if (known) return known;
  const ordered = [...segments].sort(fundingOrder);
  // A seat's charge never looks at the other seats' own segments.
  const shared = ordered.filter((segment) => segment.seatId === undefined);
  const ownBySeat = new Map<string, FundingSegment[]>();
  for (const segment of ordered) {
    if (segment.seatId === undefined) continue;
    const own = ownBySeat.get(segment.seatId);
    if (own) own.push(segment);
    else ownBySeat.set(segment.seatId, [segment]);
  }
  const candidates = new Map<string | undefined, FundingSegment[]>([[undefined, shared]]);
  const order: SegmentOrder = {
    bySegmentId: new Map(segments.map((segment) => [segment.segmentId, segment])),
    candidatesFor(seatId) {
      let list = candidates.get(seatId);
      if (!list) {
        const own = ownBySeat.get(seatId!);
        // Both lists are in funding order: merged, they are the order of `ordered`.
        candidates.set(seatId, (list = own ? mergeOrdered(own, shared) : shared));
      }
      return list;
    },
  };
  orders.set(segments, order);
  return order;
}

/**
 * Funds the open periods' charges from segments (docs/rules.md rule 10): the charges of ended periods
 * still in their grace period first, oldest period first; then, sweeping the slices in time
 * order, usage charges before seat charges: each charge draws from the segments that can fund it, in `fundingOrder`, as much as
 * each still holds; what none covers is overage. A negative charge gives back the line's
 * latest draws first. A rolled-over credit holds `fraction` of what its source segment had left
 * once the charges before its start were drawn.
 */
export function drawDown({ segments, charges }: { segments: readonly FundingSegment[]; charges: readonly FundingCharge[] }): Drawdown {
  const drawn = new Map<string, Decimal>();
  const applied = new Map<string, Map<string, Decimal>>();
  const overage = new Map<string, Decimal>();
  const stacks = new Map<string, Array<{ from: string | typeof OVERAGE; amount: Decimal }>>();
  const { bySegmentId, candidatesFor } = orderOf(segments);

  const drawnFrom = (segmentId: string) => drawn.get(segmentId) ?? new Decimal(0);
  // What each segment without a rollover source still holds, kept as draws move it (a rolled-over
  // credit's depends on its source's draws: worked out each time). Those holding nothing are skipped at once.
  const held = new Map<string, Decimal>();
  const emptied = new Set<string>();
  const moved = (segmentId: string, amount: Decimal) => {
    const segment = bySegmentId.get(segmentId)!;
    if (segment.rolloverOf) return;
    const left = subExactly(held.get(segmentId) ?? segment.available, amount);
    held.set(segmentId, left);
    if (isPositive(left)) emptied.delete(segmentId);
    else emptied.add(segmentId);
  };
  for (const segment of segments) if (!segment.rolloverOf && !isPositive(segment.available)) emptied.add(segment.segmentId);
  const remaining = (segment: FundingSegment): Decimal => {
    if (!segment.rolloverOf) return held.get(segment.segmentId) ?? segment.available;
    let available = segment.available;
    const source = bySegmentId.get(segment.rolloverOf.segmentId);
    if (source) {
      // `available` assumed the source's whole remainder rolled over; only what the charges left does.
      const assumed = rolloverAmount(Decimal.max(source.available, 0), segment.rolloverOf.fraction);
      const actual = rolloverAmount(Decimal.max(sumExactly([source.available, drawnFrom(source.segmentId).neg()]), 0), segment.rolloverOf.fraction);
      available = sumExactly([available, assumed.neg(), actual]);
    }
    return subExactly(available, drawnFrom(segment.segmentId));
  };
  // Exact, so that a segment's draws never add up to more than it held.
  const add = (map: Map<string, Decimal>, key: string, amount: Decimal) => {
    const sum = map.get(key);
    map.set(key, sum === undefined ? amount : addExactly(sum, amount));
  };
  const appliedTo = (lineId: string) => {
    let line = applied.get(lineId);
    if (!line) applied.set(lineId, (line = new Map()));
    return line;
  };

  const order = sortedOrder(charges);
  // What each line drew, kept only when some charge gives back.
  const givesBack = charges.some((charge) => isNegative(charge.amount));
  let contended = givesBack || segments.some((segment) => Boolean(segment.rolloverOf));
  const draws: ChargeDraws[] = new Array(charges.length);
  for (const index of order) {
    const charge = charges[index]!;
    const own: ChargeDraws = { takes: [], over: undefined };
    draws[index] = own;
    const stack = givesBack ? (stacks.get(charge.lineId) ?? []) : undefined;
    if (stack) stacks.set(charge.lineId, stack);
    if (isPositive(charge.amount)) {
      let left = charge.amount;
      for (const segment of candidatesFor(charge.seatId)) {
        if (!isPositive(left)) break;
        if (emptied.has(segment.segmentId) || !canFund(segment, charge)) continue;
        const room = remaining(segment);
        const take = left.lte(room) ? left : room;
        if (!isPositive(take)) continue;
        moved(segment.segmentId, take);
        // A shared segment short of this charge, or emptied by it: later charges' draws depend on this one's.
        if (segment.seatId === undefined && (take !== left || emptied.has(segment.segmentId))) contended = true;
        add(drawn, segment.segmentId, take);
        add(appliedTo(charge.lineId), segment.segmentId, take);
        own.takes.push({ segmentId: segment.segmentId, amount: take });
        stack?.push({ from: segment.segmentId, amount: take });
        left = subExactly(left, take);
      }
      if (isPositive(left)) {
        add(overage, charge.lineId, left);
        own.over = left;
        stack?.push({ from: OVERAGE, amount: left });
      }
    } else if (stack && isNegative(charge.amount)) {
      let giveBack = charge.amount.neg();
      while (isPositive(giveBack) && stack.length > 0) {
        const last = stack[stack.length - 1]!;
        const amount = giveBack.lte(last.amount) ? giveBack : last.amount;
        if (last.from === OVERAGE) add(overage, charge.lineId, amount.neg());
        else {
          moved(last.from, amount.neg());
          add(drawn, last.from, amount.neg());
          add(appliedTo(charge.lineId), last.from, amount.neg());
        }
        last.amount = subExactly(last.amount, amount);
        if (last.amount.isZero()) stack.pop();
        giveBack = subExactly(giveBack, amount);
      }
    }
  }
  const result = { drawn, applied, overage };
  drawRecords.set(result, { segments, charges, order, draws, contended });
  return result;
}

/**
 * The order charges are funded in (indices into `charges`): ended periods' first, oldest first;
 * usage charges before seat charges; then by slice and by line; charges equal in all that (a
 * line's seat parts) in the order given.
 */
function sortedOrder(charges: readonly FundingCharge[]): number[] {
  const endedRank = (charge: FundingCharge) => charge.periodEnded?.getTime() ?? Infinity;
  return charges
    .map((_, index) => index)
    .sort((i, j) => {
      const a = charges[i]!;
      const b = charges[j]!;
      return (
        (endedRank(a) === endedRank(b) ? 0 : endedRank(a) < endedRank(b) ? -1 : 1) ||
        Number(a.seat ?? false) - Number(b.seat ?? false) ||
        a.startingAt.getTime() - b.startingAt.getTime() ||
        (a.lineId < b.lineId ? -1 : a.lineId > b.lineId ? 1 : 0) ||
        i - j
      );
    });
}
