import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { rateAt, sliceCharges, slicesOf, type RateVersion } from './charges.js';
import { cumulativeQuantities, emptyAggregate, type SliceAggregate } from './cumulative.js';
import { priceOf, priceOfSlice, type UsagePrice } from './price.js';

const d = (value: number | string) => new Decimal(value);
const at = (iso: string) => new Date(iso);
const RULE_9_TIERS: UsagePrice = {
  rateType: 'TIERED',
  tiers: [
    { size: d(5), price: d(20) },
    { size: d(5), price: d(10) },
    { size: d(5), price: d(5) },
    { size: null, price: d(1) },
  ],
};

describe('priceOf (rule 9)', () => {
  it('prices graduated tiers over the whole quantity: 22 units → 100 + 50 + 25 + 7 = 182', () => {
    expect(priceOf(RULE_9_TIERS, d(22)).toFixed()).toBe('182');
    expect(priceOf(RULE_9_TIERS, d(12)).toFixed()).toBe('160');
    expect(priceOf(RULE_9_TIERS, d(5)).toFixed()).toBe('100');
    expect(priceOf(RULE_9_TIERS, d('2.5')).toFixed()).toBe('50');
  });

  it('prices a slice as the difference: 12 already charged, 10 more → 22', () => {
    expect(priceOfSlice(RULE_9_TIERS, d(12), d(22)).toFixed()).toBe('22');
  });

  it('prices a flat rate per unit, exactly', () => {
    expect(priceOf({ rateType: 'FLAT', price: d(12) }, d(10)).toFixed()).toBe('120');
    expect(priceOf({ rateType: 'FLAT', price: d('0.001') }, d('123456789012345678901')).toFixed()).toBe('123456789012345678.901');
  });

  it('charges nothing under tiers for a quantity at or below 0', () => {
    expect(priceOf(RULE_9_TIERS, d(0)).toFixed()).toBe('0');
    expect(priceOf(RULE_9_TIERS, d(-3)).toFixed()).toBe('0');
  });

  it('slices of any split add up to the price of the total (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 8 }), (parts) => {
        let before = d(0);
        let sum = d(0);
        for (const part of parts) {
          const after = before.add(part);
          sum = sum.add(priceOfSlice(RULE_9_TIERS, before, after));
          before = after;
        }
        expect(sum.toFixed()).toBe(priceOf(RULE_9_TIERS, before).toFixed());
      }),
    );
  });
});

describe('slicesOf', () => {
  it('cuts a period at the instants strictly inside it, once each, in order', () => {
    const slices = slicesOf({ startingAt: at('2024-04-01T00:00:00Z'), endingBefore: at('2024-05-01T00:00:00Z') }, [
      at('2024-04-20T00:00:00Z'),
      at('2024-03-01T00:00:00Z'),
      at('2024-04-10T00:00:00Z'),
      at('2024-04-20T00:00:00Z'),
      at('2024-05-01T00:00:00Z'),
    ]);
    expect(slices.map((s) => [s.startingAt.toISOString().slice(0, 10), s.endingBefore.toISOString().slice(0, 10)])).toEqual([
      ['2024-04-01', '2024-04-10'],
      ['2024-04-10', '2024-04-20'],
      ['2024-04-20', '2024-05-01'],
    ]);
  });
});

function version(id: string, startingAt: string, price: number, extra: Partial<RateVersion> = {}): RateVersion {
  return { id, startingAt: at(startingAt), endingBefore: null, entitled: true, price: { rateType: 'FLAT', price: d(price) }, creditTypeId: 'usd', pricingGroupValues: null, ...extra };
}

