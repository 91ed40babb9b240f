import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type { Rate } from '../../pricing/service.js';
import { scenarioRates, type RateChange, type Scenario } from './scenario.js';

const at = (iso: string) => new Date(iso);
const APRIL = { startingAt: at('2024-04-01T00:00:00Z'), endingBefore: at('2024-05-01T00:00:00Z'), index: 0 };

function rate(fields: Partial<Rate>): Rate {
  return {
    id: '00000000-0000-7000-8000-000000000001',
    productId: 'chat',
    startingAt: at('2024-01-01T00:00:00Z'),
    endingBefore: null,
    entitled: true,
    rateType: 'FLAT',
    price: new Decimal(5),
    tiers: null,
    creditTypeId: 'ai',
    billingFrequency: null,
    isProrated: false,
    quantity: null,
    pricingGroupValues: null,
    ...fields,
  };
}

function change(fields: Partial<RateChange>): RateChange {
  return { productId: 'chat', startingAt: at('2024-04-15T00:00:00Z'), rateType: 'FLAT', price: new Decimal(10), tiers: null, creditTypeId: 'ai', pricingGroupValues: null, ...fields };
}

const scenario = (fields: Partial<Scenario>): Scenario => ({ rateCardId: null, rateChanges: [], creditsPerSeat: null, seatPrice: null, ...fields });
const isSeatRate = (rate: Rate) => rate.productId === 'seats';

describe('scenarioRates', () => {
  it('replaces the product’s rate from the change on: the card’s rate ends there, a later one is dropped', () => {
    const rates = [rate({}), rate({ id: '00000000-0000-7000-8000-000000000002', startingAt: at('2024-04-20T00:00:00Z'), price: new Decimal(7) })];
    const result = scenarioRates(scenario({ rateChanges: [change({})] }), rates, APRIL, isSeatRate);
    expect(result.map((r) => [r.startingAt.toISOString(), r.endingBefore?.toISOString() ?? null, r.price!.toNumber()])).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-04-15T00:00:00.000Z', 5],
      ['2024-04-15T00:00:00.000Z', null, 10],
    ]);
  });

  it('prices a product the card does not, leaves other products and other pricing group values alone, and sets every seat price', () => {
    const rates = [rate({ pricingGroupValues: { region: 'eu' } }), rate({ productId: 'seats', price: new Decimal(1000), billingFrequency: 'MONTHLY' })];
    const result = scenarioRates(scenario({ rateChanges: [change({}), change({ productId: 'images' })], seatPrice: new Decimal(500) }), rates, APRIL, isSeatRate);
    expect(result.map((r) => [r.productId, r.pricingGroupValues, r.endingBefore, r.price!.toNumber()])).toEqual([
      ['chat', { region: 'eu' }, null, 5],
      ['seats', null, null, 500],
      ['chat', null, null, 10],
      ['images', null, null, 10],
    ]);
  });

  it('gives the scenario’s rates ids that sort after stored ones, in the order given, so they win a tie on starting_at', () => {
    const result = scenarioRates(scenario({ rateChanges: [change({ startingAt: APRIL.startingAt }), change({ startingAt: APRIL.startingAt, price: new Decimal(12) })] }), [rate({ id: 'ffffffff-ffff-7fff-bfff-ffffffffffff', startingAt: APRIL.startingAt })], APRIL, isSeatRate);
    expect(result.map((r) => r.price!.toNumber())).toEqual([12]);
    expect(result[0]!.id > 'ffffffff-ffff-7fff-bfff-ffffffffffff').toBe(true);
  });
});
