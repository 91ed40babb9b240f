import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { segmentLedger, type LedgerEntry } from './segmentLedger.js';

const at = (iso: string) => new Date(iso);
const window = { startingAt: at('2024-01-01T00:00:00Z'), endingBefore: at('2024-02-01T00:00:00Z') };
const start: LedgerEntry = { kind: 'SEGMENT_START', amount: new Decimal(10000), timestamp: window.startingAt };
const used: LedgerEntry = { kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: new Decimal(-6300), timestamp: at('2024-01-20T00:00:00Z') };
const summary = (entries: LedgerEntry[]) => entries.map((e) => [e.kind, e.amount.toFixed()]);

describe('segment ledger (rule 11)', () => {
  it('expires the remainder at the end: $100 with $63 used → +10000, −6300, −3700', () => {
    const ledger = segmentLedger({ window, movements: [used, start], rolloverFraction: null, canRollOver: false, now: at('2024-03-01T00:00:00Z') });
    expect(summary(ledger.entries)).toEqual([
      ['SEGMENT_START', '10000'],
      ['AUTOMATED_INVOICE_DEDUCTION', '-6300'],
      ['EXPIRATION', '-3700'],
    ]);
    expect(ledger.balance.toFixed()).toBe('0');
  });

  it("counts an invoice deduction dated at the segment's end (the period's invoice), and expires what it left", () => {
    const atEnd: LedgerEntry = { ...used, timestamp: window.endingBefore };
    const ledger = segmentLedger({ window, movements: [start, atEnd], rolloverFraction: null, canRollOver: false, now: window.endingBefore });
    expect(summary(ledger.entries)).toEqual([
      ['SEGMENT_START', '10000'],
      ['AUTOMATED_INVOICE_DEDUCTION', '-6300'],
      ['EXPIRATION', '-3700'],
    ]);
    // Any other movement at the end belongs to what comes after the segment.
    const manual = segmentLedger({ window, movements: [start, { ...atEnd, kind: 'MANUAL' }], rolloverFraction: null, canRollOver: false, now: window.endingBefore });
    expect(summary(manual.entries)).toEqual([
      ['SEGMENT_START', '10000'],
      ['EXPIRATION', '-10000'],
    ]);
  });

  it('shows only what has happened by now, and nothing before the segment starts', () => {
    expect(segmentLedger({ window, movements: [start, used], rolloverFraction: null, canRollOver: false, now: at('2024-01-10T00:00:00Z') }).balance.toFixed()).toBe('10000');
    const before = segmentLedger({ window, movements: [start], rolloverFraction: null, canRollOver: false, now: at('2023-12-31T00:00:00Z') });
    expect(before.entries).toEqual([]);
    expect(before.balance.toFixed()).toBe('0');
  });

  it('rolls over its fraction of the remainder and expires the rest', () => {
    const ledger = segmentLedger({ window, movements: [start, used], rolloverFraction: new Decimal('0.5'), canRollOver: true, now: window.endingBefore });
    expect(summary(ledger.entries).slice(2)).toEqual([
      ['ROLLOVER', '-1850'],
      ['EXPIRATION', '-1850'],
    ]);
    expect(ledger.rolledOver.toFixed()).toBe('1850');
  });

  it('sums its entries to its balance, whatever the movements and the time', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ day: fc.integer({ min: 0, max: 30 }), cents: fc.integer({ min: -5000, max: 5000 }) }), { maxLength: 10 }),
        fc.integer({ min: -5, max: 40 }),
        fc.option(fc.integer({ min: 0, max: 100 })),
        (movements, nowDay, rolloverPercent) => {
          const entries: LedgerEntry[] = [start, ...movements.map((m) => ({ kind: 'MANUAL' as const, amount: new Decimal(m.cents), timestamp: new Date(window.startingAt.getTime() + m.day * 86_400_000) }))];
          const now = new Date(window.startingAt.getTime() + nowDay * 86_400_000);
          const ledger = segmentLedger({ window, movements: entries, rolloverFraction: rolloverPercent === null ? null : new Decimal(rolloverPercent).div(100), canRollOver: true, now });
          expect(ledger.entries.reduce((sum, e) => sum.add(e.amount), new Decimal(0)).toFixed()).toBe(ledger.balance.toFixed());
          if (now >= window.endingBefore) expect(ledger.balance.lte(0)).toBe(true);
        },
      ),
    );
  });

  it('rolls over the fraction rounded down to 20 decimals, never more than is left, and expires exactly the rest', () => {
    const end = at('2024-03-01T00:00:00Z');
    const odd: LedgerEntry = { kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: new Decimal('-0.001344086021505376344086021505376344086022'), timestamp: at('2024-01-20T00:00:00Z') };
    const whole = segmentLedger({ window, movements: [{ ...start, amount: new Decimal(50) }, odd], rolloverFraction: new Decimal(1), canRollOver: true, now: end });
    expect(summary(whole.entries).slice(2)).toEqual([
      ['ROLLOVER', '-49.99865591397849462365'],
      ['EXPIRATION', '-0.000000000000000000005913978494623655913978'],
    ]);
    expect(whole.balance.toFixed()).toBe('0');
    const third = segmentLedger({ window, movements: [{ ...start, amount: new Decimal('5837.5') }], rolloverFraction: new Decimal('0.333'), canRollOver: true, now: end });
    expect(summary(third.entries).slice(1)).toEqual([
      ['ROLLOVER', '-1943.8875'],
      ['EXPIRATION', '-3893.6125'],
    ]);
  });
});
