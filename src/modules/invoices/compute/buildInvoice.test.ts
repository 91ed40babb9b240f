import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { finalizedLines, type InvoiceLine } from './buildInvoice.js';

const USD = 'usd';
const at = new Date('2024-04-01T00:00:00Z');
function line(type: InvoiceLine['type'], total: string, segmentId?: string, creditTypeId = USD): InvoiceLine {
  return {
    type,
    name: type,
    creditTypeId,
    total: new Decimal(total),
    quantity: null,
    unitPrice: null,
    productId: null,
    pricingGroupValues: null,
    applied: segmentId ? { grantId: `grant-${segmentId}`, segmentId, kind: 'CREDIT' } : null,
    subscriptionId: null,
    startingAt: at,
    endingBefore: at,
  };
}
const totals = (result: ReturnType<typeof finalizedLines>) => [result.lines.map((l) => l.total.toFixed()), result.total.toFixed()];

describe('finalised invoice lines', () => {
  it('rounds fiat lines once to whole cents, and the total is their sum: 1000.4 − 400.4 → 1000 − 400 = 600', () => {
    expect(totals(finalizedLines([line('usage', '1000.4'), line('applied_commit_or_credit', '-400.4', 's')], USD))).toEqual([['1000', '-400'], '600']);
  });
  it('rounds what a segment paid like the charge it covers: 1000.5 cents covered by a credit bill 1001 − 1001 = 0', () => {
    expect(totals(finalizedLines([line('usage', '1000.5'), line('applied_commit_or_credit', '-1000.5', 's')], USD))).toEqual([['1001', '-1001'], '0']);
  });
  it('never has a segment pay more than it held: two 0.5-cent lines paid by a credit of 1.4 cents show −1 and 0', () => {
    const lines = [line('usage', '0.5'), line('applied_commit_or_credit', '-0.5', 's'), line('usage', '0.5'), line('applied_commit_or_credit', '-0.5', 's')];
    expect(totals(finalizedLines(lines, USD, new Map([['s', new Decimal('1.4')]])))).toEqual([['1', '-1', '1', '0'], '1']);
    expect(totals(finalizedLines(lines, USD, new Map([['s', new Decimal('2')]])))).toEqual([['1', '-1', '1', '-1'], '0']);
  });
  it('keeps lines in custom units exact and out of the total', () => {
    expect(totals(finalizedLines([line('usage', '12.345', undefined, 'ai'), line('applied_commit_or_credit', '-12.345', 's', 'ai'), line('cpu_conversion', '0.6')], USD))).toEqual([
      ['12.345', '-12.345', '1'],
      '1',
    ]);
  });
  it('property: each applied line is rounded to whole cents, and what a segment pays stays within its room', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ cents: fc.integer({ min: 1, max: 100_000 }), segment: fc.constantFrom('a', 'b') }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 99 }),
        (draws, slack) => {
          const lines = draws.map((draw) => line('applied_commit_or_credit', new Decimal(draw.cents).div(100).neg().toFixed(), draw.segment));
          const exactOf = (segment: string) => lines.filter((l) => l.applied?.segmentId === segment).reduce((sum, l) => sum.add(l.total), new Decimal(0)).abs();
          // Room: the exact draw plus up to 0.99 cents, as a segment holding fractional cents would have.
          const room = new Map(['a', 'b'].map((segment) => [segment, exactOf(segment).add(new Decimal(slack).div(100))]));
          const result = finalizedLines(lines, USD, room);
          for (const segment of ['a', 'b']) {
            const own = lines.filter((l) => l.applied?.segmentId === segment);
            const roundedEach = own.reduce((sum, l) => sum.add(l.total.abs().toDecimalPlaces(0, Decimal.ROUND_HALF_UP)), new Decimal(0));
            const paid = result.lines.filter((l) => l.applied?.segmentId === segment).reduce((sum, l) => sum.add(l.total), new Decimal(0)).abs();
            expect(paid.eq(Decimal.min(roundedEach, room.get(segment)!.floor()))).toBe(true);
            expect(paid.lte(room.get(segment)!)).toBe(true);
          }
          expect(result.lines.every((l) => l.total.isInteger())).toBe(true);
        },
      ),
    );
  });
});
