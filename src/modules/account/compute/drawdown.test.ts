import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { APRIL, fundingSegment } from '../../../../test/helpers/funding.js';
import { drawDown, type FundingCharge, type FundingSegment } from './drawdown.js';

const d = (value: number | string) => new Decimal(value);
const segment = fundingSegment;

function charge(amount: number | string, extra: Partial<FundingCharge> = {}): FundingCharge {
  return { lineId: 'line', contractId: 'contract', productId: 'chat', productTags: [], creditTypeId: 'ai', ...APRIL, amount: d(amount), ...extra };
}

const drawn = (result: ReturnType<typeof drawDown>) => Object.fromEntries([...result.drawn].map(([id, amount]) => [id, amount.toFixed()]));

describe('drawDown (rule 10)', () => {
  it('draws 120 of a pool of 400, leaving 280', () => {
    const result = drawDown({ segments: [segment('pool', 400)], charges: [charge(120)] });
    expect(drawn(result)).toEqual({ pool: '120' });
    expect(result.overage.size).toBe(0);
  });

  it('draws what the pool holds and leaves the rest as overage: 450 against 400 → 400 drawn, 50 over', () => {
    const result = drawDown({ segments: [segment('pool', 400)], charges: [charge(450)] });
    expect(drawn(result)).toEqual({ pool: '400' });
    expect(result.overage.get('line')?.toFixed()).toBe('50');
  });

  it('funds an ended period in its grace period before the open one, seat charges included: a year commit of 500, April (ended) 300 of seats and 150 of usage, May 200 of usage', () => {
    const year = { startingAt: new Date('2024-01-01T00:00:00Z'), endingBefore: new Date('2025-01-01T00:00:00Z') };
    const periodEnded = APRIL.endingBefore;
    const aprilSeats = charge(300, { lineId: 'april-seats', startingAt: APRIL.startingAt, endingBefore: new Date(APRIL.startingAt.getTime() + 1), seat: true, periodEnded });
    const aprilUsage = charge(150, { lineId: 'april-usage', startingAt: new Date('2024-04-30T23:00:00Z'), endingBefore: periodEnded, periodEnded });
    const mayUsage = charge(200, { lineId: 'may-usage', startingAt: new Date('2024-05-01T00:00:00Z'), endingBefore: new Date('2024-05-01T01:00:00Z') });
    const result = drawDown({ segments: [segment('commit', 500, year)], charges: [mayUsage, aprilSeats, aprilUsage] });
    // April's usage, then April's seats, then May: May gets what April left (50), 150 over.
    expect(result.applied.get('april-usage')?.get('commit')?.toFixed()).toBe('150');
    expect(result.applied.get('april-seats')?.get('commit')?.toFixed()).toBe('300');
    expect(result.applied.get('may-usage')?.get('commit')?.toFixed()).toBe('50');
    expect(result.overage.get('may-usage')?.toFixed()).toBe('150');
  });

  it('funds usage before seat charges, whatever their dates: a seat charge on April 1 gets what usage left', () => {
    const seat = charge(300, { lineId: 'seats', productId: 'seats', startingAt: APRIL.startingAt, endingBefore: new Date(APRIL.startingAt.getTime() + 1), seat: true });
    const result = drawDown({ segments: [segment('pool', 400)], charges: [seat, charge(250, { startingAt: new Date('2024-04-10T00:00:00Z') })] });
    expect(result.applied.get('line')?.get('pool')?.toFixed()).toBe('250');
    expect(result.applied.get('seats')?.get('pool')?.toFixed()).toBe('150');
    expect(result.overage.get('seats')?.toFixed()).toBe('150');
  });

  it('draws lower priority first: credit at 1 (400) and commit at 100 (1,000), usage 500 → credit 0, commit 900', () => {
    const result = drawDown({ segments: [segment('commit', 1000, { kind: 'COMMIT', priority: d(100) }), segment('credit', 400)], charges: [charge(500)] });
    expect(drawn(result)).toEqual({ credit: '400', commit: '100' });
  });

  it('at equal priority draws a credit before a commit', () => {
    const result = drawDown({ segments: [segment('commit', 100, { kind: 'COMMIT', grantId: 'a' }), segment('credit', 100, { grantId: 'z' })], charges: [charge(50)] });
    expect(drawn(result)).toEqual({ credit: '50' });
  });

  it('draws a product-specific grant before an all-products one', () => {
    const result = drawDown({
      segments: [segment('all', 100, { grantId: 'a' }), segment('specific', 100, { grantId: 'z', applicableProductIds: ['chat'], productScope: 1 })],
      charges: [charge(50)],
    });
    expect(drawn(result)).toEqual({ specific: '50' });
  });

  it('draws the grant ending sooner first, then the one starting earlier, then by id', () => {
    const sooner = drawDown({
      segments: [segment('later', 100, { grantId: 'a' }), segment('sooner', 100, { grantId: 'z', endingBefore: new Date('2024-04-30T00:00:00Z') })],
      charges: [charge(50, { endingBefore: new Date('2024-04-30T00:00:00Z') })],
    });
    expect(drawn(sooner)).toEqual({ sooner: '50' });
    const earlier = drawDown({
      segments: [segment('b', 100, { grantId: 'a', startingAt: new Date('2024-04-02T00:00:00Z') }), segment('a', 100, { grantId: 'z' })],
      charges: [charge(50, { startingAt: new Date('2024-04-02T00:00:00Z') })],
    });
    expect(drawn(earlier)).toEqual({ a: '50' });
  });

  it('never draws a grant of another pricing unit, product, contract, or outside its window', () => {
    const result = drawDown({
      segments: [
        segment('usd', 100, { creditTypeId: 'usd' }),
        segment('images', 100, { applicableProductIds: ['images'], productScope: 1 }),
        segment('tagged', 100, { applicableProductTags: ['image'], productScope: 1 }),
        segment('other-contract', 100, { contractId: 'other' }),
        segment('customer-other', 100, { contractId: null, applicableContractIds: ['other'] }),
        segment('may', 100, { startingAt: new Date('2024-05-01T00:00:00Z'), endingBefore: new Date('2024-06-01T00:00:00Z') }),
      ],
      charges: [charge(50, { productTags: ['text'] })],
    });
    expect(drawn(result)).toEqual({});
    expect(result.overage.get('line')?.toFixed()).toBe('50');
  });

  it('lets a customer-level grant fund any contract, or those it names', () => {
    const result = drawDown({ segments: [segment('customer', 100, { contractId: null, applicableContractIds: ['contract'] })], charges: [charge(30)] });
    expect(drawn(result)).toEqual({ customer: '30' });
  });

  it('gives back the latest draws first when a line goes down (LATEST)', () => {
    const result = drawDown({
      segments: [segment('first', 100, { grantId: 'a' }), segment('second', 100, { grantId: 'b' })],
      charges: [
        charge(150, { endingBefore: new Date('2024-04-10T00:00:00Z') }),
        charge(-80, { startingAt: new Date('2024-04-10T00:00:00Z') }),
      ],
    });
    expect(drawn(result)).toEqual({ first: '70', second: '0' });
    const overdrawn = drawDown({ segments: [segment('only', 100)], charges: [charge(150, { endingBefore: new Date('2024-04-10T00:00:00Z') }), charge(-80, { startingAt: new Date('2024-04-10T00:00:00Z') })] });
    expect(drawn(overdrawn)).toEqual({ only: '70' });
    expect(overdrawn.overage.get('line')?.toFixed()).toBe('0');
  });

  it('draws a segment emptied and then given back to again: 100 drawn, 60 given back, the next 40 drawn from it', () => {
    const slice = (day: number) => ({ startingAt: new Date(Date.UTC(2024, 3, day)), endingBefore: new Date(Date.UTC(2024, 3, day + 1)) });
    const result = drawDown({
      segments: [segment('pool', 100)],
      charges: [charge(100, slice(1)), charge(-60, slice(2)), charge(40, { ...slice(3), lineId: 'other' })],
    });
    expect(drawn(result)).toEqual({ pool: '80' });
    expect(result.overage.get('other')).toBeUndefined();
  });

  it('rolls over only what the charges left of the source segment', () => {
    const march = { startingAt: new Date('2024-03-01T00:00:00Z'), endingBefore: new Date('2024-04-01T00:00:00Z') };
    // The source held 100; assuming all of it rolled over at 50%, the rollover credit was derived as 50.
    const result = drawDown({
      segments: [segment('march', 100, march), segment('rolled', 50, { rolloverOf: { segmentId: 'march', fraction: d('0.5') } })],
      charges: [charge(60, march), charge(100)],
    });
    // 60 drawn in March leaves 40, of which 20 rolls over into April.
    expect(drawn(result)).toEqual({ march: '60', rolled: '20' });
    expect(result.overage.get('line')?.toFixed()).toBe('80');
  });

  it('never draws a segment beyond what it holds, and funds or reports every unit charged (property)', () => {
    const arbitrarySegment = fc.record({ available: fc.integer({ min: 0, max: 500 }), priority: fc.integer({ min: 0, max: 3 }), commit: fc.boolean(), specific: fc.boolean() });
    fc.assert(
      fc.property(fc.array(arbitrarySegment, { maxLength: 5 }), fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 6 }), (defs, amounts) => {
        const segments = defs.map((def, i) =>
          segment(`s${i}`, def.available, {
            grantId: `g${i}`,
            priority: d(def.priority),
            kind: def.commit ? 'COMMIT' : 'CREDIT',
            ...(def.specific ? { applicableProductIds: ['chat'], productScope: 1 } : {}),
          }),
        );
        const result = drawDown({ segments, charges: amounts.map((amount, i) => charge(amount, { lineId: `line${i % 2}` })) });
        let total = d(0);
        segments.forEach((s) => {
          const taken = result.drawn.get(s.segmentId) ?? d(0);
          expect(taken.lte(s.available)).toBe(true);
          expect(taken.gte(0)).toBe(true);
          total = total.add(taken);
        });
        for (const over of result.overage.values()) total = total.add(over);
        expect(total.toFixed()).toBe(amounts.reduce((sum, amount) => sum.add(amount), d(0)).toFixed());
      }),
    );
  });
});
