import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type { LedgerEntry } from '../../account/service.js';
import { segmentSummary } from './segmentSummary.js';

const at = (iso: string) => new Date(iso);
const april = { from: at('2024-04-01T00:00:00Z'), to: at('2024-05-01T00:00:00Z') };
const entry = (kind: LedgerEntry['kind'], amount: number, timestamp: string): LedgerEntry => ({ kind, amount: new Decimal(amount), timestamp: at(timestamp) });
const figures = (summary: ReturnType<typeof segmentSummary>) =>
  Object.fromEntries(Object.entries(summary).map(([key, value]) => [key, typeof value === 'boolean' ? value : value.toNumber()]));

describe('segment summaries for reconciliation', () => {
  const credit = [entry('SEGMENT_START', 10000, '2024-04-01T00:00:00Z'), entry('AUTOMATED_INVOICE_DEDUCTION', -6300, '2024-05-01T00:00:00Z'), entry('EXPIRATION', -3700, '2024-05-01T00:00:00Z')];
  it("puts a $100 credit with $63 used in April's window, closing movements included", () => {
    expect(figures(segmentSummary({ entries: credit, segmentEnd: april.to, ...april }))).toEqual({
      opening: 0,
      grants: 10000,
      seatAdjustments: 0,
      deductions: -6300,
      manual: 0,
      rollovers: 0,
      expirations: -3700,
      closing: 0,
      addsUp: true,
    });
  });
  it('leaves movements after the window out, and flags a closing figure that does not add up', () => {
    const may = { from: at('2024-05-01T00:00:00Z'), to: at('2024-06-01T00:00:00Z') };
    expect(figures(segmentSummary({ entries: credit, segmentEnd: april.to, ...may }))).toMatchObject({ opening: 0, grants: 0, closing: 0, addsUp: true });
    expect(segmentSummary({ entries: credit, segmentEnd: april.to, ...april, closing: new Decimal(1) }).addsUp).toBe(false);
  });
  it("counts the open period's live deductions now: June's report of a credit running to September, with 6,300 used so far", () => {
    const june = { from: at('2024-06-01T00:00:00Z'), to: at('2024-07-01T00:00:00Z') };
    const entries: LedgerEntry[] = [entry('SEGMENT_START', 10000, '2024-06-01T00:00:00Z'), { ...entry('AUTOMATED_INVOICE_DEDUCTION', -6300, '2024-07-01T00:00:00Z'), live: true }];
    const summary = segmentSummary({ entries, segmentEnd: at('2024-09-01T00:00:00Z'), ...june, closing: new Decimal(3700), now: at('2024-06-20T00:00:00Z') });
    expect(figures(summary)).toMatchObject({ grants: 10000, deductions: -6300, closing: 3700, addsUp: true });
  });

  it("keeps June's invoice deduction, dated July 1, in June once the period has closed", () => {
    const june = { from: at('2024-06-01T00:00:00Z'), to: at('2024-07-01T00:00:00Z') };
    const july = { from: at('2024-07-01T00:00:00Z'), to: at('2024-08-01T00:00:00Z') };
    const entries: LedgerEntry[] = [entry('SEGMENT_START', 10000, '2024-06-01T00:00:00Z'), entry('AUTOMATED_INVOICE_DEDUCTION', -6300, '2024-07-01T00:00:00Z')];
    const segmentEnd = at('2024-09-01T00:00:00Z');
    expect(figures(segmentSummary({ entries, segmentEnd, ...june }))).toMatchObject({ deductions: -6300, closing: 3700, addsUp: true });
    expect(figures(segmentSummary({ entries, segmentEnd, ...july }))).toMatchObject({ opening: 3700, deductions: 0, closing: 3700 });
  });

  it('property: the windows of consecutive months chain, each closing balance the next opening one', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ day: fc.integer({ min: 0, max: 89 }), amount: fc.integer({ min: -500, max: 500 }) }), { maxLength: 12 }), (moves) => {
        const entries = moves.map((m) => entry('MANUAL', m.amount, new Date(april.from.getTime() + m.day * 86_400_000).toISOString()));
        const end = at('2024-07-01T00:00:00Z');
        const months = ['2024-04-01', '2024-05-01', '2024-06-01', '2024-07-01'].map((d) => at(`${d}T00:00:00Z`));
        let opening = new Decimal(0);
        for (let i = 0; i < 3; i++) {
          const summary = segmentSummary({ entries, segmentEnd: end, from: months[i]!, to: months[i + 1]! });
          expect(summary.opening.eq(opening)).toBe(true);
          expect(summary.addsUp).toBe(true);
          opening = summary.closing;
        }
        expect(opening.toNumber()).toBe(moves.reduce((sum, m) => sum + m.amount, 0));
      }),
    );
  });
});
