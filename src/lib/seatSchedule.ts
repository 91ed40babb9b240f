import { MAX_QUANTITY, type QuantityChange } from './quantitySchedule.js';

/**
 * A SEAT_BASED subscription's seats as a schedule of changes (docs/rules.md rule 28). Each change
 * adds or removes seat ids, or adds or removes unassigned seats, at an instant; changes apply in
 * time order, and those at one instant in the order they were made (`sequence`). The quantity is
 * always the assigned seats plus the unassigned ones:
 *
 * - adding a seat id fills an unassigned seat when there is one (the quantity stays), else adds a
 *   seat; adding an id already assigned is refused;
 * - removing a seat id frees its seat (the quantity drops by one); an id not assigned is a no-op;
 * - adding unassigned seats adds to the quantity; removing them takes away at most as many as
 *   there are (the rest is a no-op).
 *
 * [ada, bob] + 1 unassigned = 3; add cy → [ada, bob, cy], 0 unassigned, still 3; remove ada → 2.
 */

export type SeatAction = 'ADD_SEATS' | 'REMOVE_SEATS' | 'ADD_UNASSIGNED' | 'REMOVE_UNASSIGNED';

export interface SeatChange {
  startingAt: Date;
  /** Order among changes at one instant; 0 and 1 are the subscription's initial seats. */
  sequence: number;
  action: SeatAction;
  seatIds?: readonly string[] | null | undefined;
  quantity?: number | null | undefined;
  /** When the change was made. */
  recordedAt?: Date | undefined;
}

/** Sequences 0 and 1 hold the initial seat ids and unassigned seats: they count from the subscription's start, however late it was created. */
export const INITIAL_SEQUENCES = 2;

export interface SeatStep {
  startingAt: Date;
  /** The seat ids assigned from `startingAt`, in the order they were added. */
  assigned: string[];
  unassigned: number;
  /** `assigned.length + unassigned`. */
  quantity: number;
}

export type SeatScheduleResult<C extends SeatChange> =
  | { ok: true; steps: SeatStep[] }
  /** `change` adds `seatId`, which is already assigned then; or takes the quantity above MAX_QUANTITY. */
  | { ok: false; change: C; seatId: string | null; problem: 'ALREADY_ASSIGNED' | 'TOO_MANY' };

const byTimeThenSequence = (a: SeatChange, b: SeatChange) => a.startingAt.getTime() - b.startingAt.getTime() || a.sequence - b.sequence;

/** Folds seat changes into steps, one per distinct instant. */
export function seatSchedule<C extends SeatChange>(changes: readonly C[]): SeatScheduleResult<C> {
  const steps: SeatStep[] = [];
  const assigned: string[] = [];
  let unassigned = 0;
  for (const change of [...changes].sort(byTimeThenSequence)) {
    const failure = apply(change, assigned, unassigned);
    if ('problem' in failure) return { ok: false, change, seatId: failure.seatId, problem: failure.problem };
    unassigned = failure.unassigned;
    const step = { startingAt: change.startingAt, assigned: [...assigned], unassigned, quantity: assigned.length + unassigned };
    const last = steps.at(-1);
    if (last && last.startingAt.getTime() === change.startingAt.getTime()) steps[steps.length - 1] = step;
    else steps.push(step);
  }
  return { ok: true, steps };
}

function apply(change: SeatChange, assigned: string[], unassigned: number): { unassigned: number } | { problem: 'ALREADY_ASSIGNED' | 'TOO_MANY'; seatId: string | null } {
  switch (change.action) {
    case 'ADD_SEATS':
      for (const seatId of change.seatIds ?? []) {
        if (assigned.includes(seatId)) return { problem: 'ALREADY_ASSIGNED', seatId };
        assigned.push(seatId);
        if (unassigned > 0) unassigned -= 1;
      }
      break;
    case 'REMOVE_SEATS':
      for (const seatId of change.seatIds ?? []) {
        const at = assigned.indexOf(seatId);
        if (at >= 0) assigned.splice(at, 1);
      }
      break;
    case 'ADD_UNASSIGNED':
      unassigned += change.quantity ?? 0;
      break;
    case 'REMOVE_UNASSIGNED':
      unassigned -= Math.min(unassigned, change.quantity ?? 0);
      break;
  }
  if (assigned.length + unassigned > MAX_QUANTITY) return { problem: 'TOO_MANY', seatId: null };
  return { unassigned };
}

/** The step in force at `at`, if any. */
export function seatStepAt(steps: readonly SeatStep[], at: Date): SeatStep | undefined {
  let found: SeatStep | undefined;
  for (const step of steps) {
    if (step.startingAt > at) break;
    found = step;
  }
  return found;
}

/**
 * The seat ids assigned at `at` as the schedule stood at that instant: the initial seats and the
 * changes recorded by then. A change recorded later but dated at or before `at` is backdated: it
 * is a seat change at its instant, never a different start (as `quantityKnownAt`).
 */
export function seatsKnownAt(changes: readonly SeatChange[], at: Date): string[] {
  const known = seatSchedule(changes.filter((change) => change.sequence < INITIAL_SEQUENCES || !change.recordedAt || change.recordedAt <= at));
  return known.ok ? (seatStepAt(known.steps, at)?.assigned ?? []) : [];
}

/**
 * The quantity changes a seat schedule makes, for the quantity schedule everything else reads
 * (seat charges, pooled grants): one absolute quantity per seat change, the initial seats as one
 * change (sequence 0, so it counts from the start however late it was recorded).
 */
export function quantityChangesOfSeats(changes: readonly SeatChange[]): QuantityChange[] {
  const ordered = [...changes].sort(byTimeThenSequence);
  const result: QuantityChange[] = [];
  const assigned: string[] = [];
  let unassigned = 0;
  for (const change of ordered) {
    const applied = apply(change, assigned, unassigned);
    if ('problem' in applied) break;
    unassigned = applied.unassigned;
    const quantity = assigned.length + unassigned;
    const last = result.at(-1);
    if (change.sequence < INITIAL_SEQUENCES && last && last.sequence === 0) last.quantity = quantity;
    else result.push({ startingAt: change.startingAt, sequence: change.sequence < INITIAL_SEQUENCES ? 0 : change.sequence, quantity, recordedAt: change.recordedAt });
  }
  return result;
}
