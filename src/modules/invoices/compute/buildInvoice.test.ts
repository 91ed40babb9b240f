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
  it('never has a segment pay more than it drew: two 0.5-cent lines paid by one cent show −1 and 0', () => {
    const result = finalizedLines([line('usage', '0.5'), line('applied_commit_or_credit', '-0.5', 's'), line('usage', '0.5'), line('applied_commit_or_credit', '-0.5', 's')], USD);
    expect(totals(result)).toEqual([['1', '-1', '1', '0'], '1']);
  });
  it('keeps lines in custom units exact and out of the total', () => {
    expect(totals(finalizedLines([line('usage', '12.345', undefined, 'ai'), line('applied_commit_or_credit', '-12.345', 's', 'ai'), line('cpu_conversion', '0.6')], USD))).toEqual([
      ['12.345', '-12.345', '1'],
      '1',
    ]);
  });
  it('property: what a segment pays is its exact draw rounded down, spread over its lines in whole cents', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ cents: fc.integer({ min: 1, max: 100_000 }), segment: fc.constantFrom('a', 'b') }), { minLength: 1, maxLength: 8 }), (draws) => {
        const lines = draws.map((draw) => line('applied_commit_or_credit', new Decimal(draw.cents).div(100).neg().toFixed(), draw.segment));
        const result = finalizedLines(lines, USD);
        for (const segment of ['a', 'b']) {
          const exact = lines.filter((l) => l.applied?.segmentId === segment).reduce((sum, l) => sum.add(l.total), new Decimal(0));
          const paid = result.lines.filter((l) => l.applied?.segmentId === segment).reduce((sum, l) => sum.add(l.total), new Decimal(0));
          expect(paid.eq(exact.abs().floor().neg())).toBe(true);
        }
        expect(result.lines.every((l) => l.total.isInteger())).toBe(true);
      }),
    );
  });
});
