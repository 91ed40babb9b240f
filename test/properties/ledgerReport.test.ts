import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, sumExactly } from '../../src/lib/money.js';
import type { Frequency } from '../../src/lib/periods.js';
import { prorate } from '../../src/lib/proration.js';
import { quantitySchedule, type QuantityChange } from '../../src/lib/quantitySchedule.js';
import { deriveRecurringGrants, type DerivedSegment, type RecordedMovements, type RecurringGrantSource } from '../../src/modules/account/compute/derivedGrants.js';
import type { ProrationMode } from '../../src/modules/account/compute/pooledGrant.js';
import type { LedgerEntry } from '../../src/modules/account/compute/segmentLedger.js';
import { segmentSummary } from '../../src/modules/reports/compute/segmentSummary.js';

/**
 * The reconciliation report (docs/rules.md rule 19) fed by derived ledgers (rule 11): for random
 * pooled credits following random seat schedules, with random usage drawn from them, every
 * segment adds up in every window. Its amounts are what makes a report cry wolf if anything
 * does: prorated seat adjustments at odd instants (any millisecond, rule 1), odd unit prices, rollover fractions like 0.333,
 * and usage charges that are themselves prorated (40 significant digits).
 */

const HOUR = 3_600_000;
const START = Date.UTC(2024, 4, 1);

const seatChange = fc.record({ milliseconds: fc.integer({ min: 0, max: 24 * 75 * HOUR }), deltas: fc.array(fc.integer({ min: -6, max: 8 }), { minLength: 1, maxLength: 3 }) });

const grantSource = fc
  .record({
    frequency: fc.constantFrom<Frequency>('MONTHLY', 'WEEKLY'),
    startHours: fc.constantFrom(0, 0, 6, 24 * 9 + 18),
    unitPrice: fc.constantFrom('50', '0.37', '12.5', '1', '0.001', '333.333333', '7'),
    proration: fc.constantFrom<ProrationMode>('FIRST_AND_LAST', 'NONE'),
    isProrated: fc.boolean(),
    initialSeats: fc.integer({ min: 0, max: 200 }),
    changes: fc.array(seatChange, { maxLength: 12 }),
    durationPeriods: fc.integer({ min: 1, max: 2 }),
    rollover: fc.constantFrom(null, '0.5', '0.3', '0.333', '1'),
    endHours: fc.option(fc.integer({ min: 24 * 20, max: 24 * 90 }), { nil: null }),
  })
  .map((drawn): RecurringGrantSource => {
    const startingAt = new Date(START + drawn.startHours * HOUR);
    // Deltas as sent, several at one instant; a delta that would go below 0 sets 0 instead.
    const changes: QuantityChange[] = [{ startingAt, sequence: 0, quantity: drawn.initialSeats }];
    let quantity = drawn.initialSeats;
    for (const change of [...drawn.changes].sort((a, b) => a.milliseconds - b.milliseconds)) {
      for (const delta of change.deltas) {
        const at = new Date(startingAt.getTime() + change.milliseconds);
        changes.push(quantity + delta < 0 ? { startingAt: at, sequence: changes.length, quantity: 0 } : { startingAt: at, sequence: changes.length, quantityDelta: delta });
        quantity = Math.max(0, quantity + delta);
      }
    }
    const folded = quantitySchedule(changes);
    if (!folded.ok) throw new Error('the schedule never goes below 0');
    return {
      id: '00000000-0000-7000-8000-000000000001',
      terms: { unitPrice: new Decimal(drawn.unitPrice), proration: drawn.proration, seatIncrease: { isProrated: drawn.isProrated } },
      schedule: { anchor: new Date(START), frequency: drawn.frequency, startingAt, endingBefore: drawn.endHours === null ? null : new Date(START + drawn.endHours * HOUR) },
      fixedQuantity: null,
      seats: { changes, steps: folded.steps },
      durationPeriods: drawn.durationPeriods,
      rolloverFraction: drawn.rollover === null ? null : new Decimal(drawn.rollover),
    };
  });

