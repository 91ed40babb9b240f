import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type { Period } from '../../../lib/periods.js';
import { quantitySchedule, type QuantityChange } from '../../../lib/quantitySchedule.js';
import { quantityAt, stepsDuring, type QuantityStep } from '../../../lib/quantitySchedule.js';
import { grantForPeriod, seatAdjustments, type RecurringGrantTerms } from './pooledGrant.js';

const at = (iso: string) => new Date(iso);
const april: Period = {
  index: 0,
  startingAt: at('2024-04-01T00:00:00Z'),
  endingBefore: at('2024-05-01T00:00:00Z'),
  fullStartingAt: at('2024-04-01T00:00:00Z'),
  fullEndingBefore: at('2024-05-01T00:00:00Z'),
};
const halfway = at('2024-04-16T00:00:00Z');
const terms = (isProrated: boolean): RecurringGrantTerms => ({ unitPrice: new Decimal(50), proration: 'FIRST_AND_LAST', seatIncrease: { isProrated } });
const steps = (changes: Omit<QuantityChange, 'sequence'>[]) => {
  const result = quantitySchedule(changes.map((change, sequence) => ({ ...change, sequence })));
  if (!result.ok) throw new Error('negative quantity');
  return result.steps;
};
/** The highest quantity reached in a period up to `now`, computed independently of `seatAdjustments`. */
function seatHighWaterMark({ period, steps, now }: { period: Period; steps: readonly QuantityStep[]; now: Date }): number {
  let highWaterMark = quantityAt(steps, period.startingAt);
  for (const step of stepsDuring(steps, period)) {
    if (step.startingAt <= now) highWaterMark = Math.max(highWaterMark, step.quantity);
  }
  return highWaterMark;
}

const total = (amounts: { amount: Decimal }[]) => amounts.reduce((sum, m) => sum.add(m.amount), new Decimal(0)).toFixed();

