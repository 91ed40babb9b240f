import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { periodsBetween, type Frequency, type PeriodSchedule } from '../../../lib/periods.js';
import { deriveOneOffGrant, deriveRecurringGrants, generatedId, grantBalance, settledPeriods, type RecurringGrantSource } from './derivedGrants.js';

const at = (iso: string) => new Date(iso);
const monthly: PeriodSchedule = { anchor: at('2024-01-01T00:00:00Z'), frequency: 'MONTHLY', startingAt: at('2024-01-01T00:00:00Z'), endingBefore: null };
const source = (overrides: Partial<RecurringGrantSource> = {}): RecurringGrantSource => ({
  id: '0190a000-0000-7000-8000-000000000001',
  terms: { unitPrice: new Decimal(100), proration: 'FIRST_AND_LAST', seatIncrease: null },
  schedule: monthly,
  fixedQuantity: new Decimal(2),
  seats: null,
  durationPeriods: 1,
  rolloverFraction: null,
  ...overrides,
});
const summary = (grants: ReturnType<typeof deriveRecurringGrants>) =>
  grants.map((g) => g.segments.map((s) => [s.startingAt.toISOString().slice(0, 10), s.endingBefore.toISOString().slice(0, 10), s.ledger.balance.toFixed()]));

describe('derived grants', () => {
  it('generates one grant per period that has started, expiring the ended ones', () => {
    const grants = deriveRecurringGrants({ source: source(), recorded: new Map(), now: at('2024-03-10T00:00:00Z') });
    expect(summary(grants)).toEqual([[['2024-01-01', '2024-02-01', '0']], [['2024-02-01', '2024-03-01', '0']], [['2024-03-01', '2024-04-01', '200']]]);
  });

  it('gives each segment access for commit_duration periods', () => {
    const grants = deriveRecurringGrants({ source: source({ durationPeriods: 2 }), recorded: new Map(), now: at('2024-02-10T00:00:00Z') });
    expect(summary(grants)).toEqual([[['2024-01-01', '2024-03-01', '200']], [['2024-02-01', '2024-04-01', '200']]]);
  });

  it('derives the same ids on every read, sorted by the time they start', () => {
    const read = () => deriveRecurringGrants({ source: source(), recorded: new Map(), now: at('2024-03-10T00:00:00Z') }).map((g) => g.id);
    const ids = read();
    expect(read()).toEqual(ids);
    expect([...ids].sort()).toEqual(ids);
    expect(generatedId(at('2024-01-01T00:00:00Z'), 'x')).toMatch(/^018cc251-f400-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('rolls the remainder over into a credit for the next period, once', () => {
    const grants = deriveRecurringGrants({ source: source({ rolloverFraction: new Decimal('0.25') }), recorded: new Map(), now: at('2024-02-10T00:00:00Z') });
    expect(summary(grants)).toEqual([[['2024-01-01', '2024-02-01', '0']], [['2024-02-01', '2024-03-01', '50']], [['2024-02-01', '2024-03-01', '200']]]);
    expect(grants[1]!.rolledOverFrom).toBe(grants[0]!.id);
  });

  it('counts recorded movements on the segment they name', () => {
    const grant = deriveOneOffGrant({
      source: { id: 'g', segments: [{ id: 's1', startingAt: at('2024-01-01T00:00:00Z'), endingBefore: at('2024-02-01T00:00:00Z'), amount: new Decimal(10000) }] },
      recorded: new Map([['s1', [{ kind: 'MANUAL', amount: new Decimal(-6300), timestamp: at('2024-01-15T00:00:00Z') }]]]),
      now: at('2024-01-20T00:00:00Z'),
    });
    expect(grantBalance(grant).toFixed()).toBe('3700');
  });
});

describe('the periods a recurring grant derives', () => {
  it('are every period started by now, and the settled ones are those ended by the settling instant with their rollover (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Frequency>('WEEKLY', 'MONTHLY', 'QUARTERLY'),
        fc.integer({ min: 0, max: 24 * 90 }),
        fc.option(fc.integer({ min: 1, max: 24 * 800 }), { nil: null }),
        fc.integer({ min: 0, max: 24 * 900 }),
        fc.integer({ min: 0, max: 24 * 900 }),
        fc.boolean(),
        (frequency, startHours, lengthHours, nowHours, settledHours, rollsOver) => {
          const anchor = at('2024-01-01T00:00:00Z');
          const startingAt = new Date(anchor.getTime() + startHours * 3_600_000);
          const schedule: PeriodSchedule = { anchor, frequency, startingAt, endingBefore: lengthHours === null ? null : new Date(startingAt.getTime() + lengthHours * 3_600_000) };
          const recurring = source({ schedule, rolloverFraction: rollsOver ? new Decimal('0.5') : null });
          const now = new Date(anchor.getTime() + nowHours * 3_600_000);
          const started = periodsBetween(schedule, { from: startingAt, to: new Date(now.getTime() + 1) });
          const derived = deriveRecurringGrants({ source: recurring, recorded: new Map(), now }).flatMap((grant) => (grant.recurring ? [grant.recurring.periodIndex] : []));
          expect(derived).toEqual(started.map((period) => period.index));
          const settledBefore = new Date(anchor.getTime() + settledHours * 3_600_000);
          const settled = settledPeriods(recurring, settledBefore);
          const all = periodsBetween(schedule, { from: startingAt, to: new Date(Math.max(now.getTime(), settledBefore.getTime()) + 1) });
          // A settled period's own segment and the period its rollover would fill have ended.
          for (let position = 0; position < settled; position += 1) expect(all[position + (rollsOver ? 1 : 0)]!.endingBefore.getTime()).toBeLessThanOrEqual(settledBefore.getTime());
          // The first unsettled one has not.
          const next = all[settled + (rollsOver ? 1 : 0)];
          if (next) expect(next.endingBefore.getTime()).toBeGreaterThan(settledBefore.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });
});
