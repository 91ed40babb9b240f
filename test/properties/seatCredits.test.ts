import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, sumExactly } from '../../src/lib/money.js';
import { quantityChangesOfSeats, seatSchedule, type SeatChange } from '../../src/lib/seatSchedule.js';
import { quantitySchedule } from '../../src/lib/quantitySchedule.js';
import { deriveRecurringGrants, type DerivedGrant, type RecurringGrantSource } from '../../src/modules/account/compute/derivedGrants.js';
import { drawDown, type FundingCharge, type FundingSegment } from '../../src/modules/account/compute/drawdown.js';
import type { LedgerEntry } from '../../src/modules/account/compute/segmentLedger.js';

/**
 * Seat credits and a pool (docs/rules.md rules 28 and 29), for random seat additions and removals
 * over April and random usage by seats, by ids that are not seats, and by no seat: each seat's own
 * credit (50, priority 1) and a pool (100 a seat, priority 2) drawn as the account draws them.
 *
 * - Every seat's ledger adds up: once April has ended, what it was granted, less what the draft
 *   drew, less what expired, is 0, and it never gave more than it held.
 * - The pool never pays for what a seat's own credit could: when the pool paid for a seat's usage,
 *   that seat's own credit (if it has one) is empty.
 */

const DAY = 86_400_000;
const APRIL = Date.UTC(2024, 3, 1);
const MAY = Date.UTC(2024, 4, 1);
const SEATS = ['ada', 'bob', 'cy', 'dan', 'eve'];

const seatUpdate = fc.record({
  at: fc.integer({ min: 1, max: 29 * 24 * 60 }).map((minutes) => new Date(APRIL + minutes * 60_000)),
  action: fc.constantFrom<SeatChange['action']>('ADD_SEATS', 'REMOVE_SEATS'),
  seats: fc.subarray(SEATS, { minLength: 1 }),
});
const usage = fc.record({ day: fc.integer({ min: 0, max: 29 }), who: fc.constantFrom(...SEATS, 'zed', ''), amount: fc.integer({ min: 1, max: 120 }) });

const schedule = { anchor: new Date(APRIL), frequency: 'MONTHLY' as const, startingAt: new Date(APRIL), endingBefore: null };