describe('pooled grants (rules 4–6)', () => {
  it('grants 100 seats × 50 = 5,000 at period start', () => {
    expect(grantForPeriod({ terms: terms(true), period: april, quantity: new Decimal(100) }).amount.toFixed()).toBe('5000');
  });

  it('prorates a short first period unless proration says otherwise', () => {
    const short: Period = { ...april, startingAt: halfway };
    expect(grantForPeriod({ terms: terms(true), period: short, quantity: new Decimal(100) }).amount.toFixed()).toBe('2500');
    expect(grantForPeriod({ terms: { ...terms(true), proration: 'LAST' }, period: short, quantity: new Decimal(100) }).amount.toFixed()).toBe('5000');
    expect(grantForPeriod({ terms: { ...terms(true), proration: 'NONE' }, period: short, quantity: new Decimal(100) }).amount.toFixed()).toBe('5000');
  });

  it('adds +250 for 10 seats at exactly half a monthly period when prorated, +500 when not', () => {
    const schedule = steps([{ startingAt: april.startingAt, quantity: 100 }, { startingAt: halfway, quantity: 110 }]);
    expect(total(seatAdjustments({ terms: terms(true), period: april, steps: schedule, startQuantity: quantityAt(schedule, april.startingAt), now: april.endingBefore }))).toBe('250');
    expect(total(seatAdjustments({ terms: terms(false), period: april, steps: schedule, startQuantity: quantityAt(schedule, april.startingAt), now: april.endingBefore }))).toBe('500');
    // Before the change takes effect, nothing has been added.
    expect(seatAdjustments({ terms: terms(true), period: april, steps: schedule, startQuantity: quantityAt(schedule, april.startingAt), now: at('2024-04-15T00:00:00Z') })).toEqual([]);
  });

  it('grants nothing new for 100 → 90 → 100 in one period, and nothing back for a decrease', () => {
    const schedule = steps([
      { startingAt: april.startingAt, quantity: 100 },
      { startingAt: at('2024-04-05T00:00:00Z'), quantity: 90 },
      { startingAt: at('2024-04-20T00:00:00Z'), quantity: 100 },
    ]);
    expect(seatAdjustments({ terms: terms(false), period: april, steps: schedule, startQuantity: quantityAt(schedule, april.startingAt), now: april.endingBefore })).toEqual([]);
  });

  it('charges 10 → 5 → 15 only from the high-water mark', () => {
    const schedule = steps([
      { startingAt: april.startingAt, quantity: 10 },
      { startingAt: at('2024-04-05T00:00:00Z'), quantity: 5 },
      { startingAt: at('2024-04-20T00:00:00Z'), quantity: 15 },
    ]);
    expect(total(seatAdjustments({ terms: terms(false), period: april, steps: schedule, startQuantity: quantityAt(schedule, april.startingAt), now: april.endingBefore }))).toBe('250');
  });

  it('grants the same whether a seat increase is made as one change or split into two at the same instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 29 * 24 }), (start, first, second, hours) => {
        const t = new Date(april.startingAt.getTime() + hours * 3_600_000);
        const one = steps([{ startingAt: april.startingAt, quantity: start }, { startingAt: t, quantity: start + first + second }]);
        const two = steps([
          { startingAt: april.startingAt, quantity: start },
          { startingAt: t, quantityDelta: first },
          { startingAt: t, quantityDelta: second },
        ]);
        const grant = (s: typeof one) => total(seatAdjustments({ terms: terms(true), period: april, steps: s, startQuantity: quantityAt(s, april.startingAt), now: april.endingBefore }));
        expect(grant(two)).toBe(grant(one));
      }),
    );
  });

  it('never grants more in a period than its high-water mark of seats, whatever the decreases and re-increases', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.record({ hours: fc.integer({ min: 1, max: 29 * 24 }), quantity: fc.integer({ min: 0, max: 150 }) }), { maxLength: 12 }),
        fc.boolean(),
        (start, changes, isProrated) => {
          const schedule = steps([{ startingAt: april.startingAt, quantity: start }, ...changes.map((c) => ({ startingAt: new Date(april.startingAt.getTime() + c.hours * 3_600_000), quantity: c.quantity }))]);
          const granted = new Decimal(total([grantForPeriod({ terms: terms(isProrated), period: april, quantity: new Decimal(start) })])).add(
            total(seatAdjustments({ terms: terms(isProrated), period: april, steps: schedule, startQuantity: quantityAt(schedule, april.startingAt), now: april.endingBefore })),
          );
          const highWaterMark = seatHighWaterMark({ period: april, steps: schedule, now: april.endingBefore });
          expect(granted.lte(new Decimal(highWaterMark).mul(50))).toBe(true);
          if (!isProrated) expect(granted.toFixed()).toBe(new Decimal(highWaterMark).mul(50).toFixed());
        },
      ),
    );
  });

  it('rounds the period grant once: +7, +6 and +4 of 100 seats at 06:00, 12:00 and 18:00 on May 1 add exactly 837.5', () => {
    const may: Period = { index: 0, startingAt: at('2024-05-01T00:00:00Z'), endingBefore: at('2024-06-01T00:00:00Z'), fullStartingAt: at('2024-05-01T00:00:00Z'), fullEndingBefore: at('2024-06-01T00:00:00Z') };
    const schedule = steps([
      { startingAt: may.startingAt, quantity: 100 },
      ...[[6, 4], [6, 3], [12, 3], [12, 1], [12, 2], [18, 2], [18, 4], [18, -2], [24, 3], [24, -1], [24, -2]].map(([hours, delta]) => ({ startingAt: new Date(may.startingAt.getTime() + hours! * 3_600_000), quantityDelta: delta! })),
    ]);
    const adjustments = seatAdjustments({ terms: terms(true), period: may, steps: schedule, startQuantity: 100, now: may.endingBefore });
    expect(adjustments.map((m) => m.amount.toFixed())).toEqual(['347.17741935483870967742', '295.16129032258064516129', '195.16129032258064516129']);
    expect(total(adjustments)).toBe('837.5');
    // From May 15 (17 of 31 days), the start is 5,000 × 17/31 and +10 seats then add 8500/31, each rounded once.
    const fromMay15: Period = { ...may, startingAt: at('2024-05-15T00:00:00Z') };
    expect(grantForPeriod({ terms: terms(true), period: fromMay15, quantity: new Decimal(100) }).amount.toFixed()).toBe('2741.93548387096774193548');
    const tenMore = steps([{ startingAt: fromMay15.startingAt, quantity: 100 }, { startingAt: at('2024-05-15T00:00:00Z'), quantityDelta: 10 }]);
    expect(total(seatAdjustments({ terms: terms(true), period: fromMay15, steps: tenMore, startQuantity: 100, now: may.endingBefore }))).toBe('274.19354838709677419355');
  });

  it("property: a period's start and seat adjustments add up to its exact grant, rounded once to 20 decimals", () => {
    const Exact = Decimal.clone({ precision: 200 });
    fc.assert(
      fc.property(
        fc.constantFrom('50', '0.37', '333.333333', '0.0000000000000000000001', '12345678.9'),
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.record({ hours: fc.integer({ min: 0, max: 30 * 24 - 1 }), quantity: fc.integer({ min: 0, max: 400 }) }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 20 * 24 }),
        (unitPrice, start, changes, startHours) => {
          const period: Period = { ...april, startingAt: new Date(april.startingAt.getTime() + startHours * 3_600_000) };
          const schedule = steps([{ startingAt: period.startingAt, quantity: start }, ...changes.map((c) => ({ startingAt: new Date(april.startingAt.getTime() + c.hours * 3_600_000), quantity: c.quantity }))]);
          const grantTerms: RecurringGrantTerms = { ...terms(true), unitPrice: new Decimal(unitPrice) };
          const movements = [grantForPeriod({ terms: grantTerms, period, quantity: new Decimal(start) }), ...seatAdjustments({ terms: grantTerms, period, steps: schedule, startQuantity: start, now: april.endingBefore })];
          // The exact grant, in seat-hours: the start covers the hours left from it; each increase over the high-water mark, the hours left from its instant.
          const full = 30 * 24;
          let seatHours = start * (full - startHours);
          let highWaterMark = start;
          for (const step of stepsDuring(schedule, period)) {
            if (step.quantity <= highWaterMark) continue;
            seatHours += (step.quantity - highWaterMark) * ((april.endingBefore.getTime() - step.startingAt.getTime()) / 3_600_000);
            highWaterMark = step.quantity;
          }
          const exact = new Exact(unitPrice).mul(seatHours).div(full).toDecimalPlaces(20, Decimal.ROUND_HALF_EVEN);
          expect(total(movements)).toBe(exact.toFixed());
          for (const movement of movements) expect(movement.amount.decimalPlaces()).toBeLessThanOrEqual(20);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('prorates an increase off the hour exactly: +2 of 10 seats at 50 on April 16 at 12:30 add 100 × 347.5/720', () => {
    const schedule = steps([{ startingAt: april.startingAt, quantity: 10 }, { startingAt: at('2024-04-16T12:30:00Z'), quantityDelta: 2 }]);
    const movements = seatAdjustments({ terms: terms(true), period: april, steps: schedule, startQuantity: 10, now: at('2024-04-16T12:30:00Z') });
    expect(movements.map((m) => [m.amount.toFixed(), m.timestamp.toISOString()])).toEqual([['48.26388888888888888889', '2024-04-16T12:30:00.000Z']]);
    // A millisecond before, it has not come.
    expect(seatAdjustments({ terms: terms(true), period: april, steps: schedule, startQuantity: 10, now: at('2024-04-16T12:29:59.999Z') })).toEqual([]);
  });

  it('property: changes at any millisecond add up to the exact grant in seat-milliseconds, rounded once to 20 decimals', () => {
    const Exact = Decimal.clone({ precision: 200 });
    const length = april.endingBefore.getTime() - april.startingAt.getTime();
    fc.assert(
      fc.property(
        fc.constantFrom('50', '0.37', '333.333333', '12345678.9'),
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.record({ offset: fc.integer({ min: 0, max: length - 1 }), quantity: fc.integer({ min: 0, max: 400 }) }), { maxLength: 12 }),
        (unitPrice, start, changes) => {
          const schedule = steps([{ startingAt: april.startingAt, quantity: start }, ...changes.map((c) => ({ startingAt: new Date(april.startingAt.getTime() + c.offset), quantity: c.quantity }))]);
          const grantTerms: RecurringGrantTerms = { ...terms(true), unitPrice: new Decimal(unitPrice) };
          const startQuantity = quantityAt(schedule, april.startingAt);
          const movements = [grantForPeriod({ terms: grantTerms, period: april, quantity: new Decimal(startQuantity) }), ...seatAdjustments({ terms: grantTerms, period: april, steps: schedule, startQuantity, now: april.endingBefore })];
          let seatMilliseconds = new Exact(startQuantity).mul(length);
          let highWaterMark = startQuantity;
          for (const step of stepsDuring(schedule, april)) {
            if (step.quantity <= highWaterMark) continue;
            seatMilliseconds = seatMilliseconds.add(new Exact(step.quantity - highWaterMark).mul(april.endingBefore.getTime() - step.startingAt.getTime()));
            highWaterMark = step.quantity;
          }
          expect(total(movements)).toBe(new Exact(unitPrice).mul(seatMilliseconds).div(length).toDecimalPlaces(20, Decimal.ROUND_HALF_EVEN).toFixed());
        },
      ),
      { numRuns: 300 },
    );
  });
});