describe('rateAt', () => {
  const versions = [
    version('a', '2024-01-01T00:00:00Z', 10),
    version('b', '2024-04-15T00:00:00Z', 20),
    version('c', '2024-01-01T00:00:00Z', 30, { pricingGroupValues: { region: 'EU' } }),
    version('d', '2024-04-15T00:00:00Z', 40, { endingBefore: at('2024-04-16T00:00:00Z') }),
  ];
  const price = (rate: RateVersion | undefined) => (rate && rate.price.rateType === 'FLAT' ? rate.price.price.toNumber() : undefined);

  it('takes the rate with the latest start in force, then the latest added', () => {
    expect(price(rateAt(versions, at('2024-04-01T00:00:00Z'), null))).toBe(10);
    expect(price(rateAt(versions, at('2024-04-15T00:00:00Z'), null))).toBe(40);
    expect(price(rateAt(versions, at('2024-04-16T00:00:00Z'), null))).toBe(20);
  });

  it('prefers a rate for exactly the pricing group values over one for all values', () => {
    expect(price(rateAt(versions, at('2024-04-20T00:00:00Z'), { region: 'EU' }))).toBe(30);
    expect(price(rateAt(versions, at('2024-04-20T00:00:00Z'), { region: 'US' }))).toBe(20);
  });

  it('finds nothing before the first rate starts', () => {
    expect(rateAt(versions, at('2023-12-31T23:00:00Z'), null)).toBeUndefined();
  });
});

describe('sliceCharges', () => {
  const slices = slicesOf({ startingAt: at('2024-04-01T00:00:00Z'), endingBefore: at('2024-05-01T00:00:00Z') }, [at('2024-04-15T00:00:00Z')]);

  it('prices usage after a new rate starts at the new rate, continuing graduated tiers', () => {
    const charges = sliceCharges({
      slices,
      cumulative: [d(12), d(22)],
      versions: [
        { ...version('t', '2024-01-01T00:00:00Z', 0), price: RULE_9_TIERS },
        { ...version('u', '2024-04-15T00:00:00Z', 0), price: { rateType: 'FLAT', price: d(3) } },
      ],
      groupValues: null,
    });
    expect(charges.map((c) => [c.quantityBefore.toFixed(), c.quantityAfter.toFixed(), c.amount.toFixed()])).toEqual([
      ['0', '12', '160'],
      ['12', '22', '30'],
    ]);
  });

  it('charges no slice without an entitled rate, yet counts its usage as already used', () => {
    const charges = sliceCharges({
      slices,
      cumulative: [d(12), d(22)],
      versions: [{ ...version('t', '2024-04-15T00:00:00Z', 0), price: RULE_9_TIERS }],
      groupValues: null,
    });
    expect(charges.map((c) => c.amount.toFixed())).toEqual(['22']);
  });
});

describe('cumulativeQuantities', () => {
  const slice = (fields: Partial<SliceAggregate>): SliceAggregate => ({ ...emptyAggregate(), ...fields });
  const slices = [
    slice({ count: d(2), sum: d(5), max: d(4), latest: { value: d(4), at: at('2024-04-02T00:00:00Z'), transactionId: 'b' }, newDistinct: d(2) }),
    slice({}),
    slice({ count: d(1), sum: d('0.5'), max: d(1), latest: { value: d(1), at: at('2024-04-20T00:00:00Z'), transactionId: 'a' }, newDistinct: d(1) }),
  ];
  const values = (aggregation: Parameters<typeof cumulativeQuantities>[0]) => cumulativeQuantities(aggregation, slices).map((q) => q.toFixed());

  it('adds COUNT and SUM, keeps the greatest MAX and the latest LATEST, counts UNIQUE values once', () => {
    expect(values('COUNT')).toEqual(['2', '2', '3']);
    expect(values('SUM')).toEqual(['5', '5', '5.5']);
    expect(values('MAX')).toEqual(['4', '4', '4']);
    expect(values('LATEST')).toEqual(['4', '4', '1']);
    expect(values('UNIQUE')).toEqual(['2', '2', '3']);
  });

  it('is 0 before any usage', () => {
    expect(cumulativeQuantities('MAX', [slice({})]).map((q) => q.toFixed())).toEqual(['0']);
    expect(cumulativeQuantities('LATEST', [slice({})]).map((q) => q.toFixed())).toEqual(['0']);
  });
});