describe('seat credits beside a pool (property)', () => {
  it('each seat ledger adds up and the pool never pays for what a seat’s own credit could', () => {
    fc.assert(
      fc.property(fc.subarray(SEATS), fc.array(seatUpdate, { maxLength: 8 }), fc.array(usage, { maxLength: 25 }), (initial, updates, uses) => {
        // Seat changes as validated ones would be: an id added only when it is not assigned then.
        const changes: SeatChange[] = [{ startingAt: new Date(APRIL), sequence: 0, action: 'ADD_SEATS', seatIds: initial, recordedAt: new Date(APRIL) }];
        for (const update of [...updates].sort((a, b) => a.at.getTime() - b.at.getTime())) {
          const candidate: SeatChange = { startingAt: update.at, sequence: changes.length + 1, action: update.action, seatIds: update.seats, recordedAt: new Date(APRIL) };
          if (seatSchedule([...changes, candidate]).ok) changes.push(candidate);
        }
        const seats = seatSchedule(changes);
        if (!seats.ok) throw new Error('kept changes fold');
        const quantity = quantitySchedule(quantityChangesOfSeats(changes));
        if (!quantity.ok) throw new Error('seats never go below 0');
        const source = (id: string, unitPrice: number, perSeat: boolean): RecurringGrantSource => ({
          id,
          terms: { unitPrice: new Decimal(unitPrice), proration: 'FIRST_AND_LAST', seatIncrease: { isProrated: true } },
          schedule,
          fixedQuantity: null,
          seats: perSeat ? null : { changes: quantityChangesOfSeats(changes), steps: quantity.steps },
          perSeat: perSeat ? { changes, steps: seats.steps } : null,
          durationPeriods: 1,
          rolloverFraction: null,
        });
        const own = source('00000000-0000-7000-8000-000000000001', 50, true);
        const pool = source('00000000-0000-7000-8000-000000000002', 100, false);
        const inApril = (now: Date, recorded = new Map<string, LedgerEntry[]>()) =>
          [own, pool].flatMap((s) => deriveRecurringGrants({ source: s, recorded, now }).filter((g) => g.segments[0]!.startingAt.getTime() === APRIL));

        const now = new Date(MAY - 1);
        const grants = inApril(now);
        const segmentOf = (grant: DerivedGrant): FundingSegment => ({
          grantId: grant.id,
          segmentId: grant.segments[0]!.id,
          kind: 'CREDIT',
          priority: new Decimal(grant.seatId === undefined ? 2 : 1),
          creditTypeId: 'ai',
          applicableProductIds: null,
          applicableProductTags: null,
          productScope: Infinity,
          contractId: 'k',
          applicableContractIds: null,
          startingAt: grant.segments[0]!.startingAt,
          endingBefore: grant.segments[0]!.endingBefore,
          available: grant.segments[0]!.ledger.held,
          rolloverOf: null,
          ...(grant.seatId !== undefined && { seatId: grant.seatId }),
        });
        const charges: FundingCharge[] = uses.map((use) => ({
          lineId: `line:${use.who}`,
          contractId: 'k',
          productId: 'chat',
          productTags: [],
          creditTypeId: 'ai',
          startingAt: new Date(APRIL + use.day * DAY),
          endingBefore: new Date(APRIL + (use.day + 1) * DAY),
          amount: new Decimal(use.amount),
          ...(use.who && { seatId: use.who }),
        }));
        const funded = drawDown({ segments: grants.map(segmentOf), charges });

        const seatSegment = new Map(grants.filter((g) => g.seatId !== undefined).map((g) => [g.seatId!, g.segments[0]!]));
        const poolSegment = grants.find((g) => g.seatId === undefined)!.segments[0]!;
        for (const [seatId, segment] of seatSegment) {
          const drawn = funded.drawn.get(segment.id) ?? new Decimal(0);
          expect(drawn.lte(segment.ledger.held)).toBe(true);
          // A seat's credit pays only for that seat's usage.
          for (const [lineId, applied] of funded.applied) if (lineId !== `line:${seatId}`) expect(applied.has(segment.id)).toBe(false);
          const paidByPool = funded.applied.get(`line:${seatId}`)?.get(poolSegment.id);
          if (paidByPool?.gt(0)) expect(sumExactly([segment.ledger.held, drawn.neg()]).isZero()).toBe(true);
        }

        // After April: granted − drawn − expired = 0 on every seat's ledger.
        const recorded = new Map<string, LedgerEntry[]>();
        for (const [segmentId, amount] of funded.drawn) recorded.set(segmentId, [{ kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: amount.neg(), timestamp: new Date(MAY) }]);
        for (const grant of inApril(new Date(MAY), recorded)) {
          const { entries, balance } = grant.segments[0]!.ledger;
          expect(balance.isZero()).toBe(true);
          const by = (kind: LedgerEntry['kind']) => sumExactly(entries.filter((e) => e.kind === kind).map((e) => e.amount));
          expect(sumExactly([by('SEGMENT_START'), by('SEAT_BASED_ADJUSTMENT'), by('AUTOMATED_INVOICE_DEDUCTION'), by('EXPIRATION')]).isZero()).toBe(true);
          if (grant.seatId !== undefined) {
            // Its grant: 50 for a seat there on April 1, else 50 × the part of April left when it joined.
            const start = entries.find((e) => e.kind === 'SEGMENT_START')!;
            const expected = new Decimal(50).mul(MAY - start.timestamp.getTime()).div(MAY - APRIL);
            expect(start.amount.sub(expected).abs().lt('1e-18')).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
