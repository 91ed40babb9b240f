/**
 * A subscription's quantity as a schedule of changes (docs/rules.md rule 7). Each change sets a
 * `quantity` (≥ 0) or adds a `quantityDelta` (≠ 0) at an instant; changes apply in time order,
 * and changes at the same instant in the order they were made (`sequence`): 12, then −1 → 11.
 */

export interface QuantityChange {
  startingAt: Date;
  /** Order among changes at the same instant: the order they were sent. */
  sequence: number;
  quantity?: number | null | undefined;
  quantityDelta?: number | null | undefined;
  /** When the change was made; changes made later than the instant they start at are backdated. */
  recordedAt?: Date | undefined;
}

export interface QuantityStep {
  startingAt: Date;
  quantity: number;
}

export type QuantityScheduleResult<C extends QuantityChange> =
  | { ok: true; steps: QuantityStep[] }
  /** `change` would take the quantity below 0 or above `MAX_QUANTITY`. */
  | { ok: false; change: C; quantity: number };

function byTimeThenSequence(a: QuantityChange, b: QuantityChange): number {
  return a.startingAt.getTime() - b.startingAt.getTime() || a.sequence - b.sequence;
}

/**
 * Folds changes into steps, one per distinct instant, holding the quantity from that instant on.
 * Fails, naming the change, when a delta would take the quantity below 0 (or above
 * `MAX_QUANTITY`) at any point.
 */
/** The largest quantity a subscription may reach. */
export const MAX_QUANTITY = 1_000_000_000;

export function quantitySchedule<C extends QuantityChange>(changes: readonly C[]): QuantityScheduleResult<C> {
  const steps: QuantityStep[] = [];
  let quantity = 0;
  for (const change of [...changes].sort(byTimeThenSequence)) {
    quantity = change.quantity ?? quantity + (change.quantityDelta ?? 0);
    if (quantity < 0 || quantity > MAX_QUANTITY) return { ok: false, change, quantity };
    const last = steps.at(-1);
    if (last && last.startingAt.getTime() === change.startingAt.getTime()) last.quantity = quantity;
    else steps.push({ startingAt: change.startingAt, quantity });
  }
  return { ok: true, steps };
}

/** The quantity in force at `at` (0 before the first step). */
export function quantityAt(steps: readonly QuantityStep[], at: Date): number {
  let quantity = 0;
  for (const step of steps) {
    if (step.startingAt > at) break;
    quantity = step.quantity;
  }
  return quantity;
}

/** Steps during `[startingAt, endingBefore)`: the changes that take effect in a period, its start included. */
export function stepsDuring(steps: readonly QuantityStep[], { startingAt, endingBefore }: { startingAt: Date; endingBefore: Date }): QuantityStep[] {
  return steps.filter((step) => step.startingAt >= startingAt && step.startingAt < endingBefore);
}

/**
 * The quantity at `at` as the schedule stood at that instant: the initial quantity (sequence 0)
 * and the changes recorded by then. A change recorded later but dated at or before `at` is
 * backdated; what it does to a period that had already started is a seat change inside that
 * period, never a different start.
 */
export function quantityKnownAt(changes: readonly QuantityChange[], at: Date): number {
  const known = quantitySchedule(changes.filter((change) => change.sequence === 0 || !change.recordedAt || change.recordedAt <= at));
  return known.ok ? quantityAt(known.steps, at) : 0;
}
