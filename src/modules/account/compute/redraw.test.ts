import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { APRIL, fundingSegment } from '../../../../test/helpers/funding.js';
import { drawDown, type Drawdown, type FundingCharge } from './drawdown.js';
import { redrawDown } from './redraw.js';

const MID_APRIL = new Date('2024-04-16T00:00:00Z');
const SLICES = [
  { startingAt: APRIL.startingAt, endingBefore: MID_APRIL },
  { startingAt: MID_APRIL, endingBefore: APRIL.endingBefore },
];

const segment = fundingSegment;

/** Every map of a drawdown as lists, in their order, amounts as text: two drawdowns are the same when these are equal. */
const shape = (result: Drawdown) => ({
  drawn: [...result.drawn].map(([id, amount]) => [id, amount.toFixed()]),
  applied: [...result.applied].map(([line, segments]) => [line, [...segments].map(([id, amount]) => [id, amount.toFixed()])]),
  overage: [...result.overage].map(([line, amount]) => [line, amount.toFixed()]),
});

const seatCount = 4;
const amount = fc.integer({ min: 0, max: 40 }).map((cents) => new Decimal(cents).div(4));

/** Segments: each seat's own (priority 1, some empty), a pool (priority 2) and sometimes a second pool for one product only. */
const segmentsArb = fc
  .record({
    own: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: seatCount, maxLength: seatCount }),
    pool: fc.integer({ min: 0, max: 400 }),
    chatPool: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
  })
  .map(({ own, pool, chatPool }) => [
    ...own.map((available, seat) => segment(`own-${seat}`, available, { seatId: `seat-${seat}` })),
    segment('pool', pool, { priority: new Decimal(2) }),
    ...(chatPool === undefined ? [] : [segment('chat-pool', chatPool, { priority: new Decimal(2), applicableProductIds: ['chat'], productScope: 1 })]),
  ]);

/** Per line and slice: a part per seat and the part naming no seat; then one seat charge. */
const amountsArb = fc.array(amount, { minLength: 2 * 2 * (seatCount + 1), maxLength: 2 * 2 * (seatCount + 1) });

function chargesOf(amounts: readonly Decimal[]): FundingCharge[] {
  const charges: FundingCharge[] = [];
  let next = 0;
  for (const productId of ['chat', 'embed']) {
    for (const slice of SLICES) {
      for (let seat = 0; seat <= seatCount; seat++) {
        charges.push({
          lineId: `line-${productId}`,
          contractId: 'contract',
          productId,
          productTags: [],
          creditTypeId: 'ai',
          ...slice,
          amount: amounts[next++]!,
          ...(seat < seatCount && { seatId: `seat-${seat}` }),
        });
      }
    }
  }
  charges.push({ lineId: 'seats', contractId: 'contract', productId: 'seat', productTags: [], creditTypeId: 'ai', startingAt: APRIL.startingAt, endingBefore: new Date(APRIL.startingAt.getTime() + 1), amount: new Decimal(5), seat: true });
  return charges;
}

/** `amounts` with those at `changes` replaced (each by a new object, sometimes of the same value). */
const changed = (amounts: readonly Decimal[], changes: ReadonlyArray<[number, Decimal]>) => {
  const next = [...amounts];
  for (const [index, value] of changes) next[index % next.length] = value;
  return next;
};

describe('redrawDown', () => {
  it('gives exactly what drawing afresh gives, or nothing, over chains of changed amounts', () => {
    let redrawn = 0;
    let runs = 0;
    fc.assert(
      fc.property(segmentsArb, amountsArb, fc.array(fc.array(fc.tuple(fc.nat(), amount), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), (segments, first, steps) => {
        let amounts = first;
        let previous = drawDown({ segments, charges: chargesOf(amounts) });
        for (const step of steps) {
          amounts = changed(amounts, step);
          const charges = chargesOf(amounts);
          const fresh = drawDown({ segments, charges });
          const derived = redrawDown(previous, { segments, charges });
          runs++;
          if (derived) {
            redrawn++;
            expect(shape(derived)).toEqual(shape(fresh));
          }
          previous = derived ?? fresh;
        }
      }),
      { numRuns: 300 },
    );
    // Pools large enough for every charge are common among the cases: the derivation is exercised, not skipped.
    expect(redrawn).toBeGreaterThan(runs / 5);
  });

  it('redraws one seat of four: own credit 10 spent, the pool pays the rest; a pool left short is drawn afresh', () => {
    const segments = [...[0, 1, 2, 3].map((seat) => segment(`own-${seat}`, 10, { seatId: `seat-${seat}` })), segment('pool', 100, { priority: new Decimal(2) })];
    const charge = (seat: number, value: number): FundingCharge => ({ lineId: 'line', contractId: 'contract', productId: 'chat', productTags: [], creditTypeId: 'ai', ...APRIL, amount: new Decimal(value), seatId: `seat-${seat}` });
    const previous = drawDown({ segments, charges: [charge(0, 12), charge(1, 15), charge(2, 5), charge(3, 30)] });
    expect(previous.drawn.get('pool')?.toFixed()).toBe('27');
    // Seat 2 uses 8 more: 3 more from its own credit, 10 → 0, then 3 from the pool... its pattern changes (pool now drawn): drawn afresh.
    expect(redrawDown(previous, { segments, charges: [charge(0, 12), charge(1, 15), charge(2, 13), charge(3, 30)] })).toBeUndefined();
    // Seat 3 uses 20 more: all from the pool, 27 → 47.
    const more = redrawDown(previous, { segments, charges: [charge(0, 12), charge(1, 15), charge(2, 5), charge(3, 50)] });
    expect(more?.drawn.get('pool')?.toFixed()).toBe('47');
    expect(more?.drawn.get('own-3')?.toFixed()).toBe('10');
    // Seat 3 uses 100 more: the pool (100) would run out: drawn afresh.
    expect(redrawDown(previous, { segments, charges: [charge(0, 12), charge(1, 15), charge(2, 5), charge(3, 130)] })).toBeUndefined();
  });
});
