import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMonthsClamped, openPeriodStart, periodAt, periodsBetween, type Frequency, type PeriodSchedule } from './periods.js';

const at = (iso: string) => new Date(iso);
const iso = (date: Date) => date.toISOString();

describe('billing periods', () => {
  it('keeps the anchor day, clamping to short months without drifting (Jan 31 → Feb 28 → Mar 31)', () => {
    const anchor = at('2023-01-31T00:00:00Z');
    expect([1, 2, 3, 4].map((months) => iso(addMonthsClamped(anchor, months)))).toEqual([
      '2023-02-28T00:00:00.000Z',
      '2023-03-31T00:00:00.000Z',
      '2023-04-30T00:00:00.000Z',
      '2023-05-31T00:00:00.000Z',
    ]);
    expect(iso(addMonthsClamped(at('2024-01-31T00:00:00Z'), 1))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(addMonthsClamped(anchor, -2))).toBe('2022-11-30T00:00:00.000Z');
  });

  it('gives a contract starting mid-month with first-of-month statements a short first period', () => {
    const schedule: PeriodSchedule = { anchor: at('2024-01-01T00:00:00Z'), frequency: 'MONTHLY', startingAt: at('2024-01-15T00:00:00Z'), endingBefore: null };
    const periods = periodsBetween(schedule, { from: schedule.startingAt, to: at('2024-03-01T00:00:00Z') });
    expect(periods.map((p) => [iso(p.startingAt), iso(p.endingBefore), iso(p.fullStartingAt)])).toEqual([
      ['2024-01-15T00:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z'],
      ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
    ]);
  });

  it('follows a clamped anchor through the periods of a monthly schedule', () => {
    const schedule: PeriodSchedule = { anchor: at('2023-01-31T00:00:00Z'), frequency: 'MONTHLY', startingAt: at('2023-01-31T00:00:00Z'), endingBefore: null };
    const periods = periodsBetween(schedule, { from: schedule.startingAt, to: at('2023-04-01T00:00:00Z') });
    expect(periods.map((p) => iso(p.startingAt))).toEqual(['2023-01-31T00:00:00.000Z', '2023-02-28T00:00:00.000Z', '2023-03-31T00:00:00.000Z']);
    expect(iso(periodAt(schedule, at('2023-03-30T23:00:00Z'))!.startingAt)).toBe('2023-02-28T00:00:00.000Z');
  });

  it('cuts the last period at the end date, and knows nothing outside the window', () => {
    const schedule: PeriodSchedule = {
      anchor: at('2024-01-01T00:00:00Z'),
      frequency: 'QUARTERLY',
      startingAt: at('2024-01-01T00:00:00Z'),
      endingBefore: at('2024-05-15T00:00:00Z'),
    };
    const periods = periodsBetween(schedule, { from: at('2020-01-01T00:00:00Z'), to: at('2030-01-01T00:00:00Z') });
    expect(periods.map((p) => [iso(p.startingAt), iso(p.endingBefore)])).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'],
      ['2024-04-01T00:00:00.000Z', '2024-05-15T00:00:00.000Z'],
    ]);
    expect(periodAt(schedule, at('2024-05-15T00:00:00Z'))).toBeUndefined();
    expect(periodAt(schedule, at('2023-12-31T23:00:00Z'))).toBeUndefined();
  });

  it('counts weekly periods in whole weeks from the anchor', () => {
    const schedule: PeriodSchedule = { anchor: at('2024-01-03T00:00:00Z'), frequency: 'WEEKLY', startingAt: at('2024-01-01T00:00:00Z'), endingBefore: null };
    expect(periodsBetween(schedule, { from: schedule.startingAt, to: at('2024-01-12T00:00:00Z') }).map((p) => iso(p.startingAt))).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-01-03T00:00:00.000Z',
      '2024-01-10T00:00:00.000Z',
    ]);
  });

  it('tiles any window with consecutive periods, each inside its whole period', () => {
    const hour = 3_600_000;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 * 365 * 24 }),
        fc.integer({ min: -400 * 24, max: 400 * 24 }),
        fc.integer({ min: 1, max: 800 * 24 }),
        fc.constantFrom<Frequency>('MONTHLY', 'QUARTERLY', 'ANNUAL', 'WEEKLY'),
        (anchorHours, startOffsetHours, lengthHours, frequency) => {
          const anchor = new Date(Date.UTC(2010, 0, 1) + anchorHours * hour);
          const startingAt = new Date(anchor.getTime() + startOffsetHours * hour);
          const endingBefore = new Date(startingAt.getTime() + lengthHours * hour);
          const periods = periodsBetween({ anchor, frequency, startingAt, endingBefore }, { from: startingAt, to: endingBefore });
          expect(periods[0]!.startingAt).toEqual(startingAt);
          expect(periods.at(-1)!.endingBefore).toEqual(endingBefore);
          periods.forEach((period, i) => {
            expect(period.startingAt < period.endingBefore).toBe(true);
            expect(period.fullStartingAt <= period.startingAt && period.endingBefore <= period.fullEndingBefore).toBe(true);
            if (i > 0) expect(period.startingAt).toEqual(periods[i - 1]!.endingBefore);
          });
        },
      ),
    );
  });
});

describe('openPeriodStart', () => {
  it('is the current period’s start, the schedule’s start before it begins, and null after it ends', () => {
    const april = at('2024-04-01T00:00:00Z');
    const schedule: PeriodSchedule = { anchor: april, frequency: 'MONTHLY', startingAt: april, endingBefore: at('2024-07-01T00:00:00Z') };
    expect(openPeriodStart(schedule, at('2024-05-10T00:00:00Z'))).toEqual(at('2024-05-01T00:00:00Z'));
    expect(openPeriodStart(schedule, at('2024-03-10T00:00:00Z'))).toEqual(april);
    expect(openPeriodStart(schedule, at('2024-07-01T00:00:00Z'))).toBeNull();
  });
});
