import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { periodsBetween, type PeriodSchedule } from '../../lib/periods.js';
import { endMoveProblem } from './ends.js';

const at = (iso: string) => new Date(iso);
const monthly: PeriodSchedule = { anchor: at('2024-01-01T00:00:00Z'), frequency: 'MONTHLY', startingAt: at('2024-01-01T00:00:00Z'), endingBefore: null };
const april = at('2024-04-01T00:00:00Z');

describe('moving an end', () => {
  it('lets an end move within the open period or later, and not before it', () => {
    expect(endMoveProblem({ schedule: monthly, from: null, to: at('2024-04-16T00:00:00Z'), notBefore: april })).toBeNull();
    expect(endMoveProblem({ schedule: monthly, from: at('2024-04-16T00:00:00Z'), to: at('2024-07-01T00:00:00Z'), notBefore: april })).toBeNull();
    expect(endMoveProblem({ schedule: monthly, from: null, to: at('2024-03-20T00:00:00Z'), notBefore: april })).toMatch(/^must not be before 2024-04-01/);
    expect(endMoveProblem({ schedule: monthly, from: at('2024-03-01T00:00:00Z'), to: null, notBefore: april })).toMatch(/cannot be extended/);
  });

  it('refuses to cut a period that began before the open one: a quarter from February 1 ended on April 16', () => {
    const quarterly: PeriodSchedule = { ...monthly, anchor: at('2024-02-01T00:00:00Z'), frequency: 'QUARTERLY', startingAt: at('2024-02-01T00:00:00Z') };
    expect(endMoveProblem({ schedule: quarterly, from: null, to: at('2024-04-16T00:00:00Z'), notBefore: april })).toContain(
      'would change the period 2024-02-01T00:00:00.000Z → 2024-05-01T00:00:00.000Z',
    );
    expect(endMoveProblem({ schedule: quarterly, from: null, to: at('2024-05-01T00:00:00Z'), notBefore: april })).toBeNull();
  });

  it('property: an allowed move leaves every period that starts before the open one as it was', () => {
    const hour = 3_600_000;
    const base = at('2024-01-01T00:00:00Z').getTime();
    const instant = fc.integer({ min: 0, max: 24 * 400 }).map((hours) => new Date(base + hours * hour));
    const end = fc.option(instant, { nil: null });
    fc.assert(
      fc.property(
        fc.constantFrom('WEEKLY', 'MONTHLY', 'QUARTERLY') as fc.Arbitrary<PeriodSchedule['frequency']>,
        fc.integer({ min: 0, max: 24 * 60 }),
        end,
        end,
        instant,
        (frequency, startHours, from, to, notBefore) => {
          const startingAt = new Date(base + startHours * hour);
          if ((from && from <= startingAt) || (to && to <= startingAt)) return;
          const schedule: PeriodSchedule = { anchor: at('2024-01-01T00:00:00Z'), frequency, startingAt, endingBefore: null };
          if (endMoveProblem({ schedule, from, to, notBefore }) !== null) return;
          const before = (endingBefore: Date | null) =>
            periodsBetween({ ...schedule, endingBefore }, { from: startingAt, to: notBefore })
              .filter((period) => period.startingAt < notBefore)
              .map((period) => [period.startingAt.getTime(), period.endingBefore.getTime()]);
          expect(before(to)).toEqual(before(from));
        },
      ),
    );
  });
});
