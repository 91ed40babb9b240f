import { v5 as uuidv5 } from 'uuid';
import { Decimal, sumExactly } from '../../../lib/money.js';
import { nthPeriod, periodIndexAt, periodsBetween, type Period, type PeriodSchedule } from '../../../lib/periods.js';
import { quantityKnownAt, type QuantityChange, type QuantityStep } from '../../../lib/quantitySchedule.js';
import { grantForPeriod, seatAdjustments, type RecurringGrantTerms } from './pooledGrant.js';
import { seatGrantsForPeriod, type SeatAllocation } from './seatGrants.js';
import { segmentLedger, type LedgerEntry, type SegmentLedger } from './segmentLedger.js';

const GENERATED_ID_NAMESPACE = '3f0c2a57-8e1b-4c6d-9a0f-5b7e2d1c4a98';

/**
 * The id of something a recurring grant generates, derived from what it is (the grant's id and
 * `parts`) so that it is the same on every read. It is laid out like a UUIDv7 whose time is
 * `at`, the start of what it identifies, so that generated credits sort by time among the ids
 * of stored ones (lists are ordered by id).
 */
export function generatedId(at: Date, ...parts: (string | number)[]): string {
  const name = parts.join(':');
  const key = `${at.getTime()} ${name}`;
  let id = generatedIds.get(key);
  if (id === undefined) {
    const hex = uuidv5(name, GENERATED_ID_NAMESPACE).replaceAll('-', '');
    const time = Math.max(0, at.getTime()).toString(16).padStart(12, '0').slice(-12);
    const raw = `${time}7${hex.slice(13)}`;
    id = `${raw.slice(0, 8)}-${raw.slice(8, 12)}-${raw.slice(12, 16)}-${raw.slice(16, 20)}-${raw.slice(20)}`;
    // A hash per id is most of what deriving a period of 100 seat grants costs: ids are kept, a bounded number.
    if (generatedIds.size >= MAX_GENERATED_IDS) generatedIds.clear();
    generatedIds.set(key, id);
  }
  return id;
}

const generatedIds = new Map<string, string>();
const MAX_GENERATED_IDS = 100_000;

/** A recurring credit or commit: terms, the periods it recurs on, and the quantity it follows. */
export interface RecurringGrantSource {
  id: string;
  terms: RecurringGrantTerms;
  /** The periods the grant recurs on, clipped to its own start and end. */
  schedule: PeriodSchedule;
  /** `access_amount.quantity` of a grant not linked to a subscription. */
  fixedQuantity: Decimal | null;
  /**
   * Later amounts (`update_recurring_*[].access_amount`), oldest first: each replaces `terms.unitPrice`
   * and `fixedQuantity` for the periods starting at or after its `from`. Absent or empty: the
   * grant keeps its first amount.
   */
  amountChanges?: readonly RecurringGrantAmount[];
  /** The linked subscription's quantity changes and the steps they fold into, when the grant follows one. */
  seats: { changes: readonly QuantityChange[]; steps: readonly QuantityStep[] } | null;
  /** For an INDIVIDUAL grant: the seats of its SEAT_BASED subscription, each granted its own credit (`seats` is then null). */
  perSeat?: SeatAllocation | null | undefined;
  /** How many periods each segment gives access for (`commit_duration`). */
  durationPeriods: number;
  rolloverFraction: Decimal | null;
}

/** A recurring grant's amount from `from` on: `unitPrice` per unit of `quantity` (null when linked to a subscription, whose seats count instead). */
export interface RecurringGrantAmount {
  from: Date;
  unitPrice: Decimal;
  quantity: Decimal | null;
}

/**
 * The amount in force at `at`, a period's start: the latest change from at or before it, else the
 * grant's first amount. A monthly credit of 100 changed to 150 from May 1 grants 100 for April
 * and 150 from May on.
 */
export function amountAt(source: Pick<RecurringGrantSource, 'terms' | 'fixedQuantity' | 'amountChanges'>, at: Date): { unitPrice: Decimal; quantity: Decimal | null } {
  let amount = { unitPrice: source.terms.unitPrice, quantity: source.fixedQuantity };
  for (const change of source.amountChanges ?? []) {
    if (change.from > at) break;
    amount = { unitPrice: change.unitPrice, quantity: change.quantity };
  }
  return amount;
}

/** A one-off credit or commit: its stored access schedule. */
export interface OneOffGrantSource {
  id: string;
  segments: { id: string; startingAt: Date; endingBefore: Date; amount: Decimal }[];
}

export interface DerivedSegment {
  id: string;
  startingAt: Date;
  endingBefore: Date;
  /** What the segment grants: a one-off segment's scheduled amount; a recurring one's start plus its seat adjustments so far. */
  amount: Decimal;
  ledger: SegmentLedger;
  /** For the segment holding another's rolled-over remainder: that segment, and the fraction that rolls over. */
  rolloverOf: { segmentId: string; fraction: Decimal } | null;
}

