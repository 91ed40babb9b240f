import { Decimal } from '../../../lib/money.js';
import type { Direction } from './alertTypes.js';

export type Status = 'ok' | 'in_alarm';

/** Where an alert stood for a customer (`groupValue` null) or for one combination of its group values (rule 20). */
export interface State {
  groupValue: string | null;
  status: Status;
  value: Decimal | null;
}

/** A change of status that is announced: ok (or never evaluated) → in_alarm, or in_alarm → ok. */
export interface Transition {
  groupValue: string | null;
  to: Status;
  value: Decimal | null;
}

export interface StatePlan {
  /** Every state as it now is: the rows to write. */
  states: State[];
  /** What changed status and must be announced, in the order of `states`. */
  transitions: Transition[];
}

/** Rule 13: a balance or a percentage alarms at or below the threshold; spend, usage and a total at or above it. */
export function statusOf(direction: Direction, value: Decimal, threshold: Decimal): Status {
  return (direction === 'at_or_below' ? value.lte(threshold) : value.gte(threshold)) ? 'in_alarm' : 'ok';
}

/**
 * The new states of one alert for one customer, from what was just measured and what was stored.
 *
 * - `measured` is the customer's value, or null when there is nothing to measure (no credit of
 *   the alert's pricing unit, no contract with an open period): then the alert is ok.
 * - `perValue` (an alert with group keys given alone) holds each combination's measure; one stored
 *   before but not measured now counts as 0 (nothing spent yet this period). The customer as a
 *   whole is in alarm while any combination is, and only the combinations' changes are announced.
 * - A state that did not exist counts as ok, so a first evaluation announces only alarms. With
 *   `announce` false (an alert created with `evaluate_on_create: false`), states are recorded and
 *   nothing is announced: only later crossings are.
 */
export function planStates({
  direction,
  threshold,
  measured,
  perValue,
  stored,
  announce,
  absentIsNothing = false,
}: {
  direction: Direction;
  threshold: Decimal;
  measured: Decimal | null;
  perValue: ReadonlyMap<string, Decimal> | null;
  stored: readonly State[];
  announce: boolean;
  /** A value stored before and not measured now has nothing to measure (ok), rather than 0. */
  absentIsNothing?: boolean;
}): StatePlan {
  const before = new Map(stored.map((state) => [state.groupValue, state]));
  const states: State[] = [];
  const transitions: Transition[] = [];
  const settle = (groupValue: string | null, value: Decimal | null) => {
    const status: Status = value === null ? 'ok' : statusOf(direction, value, threshold);
    const previous = before.get(groupValue)?.status ?? 'ok';
    states.push({ groupValue, status, value });
    if (announce && status !== previous) transitions.push({ groupValue, to: status, value });
    return status;
  };

  if (!perValue) {
    settle(null, measured);
    return { states, transitions };
  }
  // Nothing measurable (no open period): every value is ok. Otherwise a value seen before and
  // absent now has spent nothing in this period.
  const values = new Map<string, Decimal | null>(measured === null ? [] : perValue);
  for (const state of stored) {
    if (state.groupValue !== null && !values.has(state.groupValue)) values.set(state.groupValue, measured === null || absentIsNothing ? null : new Decimal(0));
  }
  let anyInAlarm = false;
  for (const [groupValue, value] of [...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (settle(groupValue, value) === 'in_alarm') anyInAlarm = true;
  }
  states.unshift({ groupValue: null, status: anyInAlarm ? 'in_alarm' : 'ok', value: measured });
  return { states, transitions };
}
