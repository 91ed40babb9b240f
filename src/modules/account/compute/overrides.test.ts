import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { sliceCharges, slicesOf, type RateVersion } from './charges.js';
import { overrideBoundaries, overriddenRate, overridesFor, rateOverrideOf, type RateOverride } from './overrides.js';
import { priceOf, type UsagePrice } from './price.js';

const d = (value: number | string) => new Decimal(value);
const at = (iso: string) => new Date(iso);
const APRIL = { startingAt: at('2024-04-01T00:00:00Z'), endingBefore: at('2024-05-01T00:00:00Z') };
const TIERS: UsagePrice = { rateType: 'TIERED', tiers: [{ size: d(10), price: d(20) }, { size: null, price: d(10) }] };

const listed = (price: UsagePrice = { rateType: 'FLAT', price: d(10) }, extra: Partial<RateVersion> = {}): RateVersion => ({
  id: 'rate',
  startingAt: at('2024-01-01T00:00:00Z'),
  endingBefore: null,
  entitled: true,
  price,
  creditTypeId: 'credits',
  pricingGroupValues: null,
  ...extra,
});

function multiplier(id: string, value: number | string, extra: Partial<RateOverride> = {}): RateOverride {
  return {
    id,
    contractId: 'contract',
    startingAt: APRIL.startingAt,
    endingBefore: null,
    entitled: null,
    priority: null,
    change: { type: 'MULTIPLIER', multiplier: d(value) },
    targets: [{ productId: 'chat', productTags: null, anyTag: false }],
    ...extra,
  };
}

function overwrite(id: string, price: number, extra: Partial<RateOverride> = {}): RateOverride {
  return { ...multiplier(id, 1), change: { type: 'OVERWRITE', price: { rateType: 'FLAT', price: d(price) }, creditTypeId: null }, ...extra };
}

const flatPrice = (rate: RateVersion) => (rate.price.rateType === 'FLAT' ? rate.price.price.toFixed() : undefined);
const chat = { id: 'chat', tags: ['ai', 'text'] };

describe('overriddenRate', () => {
  it('a MULTIPLIER of 0.5 prices usage listed at 100 at 50', () => {
    const rate = overriddenRate(listed({ rateType: 'FLAT', price: d(10) }), [multiplier('m', '0.5')], at('2024-04-05T00:00:00Z'));
    expect(priceOf(rate.price, d(10)).toFixed()).toBe('50');
  });

  it('an OVERWRITE to a flat 2 prices 10 units at 20, in the overwrite’s pricing unit when it names one', () => {
    const rate = overriddenRate(listed(TIERS), [overwrite('o', 2, { change: { type: 'OVERWRITE', price: { rateType: 'FLAT', price: d(2) }, creditTypeId: 'usd' } })], at('2024-04-05T00:00:00Z'));
    expect(priceOf(rate.price, d(10)).toFixed()).toBe('20');
    expect(rate.creditTypeId).toBe('usd');
    expect(overriddenRate(listed(), [overwrite('o', 2)], at('2024-04-05T00:00:00Z')).creditTypeId).toBe('credits');
  });

  it('multiplies every tier: 10 units at 20 then 10 each, at 0.5, price 12 units at 10 × 10 + 2 × 5 = 110 (listed: 220)', () => {
    const rate = overriddenRate(listed(TIERS), [multiplier('m', '0.5')], at('2024-04-05T00:00:00Z'));
    expect(priceOf(rate.price, d(12)).toFixed()).toBe('110');
    expect(priceOf(TIERS, d(12)).toFixed()).toBe('220');
  });

  it('leaves the rate as it is outside the override’s window, and replaces entitled only when the override says', () => {
    const window = multiplier('m', '0.5', { startingAt: at('2024-04-10T00:00:00Z'), endingBefore: at('2024-04-20T00:00:00Z'), entitled: false });
    expect(overriddenRate(listed(), [window], at('2024-04-09T00:00:00Z'))).toEqual(listed());
    expect(overriddenRate(listed(), [window], at('2024-04-20T00:00:00Z'))).toEqual(listed());
    expect(overriddenRate(listed(), [window], at('2024-04-10T00:00:00Z')).entitled).toBe(false);
    expect(overriddenRate(listed(), [multiplier('m', 2)], at('2024-04-10T00:00:00Z')).entitled).toBe(true);
  });
});