export interface DerivedGrant {
  id: string;
  /** For grants a recurring grant generated: which one, and for which period (its index, and its position in the grant's schedule). */
  recurring: { id: string; periodIndex: number; position: number } | null;
  /** For the credit a rollover created: the recurring grant and period that generated it (with the period's own grant). */
  generatedBy?: { id: string; periodIndex: number; position: number };
  /** For the credit a rollover created: the grant whose remainder it holds. */
  rolledOverFrom: string | null;
  segments: DerivedSegment[];
  /** For a seat's own grant (INDIVIDUAL allocation): the seat. */
  seatId?: string;
}

/** Recorded movements (manual entries, invoice deductions) by segment id. */
export type RecordedMovements = ReadonlyMap<string, readonly LedgerEntry[]>;

function segmentOf({
  id,
  window,
  granted,
  recorded,
  rolloverFraction,
  canRollOver,
  now,
  rolloverOf = null,
}: {
  id: string;
  window: { startingAt: Date; endingBefore: Date };
  granted: LedgerEntry[];
  recorded: RecordedMovements;
  rolloverFraction: Decimal | null;
  canRollOver: boolean;
  now: Date;
  rolloverOf?: DerivedSegment['rolloverOf'];
}): DerivedSegment {
  return {
    id,
    ...window,
    rolloverOf,
    // What the segment grants, as scheduled: a one-off segment's amount even before it starts;
    // a recurring one's start and the seat adjustments made so far.
    amount: sumExactly(granted.map((entry) => entry.amount)),
    ledger: segmentLedger({ window, movements: [...granted, ...(recorded.get(id) ?? [])], rolloverFraction, canRollOver, now }),
  };
}

/**
 * Everything a recurring grant has generated by `now`: one grant per period that has started,
 * with one segment giving access from the period's start for `durationPeriods` periods, and, for
 * each segment that ended with a remainder to roll over, a grant holding the rolled-over amount
 * for the period that follows (it expires at that period's end; rollover happens once).
 */
export function deriveRecurringGrants({
  source,
  recorded,
  now,
  positions,
}: {
  source: RecurringGrantSource;
  recorded: RecordedMovements;
  now: Date;
  /** Only the periods at these positions of the schedule, `[from, to)` (default: every period started by now). */
  positions?: { from: number; to?: number | undefined } | undefined;
}): DerivedGrant[] {
  const from = positions?.from ?? 0;
  const to = Math.min(positions?.to ?? Infinity, periodsStartedBy(source.schedule, now));
  const grants: DerivedGrant[] = [];
  for (let position = from; position < to; position += 1) grants.push(...deriveRecurringPeriod({ source, period: nthPeriod(source.schedule, position)!, position, recorded, now }));
  return grants;
}

/** How many periods of `schedule` have started by `at` (their start at or before it). */
function periodsStartedBy(schedule: PeriodSchedule, at: Date): number {
  if (at < schedule.startingAt || (schedule.endingBefore && schedule.endingBefore <= schedule.startingAt)) return 0;
  const last = schedule.endingBefore && at >= schedule.endingBefore ? new Date(schedule.endingBefore.getTime() - 1) : at;
  return periodIndexAt({ ...schedule, at: last }) - periodIndexAt({ ...schedule, at: schedule.startingAt }) + 1;
}

/**
 * How many periods of a recurring grant are **settled** by `settledBefore`: the first positions of
 * its schedule whose every generated segment (the period's own, for `durationPeriods` periods, and
 * the rolled-over remainder's in the period after) ended at or before it. A settled period's
 * segments have ended, so they hold nothing to spend, and no charge of a period from
 * `settledBefore` on can draw them.
 */
export function settledPeriods(source: RecurringGrantSource, settledBefore: Date): number {
  const started = periodsStartedBy(source.schedule, settledBefore);
  const ended = started > 0 && nthPeriod(source.schedule, started - 1)!.endingBefore > settledBefore ? started - 1 : started;
  const reach = source.durationPeriods - 1 + (source.rolloverFraction ? 1 : 0);
  // Past the schedule's end a window is cut at its last period: counting the full reach only settles fewer.
  return Math.max(0, ended - reach);
}

/**
 * What a recurring grant generated for one period, the `position`-th of its schedule (`period`,
 * when the caller has it): the period's grant, and the grant holding its rolled-over remainder
 * when there is one. It depends on nothing another period generated, so one period can be
 * derived again alone.
 */
