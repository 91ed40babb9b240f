import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type { Frequency } from '../../../lib/periods.js';
import { quantitySchedule, type QuantityChange } from '../../../lib/quantitySchedule.js';
import { deriveBalances, deriveSettledHistory, mergeById, spendableBalance, type GrantTerms, type RecurringSource, type StoredGrants } from './balances.js';
import type { LedgerEntry } from './segmentLedger.js';

const HOUR = 3_600_000;
const START = Date.UTC(2023, 0, 2);
const terms: GrantTerms = {
  kind: 'CREDIT',
  customerId: 'c',
  contractId: 'k',
  productId: 'p',
  creditTypeId: 'ai',
  priority: new Decimal(1),
  applicableProductIds: null,
  applicableProductTags: null,
  applicableContractIds: null,
  rateType: 'LIST_RATE',
  name: null,
  description: null,
  customFields: {},
  createdAt: new Date(START),
  archivedAt: null,
  subscriptionConfig: null,
};

/** A recurring credit from some hour after START, weekly or monthly, maybe following seats, maybe rolling over. */
const recurringSource = (id: string) =>
  fc
    .record({
      startHours: fc.integer({ min: 0, max: 24 * 60 }),
      frequency: fc.constantFrom<Frequency>('WEEKLY', 'MONTHLY'),
      unitPrice: fc.integer({ min: 1, max: 500 }),
      durationPeriods: fc.integer({ min: 1, max: 2 }),
      rollover: fc.option(fc.constantFrom('0.25', '0.5', '1'), { nil: null }),
      seats: fc.option(fc.array(fc.record({ atHours: fc.integer({ min: 0, max: 24 * 400 }), quantity: fc.integer({ min: 0, max: 200 }) }), { maxLength: 6 }), { nil: null }),
    })
    .map(({ startHours, frequency, unitPrice, durationPeriods, rollover, seats }): RecurringSource => {
      const startingAt = new Date(START + startHours * HOUR);
      const changes: QuantityChange[] | null = seats && [
        { startingAt, sequence: 0, quantity: 10 },
        ...seats.map((seat, i) => ({ startingAt: new Date(startingAt.getTime() + seat.atHours * HOUR), sequence: i + 1, quantity: seat.quantity })),
      ];
      const folded = changes && quantitySchedule(changes);
      return {
        terms: { ...terms, subscriptionConfig: changes ? { subscriptionId: 's', allocation: 'POOLED', seatIncreaseProrated: true } : null },
        source: {
          id,
          terms: { unitPrice: new Decimal(unitPrice), proration: 'FIRST_AND_LAST', seatIncrease: changes ? { isProrated: true } : null },
          schedule: { anchor: startingAt, frequency, startingAt, endingBefore: null },
          fixedQuantity: changes ? null : new Decimal(1),
          seats: changes && folded?.ok ? { changes, steps: folded.steps } : null,
          durationPeriods,
          rolloverFraction: rollover === null ? null : new Decimal(rollover),
        },
      };
    });

const oneOffGrant = (id: string) =>
  fc.record({ fromHours: fc.integer({ min: 0, max: 24 * 400 }), lengthHours: fc.integer({ min: 1, max: 24 * 90 }), amount: fc.integer({ min: 1, max: 10_000 }) }).map(
    ({ fromHours, lengthHours, amount }): StoredGrants['grants'][number] => ({
      id,
      customer_id: 'c',
      contract_id: null,
      kind: 'COMMIT',
      product_id: 'p',
      credit_type_id: 'ai',
      priority: '2',
      applicable_product_ids: null,
      applicable_product_tags: null,
      applicable_contract_ids: null,
      rate_type: 'LIST_RATE',
      name: null,
      description: null,
      custom_fields: {},
      created_at: new Date(START),
      archived_at: null,
      segments: [{ id: `${id}-s`, grant_id: id, position: 0, starting_at: new Date(START + fromHours * HOUR), ending_before: new Date(START + (fromHours + lengthHours) * HOUR), amount: String(amount) }],
    }),
  );

