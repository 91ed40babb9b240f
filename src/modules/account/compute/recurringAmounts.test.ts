import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { nthPeriod, type Frequency, type PeriodSchedule } from '../../../lib/periods.js';
import { amountAt, deriveRecurringGrants, type RecurringGrantSource } from './derivedGrants.js';

const at = (iso: string) => new Date(iso);
const schedule = (frequency: Frequency, start = '2024-04-01T00:00:00Z'): PeriodSchedule => ({ anchor: at(start), frequency, startingAt: at(start), endingBefore: null });
const source = (overrides: Partial<RecurringGrantSource> = {}): RecurringGrantSource => ({
  id: '0190a000-0000-7000-8000-000000000002',
  terms: { unitPrice: new Decimal(100), proration: 'FIRST_AND_LAST', seatIncrease: null },
  schedule: schedule('MONTHLY'),
  fixedQuantity: new Decimal(1),
  seats: null,
  durationPeriods: 1,
  rolloverFraction: null,
  ...overrides,
});
const granted = (grants: ReturnType<typeof deriveRecurringGrants>) =>
  grants.map((g) => [g.segments[0]!.startingAt.toISOString().slice(0, 10), g.segments[0]!.amount.toFixed()]);

describe('a recurring grant whose amount changes', () => {
  it('grants 100 in April, 150 from May (set on April 10) and 300 from June (quantity 2, set on May 20)', () => {
    const changed = source({
      amountChanges: [
        { from: at('2024-05-01T00:00:00Z'), unitPrice: new Decimal(150), quantity: new Decimal(1) },
        { from: at('2024-06-01T00:00:00Z'), unitPrice: new Decimal(150), quantity: new Decimal(2) },
      ],
    });
    expect(granted(deriveRecurringGrants({ source: changed, recorded: new Map(), now: at('2024-07-10T00:00:00Z') }))).toEqual([
      ['2024-04-01', '100'],
      ['2024-05-01', '150'],
      ['2024-06-01', '300'],
      ['2024-07-01', '300'],
    ]);
    expect(amountAt(changed, at('2024-04-30T23:59:59Z')).unitPrice.toFixed()).toBe('100');
    expect(amountAt(changed, at('2024-05-01T00:00:00Z')).unitPrice.toFixed()).toBe('150');
  });

  it('prices a pooled grant and its seat increases at the amount in force at the period’s start', () => {
    const changes = [
      { startingAt: at('2024-04-01T00:00:00Z'), sequence: 0, quantity: 10, quantityDelta: null, recordedAt: at('2024-04-01T00:00:00Z') },
      { startingAt: at('2024-05-16T00:00:00Z'), sequence: 1, quantity: 12, quantityDelta: null, recordedAt: at('2024-04-01T00:00:00Z') },
    ];
    const pooled = source({
      terms: { unitPrice: new Decimal(50), proration: 'FIRST_AND_LAST', seatIncrease: { isProrated: false } },
      fixedQuantity: null,
      seats: { changes, steps: [{ startingAt: at('2024-04-01T00:00:00Z'), quantity: 10 }, { startingAt: at('2024-05-16T00:00:00Z'), quantity: 12 }] },
      amountChanges: [{ from: at('2024-05-01T00:00:00Z'), unitPrice: new Decimal(60), quantity: null }],
    });
    const grants = deriveRecurringGrants({ source: pooled, recorded: new Map(), now: at('2024-05-20T00:00:00Z') });
    // April: 10 × 50; May: 10 × 60 and +2 × 60 on May 16.
    expect(granted(grants)).toEqual([
      ['2024-04-01', '500'],
      ['2024-05-01', '720'],
    ]);
  });

  it('property: the periods starting before a change grant what they granted without it, and those from it grant the new amount', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Frequency>('WEEKLY', 'MONTHLY', 'QUARTERLY', 'ANNUAL'),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 50 }),
        (frequency, changePosition, unitPriceCents, quantity) => {
          const base = source({ schedule: schedule(frequency, '2024-04-15T00:00:00Z') });
          const from = nthPeriod(base.schedule, changePosition)!.startingAt;
          const unitPrice = new Decimal(unitPriceCents).div(100);
          const changed = { ...base, amountChanges: [{ from, unitPrice, quantity: new Decimal(quantity) }] };
          const now = nthPeriod(base.schedule, 10)!.startingAt;
          const before = deriveRecurringGrants({ source: base, recorded: new Map(), now });
          const after = deriveRecurringGrants({ source: changed, recorded: new Map(), now });
          expect(after.length).toBe(before.length);
          for (const [position, grant] of after.entries()) {
            const original = before[position]!;
            expect(grant.id).toBe(original.id);
            if (position < changePosition) expect(grant.segments[0]!.amount.toFixed()).toBe(original.segments[0]!.amount.toFixed());
            // Periods after the first are whole: unit_price × quantity exactly.
            else if (position > 0) expect(grant.segments[0]!.amount.toFixed()).toBe(unitPrice.mul(quantity).toFixed());
          }
        },
      ),
    );
  });
});