export function deriveRecurringPeriod({
  source,
  position,
  period = nthPeriod(source.schedule, position)!,
  recorded,
  now,
}: {
  source: RecurringGrantSource;
  position: number;
  period?: Period;
  recorded: RecordedMovements;
  now: Date;
}): DerivedGrant[] {
  const lastOfWindow = nthPeriod(source.schedule, position + source.durationPeriods - 1);
  const window = { startingAt: period.startingAt, endingBefore: (lastOfWindow ?? lastPeriod(source.schedule, period)).endingBefore };
  const following = nthPeriod(source.schedule, position + source.durationPeriods);
  // The amount in force at the period's start holds for the whole period, seat increases included.
  const amount = amountAt(source, period.startingAt);
  const terms = { ...source.terms, unitPrice: amount.unitPrice };
  const canRollOver = following !== undefined && following.startingAt.getTime() === window.endingBefore.getTime();
  const recurring = { id: source.id, periodIndex: period.index, position };
  const grants: DerivedGrant[] = [];
  // One grant for the period (POOLED or unlinked), or one per seat (INDIVIDUAL), each with its rolled-over remainder.
  for (const { seatId, granted } of periodGrants(source, terms, period, amount.quantity, now)) {
    const parts = seatId === null ? [] : ['seat', seatId];
    const segment = segmentOf({
      id: generatedId(period.startingAt, source.id, period.index, ...parts, 'segment'),
      window,
      granted,
      recorded,
      rolloverFraction: source.rolloverFraction,
      canRollOver,
      now,
    });
    const grantId = generatedId(period.startingAt, source.id, period.index, ...parts);
    const seat = seatId === null ? {} : { seatId };
    grants.push({ id: grantId, recurring, rolledOverFrom: null, segments: [segment], ...seat });
    if (segment.ledger.rolledOver.gt(0) && following) {
      grants.push({
        id: generatedId(following.startingAt, source.id, period.index, ...parts, 'rollover'),
        recurring: null,
        rolledOverFrom: grantId,
        generatedBy: recurring,
        ...seat,
        segments: [
          segmentOf({
            id: generatedId(following.startingAt, source.id, period.index, ...parts, 'rollover', 'segment'),
            window: { startingAt: following.startingAt, endingBefore: following.endingBefore },
            granted: [{ kind: 'SEGMENT_START', amount: segment.ledger.rolledOver, timestamp: following.startingAt }],
            recorded,
            rolloverFraction: null,
            canRollOver: false,
            now,
            rolloverOf: { segmentId: segment.id, fraction: source.rolloverFraction! },
          }),
        ],
      });
    }
  }
  return grants;
}

/** What a period grants: one list of entries (seatId null), or one per seat for an INDIVIDUAL grant. */
function periodGrants(source: RecurringGrantSource, terms: RecurringGrantTerms, period: Period, quantity: Decimal | null, now: Date): Array<{ seatId: string | null; granted: LedgerEntry[] }> {
  if (source.perSeat) return seatGrantsForPeriod({ terms, period, seats: source.perSeat, now });
  // A period's start is granted for the quantity as it stood then; later backdated changes are seat changes.
  const startQuantity = source.seats ? quantityKnownAt(source.seats.changes, period.startingAt) : null;
  const granted: LedgerEntry[] = [
    grantForPeriod({ terms, period, quantity: startQuantity === null ? (quantity ?? new Decimal(1)) : new Decimal(startQuantity) }),
    ...(source.seats && startQuantity !== null ? seatAdjustments({ terms, period, steps: source.seats.steps, startQuantity, now }) : []),
  ];
  return [{ seatId: null, granted }];
}

function lastPeriod(schedule: PeriodSchedule, fallback: Period): Period {
  if (!schedule.endingBefore) return fallback;
  return periodsBetween(schedule, { from: new Date(schedule.endingBefore.getTime() - 1), to: schedule.endingBefore })[0] ?? fallback;
}

/** A one-off credit or commit as of `now`: each scheduled segment starts with its amount and expires at its end. */
export function deriveOneOffGrant({ source, recorded, now }: { source: OneOffGrantSource; recorded: RecordedMovements; now: Date }): DerivedGrant {
  return {
    id: source.id,
    recurring: null,
    rolledOverFrom: null,
    segments: source.segments.map((segment) =>
      segmentOf({
        id: segment.id,
        window: segment,
        granted: [{ kind: 'SEGMENT_START', amount: segment.amount, timestamp: segment.startingAt }],
        recorded,
        rolloverFraction: null,
        canRollOver: false,
        now,
      }),
    ),
  };
}

/**
 * A grant's balance: the sum of its segments' balances, each counted as 0 when a manual entry
 * has overdrawn it (as Metronome shows them; the segment's ledger still shows the entries).
 */
export function grantBalance(grant: DerivedGrant): Decimal {
  return sumExactly(grant.segments.map((segment) => Decimal.max(segment.ledger.balance, 0)));
}
