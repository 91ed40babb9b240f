import { describe, expect, it } from 'vitest';
import { Decimal } from '../lib/money.js';
import type { Rate } from '../modules/pricing/service.js';
import { labelledProblems, simulationBodyOf, type PricingForm } from './pricingForm.js';

const rate = (fields: Partial<Rate>): Rate =>
  ({ id: 'r', productId: 'p', startingAt: new Date(0), endingBefore: null, entitled: true, rateType: 'FLAT', price: null, tiers: null, creditTypeId: 'ai', billingFrequency: null, isProrated: false, quantity: null, pricingGroupValues: null, ...fields }) as Rate;

const form: PricingForm = {
  csrf: 'x',
  rateCards: [],
  rateCardId: 'card',
  rates: [
    { index: 0, rate: rate({ productId: 'chat', price: new Decimal(5) }), productName: 'Chat', unit: { id: 'ai', name: 'AI credits' } },
    { index: 1, rate: rate({ productId: 'search', rateType: 'TIERED', tiers: [{ size: new Decimal(100), price: new Decimal(1) }, { size: null, price: new Decimal(2) }] }), productName: 'Search', unit: { id: 'ai', name: 'AI credits' } },
  ],
  newProducts: [{ id: 'translate', name: 'Translate' }],
  units: [{ id: 'usd', name: 'USD (cents)' }, { id: 'ai', name: 'AI credits' }],
  values: {},
};
const window = { starting_on: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' };
const change = { starting_at: '2024-04-01T00:00:00Z', credit_type_id: 'ai' };

describe('the pricing form', () => {
  it('keeps the tiers left empty, replaces those typed, adds a tier after the last, and prices a new product', () => {
    const { body } = simulationBodyOf(form, { ...window, 'tier.1.1.size': '400', 'tier.1.1.price': '1.5', 'tier.1.2.price': '0.5', new_product_id: 'translate', new_price: '7', new_credit_type_id: 'ai' });
    expect(body).toEqual({
      ...window,
      rate_changes: [
        { product_id: 'search', ...change, rate_type: 'TIERED', tiers: [{ size: '100', price: '1' }, { size: '400', price: '1.5' }, { price: '0.5' }] },
        { product_id: 'translate', ...change, rate_type: 'FLAT', price: '7' },
      ],
    });
    // A tier untouched is no change; a flat price alone is one.
    expect(simulationBodyOf(form, { ...window, 'price.0': '10' }).body).toEqual({ ...window, rate_changes: [{ product_id: 'chat', ...change, rate_type: 'FLAT', price: '10' }] });
  });

  it('names every bad field as the page labels it', () => {
    expect(simulationBodyOf(form, { ...window, 'price.0': 'ten', 'tier.1.0.price': 'x', 'tier.1.2.price': '3', new_product_id: 'chat', new_price: '' }).problems).toEqual([
      'New price of Chat: must be a number',
      'Tier 1 price of Search: must be a number',
      'Tier 2 size of Search: is required when a tier is added after it',
      'Product to add: is not a usage product this card leaves unpriced',
      'Price of the added product: is required to add a product',
    ]);
    expect(simulationBodyOf(form, { ...window, 'tier.1.1.size': '5' }).problems).toEqual(['Tier 2 size of Search: must be empty on the last tier, which has no upper bound']);
    expect(simulationBodyOf(form, { ...window, new_price: '4' }).problems).toEqual(['Product to add: choose the product the price is for']);
  });

  it('names the API’s fields of the body it built as the page labels them', () => {
    const body = { rate_changes: [{ product_id: 'search' }, { product_id: 'translate' }] };
    expect(labelledProblems('rate_changes.0.tiers.1.size: must be greater than 0; rate_changes.1.credit_type_id: no conversion', form, body)).toBe(
      'Tier 2 size of Search: must be greater than 0; Translate (credit type id): no conversion',
    );
  });
});
