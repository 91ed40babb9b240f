import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { quantitySchedule, type QuantityChange } from '../../../lib/quantitySchedule.js';
import { seatCharges, type BilledSubscription } from './seatCharges.js';

const at = (iso: string) => new Date(iso);
const april = { from: at('2024-04-01T00:00:00Z'), to: at('2024-05-01T00:00:00Z') };
const halfway = at('2024-04-16T00:00:00Z');
const USD = 'usd';

function subscription(
  quantities: { at: string; quantity: number }[],
  options: Partial<Pick<BilledSubscription, 'collectionSchedule' | 'isProrated' | 'invoiceBehavior'>> = {},
): BilledSubscription {
  const changes: QuantityChange[] = quantities.map((change, sequence) => ({ startingAt: at(change.at), quantity: change.quantity, sequence }));
  const folded = quantitySchedule(changes);
  if (!folded.ok) throw new Error('bad schedule');
  return {
    id: 'seats',
    name: 'Seats',
    collectionSchedule: 'ADVANCE',
    isProrated: false,
    invoiceBehavior: 'BILL_ON_NEXT_COLLECTION_DATE',
    ...options,
    schedule: { anchor: at('2024-04-01T00:00:00Z'), frequency: 'MONTHLY', startingAt: at('2024-04-01T00:00:00Z'), endingBefore: null },
    changes,
    steps: folded.steps,
  };
}
const price = (cents: number) => [{ startingAt: at('2024-01-01T00:00:00Z'), endingBefore: null, price: new Decimal(cents), creditTypeId: USD }];
const charged = (sub: BilledSubscription, cents = 1000) =>
  seatCharges({ subscription: sub, prices: price(cents), ...april, now: at('2024-04-30T23:59:59.999Z') }).map((charge) => charge.amount.toFixed());