/** A usage charge: whole credits, cents, or a prorated seat charge (`price × hours/744`, not a finite decimal). */
const charge = fc.oneof(
  fc.integer({ min: 1, max: 4000 }).map((n) => new Decimal(n)),
  fc.integer({ min: 1, max: 400_000 }).map((n) => new Decimal(n).div(100)),
  fc.record({ price: fc.integer({ min: 1, max: 2000 }), hours: fc.integer({ min: 1, max: 743 }) }).map(({ price, hours }) => prorate(new Decimal(price), { numerator: BigInt(hours), denominator: 744n })),
);
const usage = fc.array(fc.record({ pick: fc.nat(), amount: charge }), { maxLength: 10 });

const segmentsOf = (source: RecurringGrantSource, recorded: RecordedMovements, now: Date): DerivedSegment[] =>
  deriveRecurringGrants({ source, recorded, now })
    .flatMap((grant) => grant.segments)
    .sort((a, b) => a.startingAt.getTime() - b.startingAt.getTime() || (a.id < b.id ? -1 : 1));

/**
 * Draws the usage from the segments as drawdown would (never more than a segment still holds),
 * one segment at a time in start order, deriving again after each so that a rolled-over credit
 * holds what its source had left. An ended segment's draws are recorded invoice deductions dated
 * at its end; an open one's are the draft's live deductions.
 */
function drawUsage(source: RecurringGrantSource, charges: { pick: number; amount: Decimal }[], now: Date): DerivedSegment[] {
  const recorded = new Map<string, LedgerEntry[]>();
  const ids = segmentsOf(source, recorded, now).map((segment) => segment.id);
  for (const [index, id] of ids.entries()) {
    const segment = segmentsOf(source, recorded, now).find((each) => each.id === id);
    if (!segment) continue;
    let left = segment.ledger.held;
    for (const { amount } of charges.filter((each) => each.pick % ids.length === index)) {
      const take = Decimal.min(amount, left);
      if (!take.gt(0)) continue;
      const ended = segment.endingBefore <= now;
      recorded.set(id, [...(recorded.get(id) ?? []), { kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: take.neg(), timestamp: segment.endingBefore, ...(!ended && { live: true }) }]);
      left = sumExactly([left, take.neg()]);
    }
  }
  return segmentsOf(source, recorded, now);
}

const months = Array.from({ length: 5 }, (_, i) => new Date(Date.UTC(2024, 4 + i, 1)));

describe('the ledger report of derived balances (rules 11 and 19)', () => {
  it('property: adds up exactly in every window, for 1,000 random seat schedules and usage', () => {
    fc.assert(
      fc.property(grantSource, usage, fc.integer({ min: HOUR, max: 24 * 110 * HOUR }), (source, charges, nowMilliseconds) => {
        const now = new Date(START + nowMilliseconds);
        const segments = drawUsage(source, charges, now);
        const windows = [
          ...months.slice(0, -1).map((from, i) => ({ from, to: months[i + 1]! })),
          { from: new Date(START), to: now },
          { from: new Date(START), to: months.at(-1)! },
        ];
        for (const segment of segments) {
          const { entries, balance, held } = segment.ledger;
          if (segment.endingBefore <= now && held.gt(0)) {
            // What leaves an ended segment is exactly what it held.
            expect(balance.isZero()).toBe(true);
            expect(sumExactly(entries.filter((entry) => entry.kind === 'ROLLOVER' || entry.kind === 'EXPIRATION').map((entry) => entry.amount)).eq(held.neg())).toBe(true);
          }
          for (const window of windows) {
            if (segment.startingAt >= window.to || segment.endingBefore < window.from) continue;
            const summary = segmentSummary({ entries, segmentEnd: segment.endingBefore, ...window, closing: window.to > now ? balance : undefined, now });
            expect(summary.addsUp, `${segment.id} over ${window.from.toISOString()} → ${window.to.toISOString()}: ${JSON.stringify(summary)}`).toBe(true);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
