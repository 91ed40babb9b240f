import { describe, expect, it } from 'vitest';
import { Decimal } from '../../lib/money.js';
import type { Balance } from '../../modules/account/service.js';
import type { LedgerEntry } from '../../modules/account/service.js';
import type { SliceCharge } from '../../modules/account/service.js';
import { poolOf } from './pool.js';

const at = (iso: string) => new Date(iso);
const unit = { id: 'c0000000-0000-4000-8000-000000000001', name: 'AI credits' };
const DAY = 24 * 60 * 60 * 1000;

function balance(entries: LedgerEntry[], window = { startingAt: at('2026-04-01T00:00:00Z'), endingBefore: at('2026-05-01T00:00:00Z') }): Balance {
  const total = entries.reduce((sum, entry) => sum.add(entry.amount), new Decimal(0));
  return {
    id: 'g1',
    kind: 'CREDIT',
    customerId: 'c1',
    contractId: 'k1',
    productId: 'p1',
    creditTypeId: unit.id,
    priority: new Decimal(1),
    applicableProductIds: null,
    applicableProductTags: null,
    applicableContractIds: null,
    rateType: 'LIST_RATE',
    name: 'Pooled AI credits',
    description: null,
    customFields: {},
    createdAt: window.startingAt,
    archivedAt: null,
    subscriptionConfig: null,
    recurringId: null,
    rolledOverFrom: null,
    balance: total,
    segments: [{ id: 's1', ...window, amount: new Decimal(5000), rolloverOf: null, ledger: { entries, balance: total, held: total, rolledOver: new Decimal(0) } }],
  };
}

/** 100 credits of usage on each of the first `days` days of April. */
function dailyCharges(days: number, perDay = '100'): SliceCharge[] {
  return Array.from({ length: days }, (_, i) => ({
    slice: { startingAt: new Date(at('2026-04-01T00:00:00Z').getTime() + i * DAY), endingBefore: new Date(at('2026-04-01T00:00:00Z').getTime() + (i + 1) * DAY) },
    quantityBefore: new Decimal(0),
    quantityAfter: new Decimal(0),
    rate: {} as SliceCharge['rate'],
    amount: new Decimal(perDay),
  }));
}