describe('deriving balances again from the ones derived before', () => {
  it('gives the same account as deriving from the start, for random recurring and one-off grants, seat schedules and movements', () => {
    fc.assert(
      fc.property(
        fc.array(recurringSource('r'), { minLength: 1, maxLength: 3 }),
        fc.array(oneOffGrant('o'), { maxLength: 3 }),
        fc.integer({ min: 24 * 30, max: 24 * 500 }),
        fc.array(fc.record({ pick: fc.nat(), amount: fc.integer({ min: 1, max: 3000 }), atHours: fc.integer({ min: 0, max: 24 * 500 }) }), { maxLength: 5 }),
        fc.array(fc.record({ pick: fc.nat(), amount: fc.integer({ min: 1, max: 3000 }) }), { minLength: 1, maxLength: 5 }),
        (recurringDrafts, oneOffDrafts, nowHours, manual, live) => {
          const recurring = recurringDrafts.map((each, i) => ({ ...each, source: { ...each.source, id: `00000000-0000-7000-8000-00000000000${i}` } }));
          const grants = oneOffDrafts.map((grant, i) => ({ ...grant, id: `one-off-${i}`, segments: grant.segments.map((s) => ({ ...s, id: `one-off-${i}-s`, grant_id: `one-off-${i}` })) }));
          const now = new Date(START + nowHours * HOUR);
          const archivedContracts = new Map<string, Date>();
          // Recorded movements on random segments (found by deriving once), then live ones on others.
          const first = deriveBalances({ grants, recurring, archivedContracts, recorded: new Map(), now });
          const segments = first.flatMap((balance) => balance.segments);
          fc.pre(segments.length > 0);
          const recorded = new Map<string, LedgerEntry[]>();
          for (const entry of manual) {
            const segment = segments[entry.pick % segments.length]!;
            const timestamp = new Date(Math.min(Math.max(START + entry.atHours * HOUR, segment.startingAt.getTime()), segment.endingBefore.getTime() - 1));
            recorded.set(segment.id, [...(recorded.get(segment.id) ?? []), { kind: 'MANUAL', amount: new Decimal(-entry.amount), timestamp }]);
          }
          const before = deriveBalances({ grants, recurring, archivedContracts, recorded, now });
          const withLive = new Map(recorded);
          const changed = new Set<string>();
          for (const entry of live) {
            const segment = before.flatMap((balance) => balance.segments)[entry.pick % segments.length];
            if (!segment) continue;
            changed.add(segment.id);
            withLive.set(segment.id, [...(withLive.get(segment.id) ?? []), { kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: new Decimal(-entry.amount), timestamp: segment.endingBefore, live: true }]);
          }
          const fromTheStart = deriveBalances({ grants, recurring, archivedContracts, recorded: withLive, now });
          const again = deriveBalances({ grants, recurring, archivedContracts, recorded: withLive, now, reuse: { before, changed } });
          expect(again).toEqual(fromTheStart);
          expect(spendableBalance(again, 'ai').toFixed()).toBe(spendableBalance(fromTheStart, 'ai').toFixed());
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('leaving settled periods of recurring grants out, and deriving them on their own', () => {
  it('gives the same balances as deriving everything, and the same amount to spend without them, for any settling instant up to now', () => {
    fc.assert(
      fc.property(
        fc.array(recurringSource('r'), { minLength: 1, maxLength: 3 }),
        fc.array(oneOffGrant('o'), { maxLength: 2 }),
        fc.integer({ min: 24 * 30, max: 24 * 500 }),
        fc.integer({ min: 0, max: 24 * 500 }),
        fc.array(fc.record({ pick: fc.nat(), amount: fc.integer({ min: 1, max: 3000 }), atHours: fc.integer({ min: 0, max: 24 * 500 }) }), { maxLength: 5 }),
        (recurringDrafts, oneOffDrafts, nowHours, settledHours, manual) => {
          const recurring = recurringDrafts.map((each, i) => ({ ...each, source: { ...each.source, id: `00000000-0000-7000-8000-00000000000${i}` } }));
          const grants = oneOffDrafts.map((grant, i) => ({ ...grant, id: `one-off-${i}`, segments: grant.segments.map((s) => ({ ...s, id: `one-off-${i}-s`, grant_id: `one-off-${i}` })) }));
          const now = new Date(START + nowHours * HOUR);
          const settledBefore = new Date(Math.min(now.getTime(), START + settledHours * HOUR));
          const archivedContracts = new Map<string, Date>();
          const segments = deriveBalances({ grants, recurring, archivedContracts, recorded: new Map(), now }).flatMap((balance) => balance.segments);
          const recorded = new Map<string, LedgerEntry[]>();
          for (const entry of segments.length ? manual : []) {
            const segment = segments[entry.pick % segments.length]!;
            const timestamp = new Date(Math.min(Math.max(START + entry.atHours * HOUR, segment.startingAt.getTime()), segment.endingBefore.getTime() - 1));
            recorded.set(segment.id, [...(recorded.get(segment.id) ?? []), { kind: 'MANUAL', amount: new Decimal(-entry.amount), timestamp }]);
          }
          const everything = deriveBalances({ grants, recurring, archivedContracts, recorded, now });
          const current = deriveBalances({ grants, recurring, archivedContracts, recorded, now, settledBefore });
          const history = deriveSettledHistory({ recurring, recorded, now, settledBefore });
          expect(mergeById(current, history)).toEqual(everything);
          // Every settled segment ended by the settling instant, so none has anything left to spend.
          for (const segment of history.flatMap((balance) => balance.segments)) expect(segment.endingBefore.getTime()).toBeLessThanOrEqual(settledBefore.getTime());
          expect(spendableBalance(current, 'ai').toFixed()).toBe(spendableBalance(everything, 'ai').toFixed());
        },
      ),
      { numRuns: 100 },
    );
  });
});
