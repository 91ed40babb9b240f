import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { planStates, statusOf, type State } from './planStates.js';

const d = (value: number | string) => new Decimal(value);

describe('statusOf (rule 13)', () => {
  it('a balance alarms at or below the threshold; spend at or above it', () => {
    expect(statusOf('at_or_below', d(11), d(10))).toBe('ok');
    expect(statusOf('at_or_below', d(10), d(10))).toBe('in_alarm');
    expect(statusOf('at_or_above', d(999), d(1000))).toBe('ok');
    expect(statusOf('at_or_above', d(1000), d(1000))).toBe('in_alarm');
  });
});

describe('planStates', () => {
  const balance = { direction: 'at_or_below' as const, threshold: d(10), perValue: null, announce: true };

  it('announces the first alarm, nothing while it lasts, and the return to ok', () => {
    const first = planStates({ ...balance, measured: d(11), stored: [] });
    expect(first.transitions).toEqual([]);
    expect(first.states).toEqual([{ groupValue: null, status: 'ok', value: d(11) }]);
    const crossing = planStates({ ...balance, measured: d(10), stored: first.states });
    expect(crossing.transitions).toEqual([{ groupValue: null, to: 'in_alarm', value: d(10) }]);
    expect(planStates({ ...balance, measured: d(3), stored: crossing.states }).transitions).toEqual([]);
    expect(planStates({ ...balance, measured: d(400), stored: crossing.states }).transitions).toEqual([{ groupValue: null, to: 'ok', value: d(400) }]);
  });

  it('with nothing to measure the alert is ok, and an alarm clears', () => {
    const inAlarm: State[] = [{ groupValue: null, status: 'in_alarm', value: d(0) }];
    const plan = planStates({ ...balance, measured: null, stored: inAlarm });
    expect(plan.states).toEqual([{ groupValue: null, status: 'ok', value: null }]);
    expect(plan.transitions).toEqual([{ groupValue: null, to: 'ok', value: null }]);
  });

  it('records without announcing when told not to', () => {
    const plan = planStates({ ...balance, measured: d(2), stored: [], announce: false });
    expect(plan.states[0]!.status).toBe('in_alarm');
    expect(plan.transitions).toEqual([]);
  });

  it('per value of a group key: each value crosses on its own; the customer is in alarm while any value is', () => {
    const spend = { direction: 'at_or_above' as const, threshold: d(1000), announce: true };
    const plan = planStates({ ...spend, measured: d(2510), perValue: new Map([['a', d(1000)], ['b', d(1500)], ['c', d(10)]]), stored: [] });
    expect(plan.transitions.map((t) => t.groupValue)).toEqual(['a', 'b']);
    expect(plan.states[0]).toEqual({ groupValue: null, status: 'in_alarm', value: d(2510) });
    // A new period: nothing spent by anyone yet; the values in alarm resolve.
    const renewed = planStates({ ...spend, measured: d(0), perValue: new Map(), stored: plan.states });
    expect(renewed.transitions).toEqual([
      { groupValue: 'a', to: 'ok', value: d(0) },
      { groupValue: 'b', to: 'ok', value: d(0) },
    ]);
    expect(renewed.states[0]!.status).toBe('ok');
  });

  it('announces a change of status exactly when the status changes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 30 }), (values) => {
        let stored: State[] = [];
        let announced = 0;
        let previous = 'ok';
        let changes = 0;
        for (const value of values) {
          const plan = planStates({ ...balance, measured: d(value), stored });
          announced += plan.transitions.length;
          const status = value <= 10 ? 'in_alarm' : 'ok';
          if (status !== previous) changes += 1;
          previous = status;
          stored = plan.states;
        }
        expect(announced).toBe(changes);
      }),
    );
  });
});
