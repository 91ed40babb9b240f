import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nthPeriod, type Frequency, type PeriodSchedule } from '../../lib/periods.js';
import { firstPeriodFrom } from './amounts.js';

const at = (iso: string) => new Date(iso);
const monthly: PeriodSchedule = { anchor: at('2024-04-01T00:00:00Z'), frequency: 'MONTHLY', startingAt: at('2024-04-01T00:00:00Z'), endingBefore: at('2024-05-15T00:00:00Z') };

describe('where an amount change takes effect', () => {
  it('is the first period starting at or after the edit, whatever the grant’s end', () => {
    expect(firstPeriodFrom(monthly, at('2024-04-10T00:00:00Z')).toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(firstPeriodFrom(monthly, at('2024-05-01T00:00:00Z')).toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(firstPeriodFrom(monthly, at('2024-05-20T00:00:00Z')).toISOString()).toBe('2024-06-01T00:00:00.000Z');
    expect(firstPeriodFrom(monthly, at('2024-03-20T00:00:00Z')).toISOString()).toBe('2024-04-01T00:00:00.000Z');
  });

  it('property: it is a period start, at or after the edit, with no period start between', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Frequency>('WEEKLY', 'MONTHLY', 'QUARTERLY', 'ANNUAL'),
        fc.integer({ min: 0, max: 3 * 365 * 24 * 3600 * 1000 }),
        (frequency, offset) => {
          const schedule: PeriodSchedule = { anchor: at('2024-01-31T00:00:00Z'), frequency, startingAt: at('2024-02-10T00:00:00Z'), endingBefore: null };
          const now = new Date(schedule.startingAt.getTime() - 30 * 24 * 3600 * 1000 + offset);
          const from = firstPeriodFrom(schedule, now);
          expect(from >= now).toBe(true);
          const starts = Array.from({ length: 200 }, (_, n) => nthPeriod(schedule, n)!.startingAt.getTime());
          expect(starts).toContain(from.getTime());
          expect(starts.some((start) => start >= now.getTime() && start < from.getTime())).toBe(false);
        },
      ),
    );
  });
});