describe('the pool over its period', () => {
  it('follows the day-by-day burn, ends at the balance, and projects the run-out date', () => {
    const now = at('2026-04-11T00:00:00Z');
    const grant = balance([
      { kind: 'SEGMENT_START', amount: new Decimal(5000), timestamp: at('2026-04-01T00:00:00Z') },
      { kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: new Decimal(-1000), timestamp: at('2026-05-01T00:00:00Z'), live: true },
    ]);
    const pool = poolOf({ unit, balances: [grant], charges: dailyCharges(10), now })!;
    expect(pool.balance.toFixed()).toBe('4000');
    expect(pool.granted.toFixed()).toBe('5000');
    // 5,000 on the 1st, 4,900 on the 2nd … 4,100 on the 10th, then the balance now.
    expect(pool.points.map((p) => p.available.toFixed())).toEqual(['5000', '4900', '4800', '4700', '4600', '4500', '4400', '4300', '4200', '4100', '4000']);
    expect(pool.points.at(-1)!.at).toEqual(now);
    expect(pool.burnPerDay.toFixed()).toBe('100');
    // 4,000 left at 100 a day lasts 40 days: past April's end, so no run-out date this period.
    expect(pool.runOutAt).toBeNull();
    expect(pool.projection.map((p) => [p.at.toISOString(), p.available.toFixed()])).toEqual([
      ['2026-04-11T00:00:00.000Z', '4000'],
      ['2026-05-01T00:00:00.000Z', '2000'],
    ]);
  });

  it('gives the run-out date when the burn empties the pool within the period', () => {
    const now = at('2026-04-11T00:00:00Z');
    const grant = balance([
      { kind: 'SEGMENT_START', amount: new Decimal(5000), timestamp: at('2026-04-01T00:00:00Z') },
      { kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: new Decimal(-4000), timestamp: at('2026-05-01T00:00:00Z'), live: true },
    ]);
    const pool = poolOf({ unit, balances: [grant], charges: dailyCharges(10, '400'), now })!;
    expect(pool.balance.toFixed()).toBe('1000');
    expect(pool.runOutAt?.toISOString()).toBe('2026-04-13T12:00:00.000Z');
    expect(pool.projection.at(-1)!.available.toFixed()).toBe('0');
  });

  it('shows seat adjustments at their time, and scales the draw to what the pool really paid', () => {
    const now = at('2026-04-21T00:00:00Z');
    const grant = balance([
      { kind: 'SEGMENT_START', amount: new Decimal(5000), timestamp: at('2026-04-01T00:00:00Z') },
      // +10 seats × 50 credits at two thirds of April left.
      { kind: 'SEAT_BASED_ADJUSTMENT', amount: new Decimal(333), timestamp: at('2026-04-11T00:00:00Z') },
      // Usage charged 8,000 but the pool held only 5,333: the draw is what it held.
      { kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: new Decimal(-5333), timestamp: at('2026-05-01T00:00:00Z'), live: true },
    ]);
    const pool = poolOf({ unit, balances: [grant], charges: dailyCharges(20, '400'), now })!;
    expect(pool.movements.map((m) => [m.kind, m.amount.toFixed()])).toEqual([
      ['SEGMENT_START', '5000'],
      ['SEAT_BASED_ADJUSTMENT', '333'],
    ]);
    expect(pool.points.at(-1)!.available.toFixed()).toBe('0');
    // After 10 of 20 days of equal burn, half the draw (2,666.5) is gone; the adjustment is a step then.
    const around = pool.points.filter((p) => Math.abs(p.at.getTime() - at('2026-04-11T00:00:00Z').getTime()) <= 1);
    expect(around.map((p) => p.available.toFixed(2))).toEqual(['2333.50', '2666.50']);
    expect(pool.points.every((p) => p.available.gte(0))).toBe(true);
  });

  it("adds up what is added of one kind at one instant: every seat's credit at the period's start is one movement", () => {
    const start = { kind: 'SEGMENT_START' as const, amount: new Decimal(50), timestamp: at('2026-04-01T00:00:00Z') };
    const seats = Array.from({ length: 3 }, (_, i) => ({ ...balance([start]), id: `seat-${i}` }));
    const later = balance([{ kind: 'SEAT_BASED_ADJUSTMENT', amount: new Decimal(25), timestamp: at('2026-04-16T00:00:00Z') }]);
    const pool = poolOf({ unit, balances: [...seats, later], charges: [], now: at('2026-04-20T00:00:00Z') })!;
    expect(pool.movements.map((m) => [m.kind, m.amount.toFixed(), m.count])).toEqual([
      ['SEGMENT_START', '150', 3],
      ['SEAT_BASED_ADJUSTMENT', '25', 1],
    ]);
    expect(pool.granted.toFixed()).toBe('175');
  });

  it('measures the burn over whole days of usage, however far into a day now is', () => {
    // 100 a day; at noon on April 11 the day's slice holds the 50 used so far.
    const now = at('2026-04-11T12:00:00Z');
    const charges = [...dailyCharges(10), ...dailyCharges(11, '50').slice(10)];
    const grant = balance([
      { kind: 'SEGMENT_START', amount: new Decimal(5000), timestamp: at('2026-04-01T00:00:00Z') },
      { kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: new Decimal(-1050), timestamp: at('2026-05-01T00:00:00Z'), live: true },
    ]);
    expect(poolOf({ unit, balances: [grant], charges, now })!.burnPerDay.toFixed()).toBe('100');
  });

  it('measures the burn from the period start when the credit was usable before it', () => {
    // A credit usable since March 20; April's usage (100 a day) is rated from April 1.
    const now = at('2026-04-03T00:00:00Z');
    const grant = balance(
      [
        { kind: 'SEGMENT_START', amount: new Decimal(5000), timestamp: at('2026-03-20T00:00:00Z') },
        { kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: new Decimal(-200), timestamp: at('2026-05-01T00:00:00Z'), live: true },
      ],
      { startingAt: at('2026-03-20T00:00:00Z'), endingBefore: at('2026-12-31T00:00:00Z') },
    );
    expect(poolOf({ unit, balances: [grant], charges: dailyCharges(2), now })!.burnPerDay.toFixed()).toBe('100');
  });

  it('has no pool without a segment covering now', () => {
    const grant = balance([{ kind: 'SEGMENT_START', amount: new Decimal(5000), timestamp: at('2026-04-01T00:00:00Z') }]);
    expect(poolOf({ unit, balances: [grant], charges: [], now: at('2026-05-02T00:00:00Z') })).toBeUndefined();
  });

  it('has no burn and no run-out date without usage', () => {
    const grant = balance([{ kind: 'SEGMENT_START', amount: new Decimal(5000), timestamp: at('2026-04-01T00:00:00Z') }]);
    const pool = poolOf({ unit, balances: [grant], charges: [], now: at('2026-04-11T00:00:00Z') })!;
    expect([pool.burnPerDay.toFixed(), pool.runOutAt, pool.projection, pool.points.at(-1)!.available.toFixed()]).toEqual(['0', null, [], '5000']);
  });
});
