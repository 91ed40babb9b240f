import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { groupKeysFitMetric, metricProblems, type MetricDefinition } from './metricRules.js';
import { productFieldsAt, type ProductFields } from './productState.js';
import { isSeatRate, rateProblems, tierProblems, type RateRequest } from './rateRules.js';

const d = (value: string | number) => new Decimal(value);
const fields = (problems: Array<{ field: string }>) => problems.map((problem) => problem.field);

describe('metricProblems', () => {
  const metric = (overrides: Partial<MetricDefinition>): MetricDefinition => ({
    aggregationType: 'SUM',
    aggregationKey: 'tokens',
    propertyFilters: [{ name: 'tokens', exists: true }, { name: 'user_id', exists: true }],
    groupKeys: [['user_id']],
    ...overrides,
  });

  it('accepts a metric whose keys are all required properties', () => {
    expect(metricProblems(metric({}))).toEqual([]);
    expect(metricProblems(metric({ aggregationType: 'COUNT', aggregationKey: null }))).toEqual([]);
  });

  it('names aggregation_key when it is missing, extra, or not a required property', () => {
    for (const type of ['SUM', 'MAX', 'UNIQUE', 'LATEST'] as const) {
      expect(fields(metricProblems(metric({ aggregationType: type, aggregationKey: null })))).toEqual(['aggregation_key']);
    }
    expect(fields(metricProblems(metric({ aggregationType: 'COUNT' })))).toEqual(['aggregation_key']);
    expect(fields(metricProblems(metric({ propertyFilters: [{ name: 'tokens' }, { name: 'user_id', exists: true }] })))).toEqual(['aggregation_key']);
  });

  it('names each group key property that is not a required property, and repeated group keys', () => {
    expect(fields(metricProblems(metric({ groupKeys: [['user_id'], ['team', 'user_id'], ['user_id']] })))).toEqual(['group_keys.1.0', 'group_keys.2']);
  });

  it('refuses a property filtered twice, and value lists on a property that must not exist', () => {
    const problems = metricProblems(
      metric({
        propertyFilters: [
          { name: 'tokens', exists: true },
          { name: 'user_id', exists: true },
          { name: 'tokens', exists: true },
          { name: 'debug', exists: false, in_values: ['1'] },
        ],
      }),
    );
    expect(fields(problems)).toEqual(['property_filters.2.name', 'property_filters.3.exists']);
  });
});

describe('groupKeysFitMetric', () => {
  const groupKeys = [['user_id'], ['team', 'region']];
  it('needs the union of pricing and presentation keys to be one compound group key', () => {
    expect(groupKeysFitMetric(groupKeys, null, null)).toBe(true);
    expect(groupKeysFitMetric(groupKeys, ['user_id'], null)).toBe(true);
    expect(groupKeysFitMetric(groupKeys, ['team'], ['region'])).toBe(true);
    expect(groupKeysFitMetric(groupKeys, ['region', 'team'], null)).toBe(true);
    expect(groupKeysFitMetric(groupKeys, ['team'], null)).toBe(false);
    expect(groupKeysFitMetric(groupKeys, ['user_id'], ['team'])).toBe(false);
  });
});

describe('tierProblems', () => {
  it('accepts graduated tiers whose last tier has no size', () => {
    expect(tierProblems([{ size: d(5), price: d(20) }, { size: d(5), price: d(10) }, { size: null, price: d(1) }])).toEqual([]);
    expect(tierProblems([{ size: null, price: d(0) }])).toEqual([]);
  });

  it('names the tier at fault', () => {
    expect(fields(tierProblems([]))).toEqual(['tiers']);
    expect(fields(tierProblems([{ size: d(5), price: d(1) }]))).toEqual(['tiers.0.size']);
    expect(fields(tierProblems([{ size: null, price: d(1) }, { size: null, price: d(1) }]))).toEqual(['tiers.0.size']);
    expect(fields(tierProblems([{ size: d(0), price: d(1) }, { size: null, price: d('-0.5') }]))).toEqual(['tiers.0.size', 'tiers.1.price']);
  });

  it('accepts any positive sizes and non-negative prices (property)', () => {
    const positive = fc.integer({ min: 1, max: 1_000_000 }).map((n) => d(n).div(100));
    const price = fc.integer({ min: 0, max: 1_000_000 }).map((n) => d(n).div(1000));
    fc.assert(
      fc.property(fc.array(fc.tuple(positive, price), { maxLength: 10 }), price, (bounded, last) => {
        const tiers = [...bounded.map(([size, p]) => ({ size, price: p })), { size: null, price: last }];
        expect(tierProblems(tiers)).toEqual([]);
      }),
    );
  });
});