describe('seat charges (rule 8)', () => {
  const start = { at: '2024-04-01T00:00:00Z', quantity: 10 };
  it('bills 10 seats at 1,000 in advance at the period start, not prorated', () => {
    expect(charged(subscription([start]))).toEqual(['10000']);
  });
  it('bills an increase from the high-water mark, and nothing for a decrease', () => {
    expect(charged(subscription([start, { at: '2024-04-10T00:00:00Z', quantity: 15 }]))).toEqual(['10000', '5000']);
    expect(charged(subscription([start, { at: '2024-04-10T00:00:00Z', quantity: 5 }]))).toEqual(['10000']);
    expect(charged(subscription([start, { at: '2024-04-10T00:00:00Z', quantity: 5 }, { at: '2024-04-12T00:00:00Z', quantity: 15 }]))).toEqual(['10000', '5000']);
    expect(charged(subscription([start, { at: '2024-04-10T00:00:00Z', quantity: 15 }, { at: '2024-04-12T00:00:00Z', quantity: 20 }]))).toEqual(['10000', '5000', '5000']);
  });
  it('bills a price of 0 once a period: no charge of 0 for each increase, whatever the proration or invoice behavior', () => {
    const raised = [start, { at: '2024-04-10T00:00:00Z', quantity: 15 }, { at: '2024-04-12T00:00:00Z', quantity: 20 }];
    for (const options of [{}, { isProrated: true }, { invoiceBehavior: 'BILL_IMMEDIATELY' as const }]) {
      const charges = seatCharges({ subscription: subscription(raised, options), prices: price(0), ...april, now: at('2024-04-30T23:59:59.999Z') });
      expect(charges.map((c) => [c.kind, c.quantity.toFixed(), c.amount.toFixed()])).toEqual([['PERIOD', '10', '0']]);
    }
    expect(charged(subscription(raised, { collectionSchedule: 'ARREARS' }), 0)).toEqual(['0']);
    // A price of 0 from April 11 on: the increase of April 10 is billed, the one of April 12 is not.
    const prices = [
      { startingAt: at('2024-01-01T00:00:00Z'), endingBefore: at('2024-04-11T00:00:00Z'), price: new Decimal(1000), creditTypeId: USD },
      { startingAt: at('2024-04-11T00:00:00Z'), endingBefore: null, price: new Decimal(0), creditTypeId: USD },
    ];
    const changed = seatCharges({ subscription: subscription(raised), prices, ...april, now: at('2024-04-30T00:00:00Z') });
    expect(changed.map((c) => [c.kind, c.amount.toFixed()])).toEqual([['PERIOD', '10000'], ['INCREASE', '5000']]);
  });
  it('prorates an increase by the time left and marks BILL_IMMEDIATELY increases', () => {
    const sub = subscription([start, { at: halfway.toISOString(), quantity: 14 }], { isProrated: true, invoiceBehavior: 'BILL_IMMEDIATELY' });
    const charges = seatCharges({ subscription: sub, prices: price(2500), ...april, now: halfway });
    expect(charges.map((c) => [c.kind, c.amount.toFixed(), c.immediate])).toEqual([
      ['PERIOD', '25000', false],
      ['INCREASE', '5000', true],
    ]);
  });
  it('prorates an increase off the hour by the exact time left: +2 seats at 1,000 on April 16 at 12:30 → 2,000 × 347.5/720', () => {
    const sub = subscription([start, { at: '2024-04-16T12:30:00Z', quantity: 12 }], { isProrated: true });
    const charges = (now: string) => seatCharges({ subscription: sub, prices: price(1000), ...april, now: at(now) });
    expect(charges('2024-04-16T12:30:00Z').map((c) => [c.kind, c.amount.toFixed(), c.billedAt.toISOString()])).toEqual([
      ['PERIOD', '10000', '2024-04-01T00:00:00.000Z'],
      ['INCREASE', '965.2777777777777777777777777777777777778', '2024-04-16T12:30:00.000Z'],
    ]);
    expect(charges('2024-04-16T12:29:59.999Z').map((c) => c.kind)).toEqual(['PERIOD']);
    // ARREARS weighs each seat by the milliseconds it held: 10 × 720 h + 2 × 347.5 h over 720 h.
    const arrears = subscription([start, { at: '2024-04-16T12:30:00Z', quantity: 12 }], { isProrated: true, collectionSchedule: 'ARREARS' });
    const [period] = seatCharges({ subscription: arrears, prices: price(1000), ...april, now: april.to });
    expect(period!.quantity.toFixed(30)).toBe(new Decimal(10).add(new Decimal(695).div(720)).toFixed(30));
  });
  it('charges an increase only once the clock reaches it', () => {
    const sub = subscription([start, { at: '2024-04-20T00:00:00Z', quantity: 15 }]);
    expect(seatCharges({ subscription: sub, prices: price(1000), ...april, now: halfway }).map((c) => c.kind)).toEqual(['PERIOD']);
  });
  it('bills ARREARS at the period end: time-weighted when prorated, else the final quantity', () => {
    const sub = (isProrated: boolean) => subscription([start, { at: halfway.toISOString(), quantity: 20 }], { collectionSchedule: 'ARREARS', isProrated });
    expect(charged(sub(true))).toEqual(['15000']);
    expect(charged(sub(false))).toEqual(['20000']);
    // Not in April's range until its last instant: placed on April's invoice.
    expect(seatCharges({ subscription: sub(true), prices: price(1000), ...april, now: halfway })).toEqual([]);
  });
  it('a $0 subscription still yields its charges, at 0', () => {
    expect(charged(subscription([start]), 0)).toEqual(['0']);
  });
  it('property: without proration the period charges add up to the high-water mark × price', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ day: fc.integer({ min: 2, max: 29 }), quantity: fc.integer({ min: 0, max: 50 }) }), { maxLength: 6 }), (moves) => {
        const steps = [start, ...moves.map((m) => ({ at: `2024-04-${String(m.day).padStart(2, '0')}T00:00:00Z`, quantity: m.quantity }))];
        const sub = subscription(steps);
        const total = seatCharges({ subscription: sub, prices: price(1000), ...april, now: at('2024-04-30T23:00:00Z') }).reduce((s, c) => s.add(c.amount), new Decimal(0));
        const highWater = Math.max(10, ...sub.steps.map((s) => s.quantity));
        expect(total.toFixed()).toBe(String(highWater * 1000));
      }),
    );
  });
});