describe('overridesFor (which override wins)', () => {
  const at10 = at('2024-04-10T00:00:00Z');
  const winner = (list: RateOverride[], prioritization: 'LOWEST_MULTIPLIER' | 'EXPLICIT') => flatPrice(overriddenRate(listed(), overridesFor(chat, list, prioritization), at10));

  it('an OVERWRITE beats any MULTIPLIER', () => {
    expect(winner([multiplier('a', '0.1'), overwrite('b', 7)], 'LOWEST_MULTIPLIER')).toBe('7');
    expect(winner([multiplier('a', '0.1', { priority: d(1) }), overwrite('b', 7)], 'EXPLICIT')).toBe('7');
  });

  it('LOWEST_MULTIPLIER: the lowest multiplier wins; multipliers do not compound', () => {
    expect(winner([multiplier('a', '0.8'), multiplier('b', '0.5'), multiplier('c', 2)], 'LOWEST_MULTIPLIER')).toBe('5');
  });

  it('EXPLICIT: the lowest priority wins, whatever the multiplier', () => {
    expect(winner([multiplier('a', '0.5', { priority: d(2) }), multiplier('b', '0.8', { priority: d(1) })], 'EXPLICIT')).toBe('8');
  });

  it('between overwrites: the latest start, then the latest added', () => {
    expect(winner([overwrite('b', 3, { startingAt: at('2024-04-05T00:00:00Z') }), overwrite('a', 4)], 'LOWEST_MULTIPLIER')).toBe('3');
    expect(winner([overwrite('b', 3), overwrite('a', 4)], 'LOWEST_MULTIPLIER')).toBe('3');
  });

  it('targets by product id, by all of a specifier’s tags, or (legacy applicable_product_tags) by any tag', () => {
    const target = (productId: string | null, productTags: string[] | null, anyTag = false) => multiplier('m', '0.5', { targets: [{ productId, productTags, anyTag }] });
    expect(overridesFor(chat, [target('chat', null)], 'LOWEST_MULTIPLIER')).toHaveLength(1);
    expect(overridesFor(chat, [target('image', null)], 'LOWEST_MULTIPLIER')).toHaveLength(0);
    expect(overridesFor(chat, [target(null, ['ai', 'text'])], 'LOWEST_MULTIPLIER')).toHaveLength(1);
    expect(overridesFor(chat, [target(null, ['ai', 'image'])], 'LOWEST_MULTIPLIER')).toHaveLength(0);
    expect(overridesFor(chat, [target(null, ['ai', 'image'], true)], 'LOWEST_MULTIPLIER')).toHaveLength(1);
    expect(overridesFor(chat, [target('chat', ['image'])], 'LOWEST_MULTIPLIER')).toHaveLength(0);
  });

  it('reads a stored row: specifiers, or the legacy fields', () => {
    const row = {
      id: 'o',
      contract_id: 'contract',
      customer_id: 'customer',
      type: 'OVERWRITE' as const,
      starting_at: APRIL.startingAt,
      ending_before: null,
      override_specifiers: null,
      product_id: null,
      applicable_product_tags: ['ai'],
      entitled: null,
      priority: null,
      multiplier: null,
      rate_type: 'TIERED' as const,
      price: null,
      tiers: [{ size: '10', price: '2' }, { size: null, price: '1' }],
      credit_type_id: null,
      created_at: APRIL.startingAt,
    };
    const override = rateOverrideOf(row);
    expect(override.targets).toEqual([{ productId: null, productTags: ['ai'], anyTag: true }]);
    expect(override.change.type === 'OVERWRITE' && priceOf(override.change.price, d(12)).toFixed()).toBe('22');
    expect(rateOverrideOf({ ...row, override_specifiers: [{ product_tags: ['ai'] }], applicable_product_tags: null }).targets).toEqual([{ productId: null, productTags: ['ai'], anyTag: false }]);
  });
});

describe('sliceCharges with overrides', () => {
  it('cuts at an override starting mid-period: usage before at the list price, after at the override', () => {
    const override = multiplier('m', '0.5', { startingAt: at('2024-04-15T00:00:00Z') });
    const slices = slicesOf(APRIL, overrideBoundaries([override]));
    const charges = sliceCharges({ slices, cumulative: [d(4), d(10)], versions: [listed()], groupValues: null, overrides: [override] });
    expect(charges.map((c) => c.amount.toFixed())).toEqual(['40', '30']);
  });

  it('an override that disentitles stops charging, yet its usage counts as already used under tiers', () => {
    const ending = multiplier('m', 1, { startingAt: at('2024-04-15T00:00:00Z'), endingBefore: at('2024-04-20T00:00:00Z'), entitled: false });
    const slices = slicesOf(APRIL, overrideBoundaries([ending]));
    const charges = sliceCharges({ slices, cumulative: [d(8), d(12), d(14)], versions: [listed(TIERS)], groupValues: null, overrides: [ending] });
    // 8 units at 20; 4 units not charged; then units 13–14 at 10.
    expect(charges.map((c) => c.amount.toFixed())).toEqual(['160', '20']);
  });

  it('a multiplier m over any split of the period costs m × the listed total (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 8 }), (parts, eighths) => {
        const m = d(eighths).div(8);
        const cuts = parts.map((_, i) => new Date(APRIL.startingAt.getTime() + (i + 1) * 3_600_000));
        const slices = slicesOf(APRIL, cuts);
        let running = d(0);
        const cumulative = slices.map((_, i) => (running = running.add(parts[i] ?? 0)));
        const total = (overrides: RateOverride[]) =>
          sliceCharges({ slices, cumulative, versions: [listed(TIERS)], groupValues: null, overrides }).reduce((sum, c) => sum.add(c.amount), d(0));
        expect(total([multiplier('m', m.toFixed())]).toFixed()).toBe(total([]).mul(m).toFixed());
      }),
    );
  });
});