describe('rateProblems', () => {
  const flat: RateRequest = {
    productType: 'USAGE',
    productPricingGroupKey: null,
    rateType: 'FLAT',
    startingAt: new Date('2024-01-01T00:00:00Z'),
    endingBefore: null,
    price: d(1),
    tiers: null,
    billingFrequency: null,
    isProrated: null,
    quantity: null,
    pricingGroupValues: null,
  };
  const subscription: RateRequest = { ...flat, productType: 'SUBSCRIPTION', rateType: 'SUBSCRIPTION', billingFrequency: 'MONTHLY' };

  it('accepts well-formed flat, tiered and subscription rates', () => {
    expect(rateProblems(flat)).toEqual([]);
    expect(rateProblems({ ...flat, rateType: 'TIERED', price: null, tiers: [{ size: null, price: d(2) }] })).toEqual([]);
    expect(rateProblems({ ...subscription, isProrated: true, quantity: d(0) })).toEqual([]);
    expect(rateProblems({ ...flat, productType: 'FIXED', price: d(0) })).toEqual([]);
  });

  it('matches rate types to product types, naming rate_type', () => {
    expect(fields(rateProblems({ ...flat, productType: 'SUBSCRIPTION', rateType: 'TIERED', price: null, tiers: [{ size: null, price: d(2) }], billingFrequency: 'MONTHLY' }))).toEqual([
      'rate_type',
    ]);
    expect(fields(rateProblems({ ...subscription, productType: 'USAGE' }))).toEqual(['rate_type', 'billing_frequency']);
  });

  it('takes a FLAT rate with a billing frequency on a SUBSCRIPTION product as a seat rate (Metronome subscription guide)', () => {
    const flatSeat: RateRequest = { ...subscription, rateType: 'FLAT' };
    expect(rateProblems(flatSeat)).toEqual([]);
    expect(fields(rateProblems({ ...flatSeat, billingFrequency: null }))).toEqual(['billing_frequency']);
    expect(isSeatRate(flatSeat)).toBe(true);
    expect(isSeatRate(subscription)).toBe(true);
    expect(isSeatRate(flat)).toBe(false);
  });

  it('keeps subscription-only fields on subscription rates', () => {
    expect(fields(rateProblems({ ...subscription, billingFrequency: null }))).toEqual(['billing_frequency']);
    expect(fields(rateProblems({ ...subscription, isProrated: false }))).toEqual(['is_prorated']);
    expect(fields(rateProblems({ ...flat, billingFrequency: 'ANNUAL', isProrated: true, quantity: d(1) }))).toEqual([
      'billing_frequency',
      'is_prorated',
      'quantity',
    ]);
  });

  it('checks price, tiers, the window and pricing group values, with the prefix of the rate', () => {
    expect(fields(rateProblems({ ...flat, price: null }, 'rates.2.'))).toEqual(['rates.2.price']);
    expect(fields(rateProblems({ ...flat, rateType: 'TIERED' }))).toEqual(['tiers', 'price']);
    expect(fields(rateProblems({ ...flat, endingBefore: flat.startingAt }))).toEqual(['ending_before']);
    expect(fields(rateProblems({ ...flat, pricingGroupValues: { model: 'small' } }))).toEqual(['pricing_group_values']);
    const grouped = { ...flat, productPricingGroupKey: ['model', 'region'] };
    expect(rateProblems({ ...grouped, pricingGroupValues: { model: 'small', region: 'EU' } })).toEqual([]);
    expect(fields(rateProblems({ ...grouped, pricingGroupValues: { model: 'small' } }))).toEqual(['pricing_group_values']);
  });
});

describe('productFieldsAt', () => {
  const initial: ProductFields = { name: 'Tokens', billableMetricId: 'm1', pricingGroupKey: null, presentationGroupKey: null, tags: ['a'] };
  const update = (startingAt: string, sequence: string, changes: Partial<ProductFields>) => ({
    startingAt: new Date(startingAt),
    sequence,
    changes: { name: null, billableMetricId: null, pricingGroupKey: null, presentationGroupKey: null, tags: null, ...changes },
  });

  it('applies the updates in force at the instant, in order of starting_at, only the fields they change', () => {
    const updates = [update('2024-03-01T00:00:00Z', '1', { name: 'March' }), update('2024-02-01T00:00:00Z', '2', { name: 'February', tags: ['b'] })];
    expect(productFieldsAt(initial, updates, new Date('2024-01-15T00:00:00Z')).fields).toEqual(initial);
    expect(productFieldsAt(initial, updates, new Date('2024-02-01T00:00:00Z')).fields).toMatchObject({ name: 'February', tags: ['b'] });
    const march = productFieldsAt(initial, updates, new Date('2024-03-05T00:00:00Z'));
    expect(march.fields).toMatchObject({ name: 'March', tags: ['b'], billableMetricId: 'm1' });
    expect(march.lastApplied?.sequence).toBe('1');
  });

  it('lets the later update win when two start at the same instant', () => {
    const updates = [update('2024-02-01T00:00:00Z', '2', { name: 'second' }), update('2024-02-01T00:00:00Z', '1', { name: 'first' })];
    expect(productFieldsAt(initial, updates, new Date('2024-02-02T00:00:00Z')).fields.name).toBe('second');
  });
});
