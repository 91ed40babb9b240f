import { describe, expect, it } from 'vitest';
import { Decimal } from './money.js';
import type { Period } from './periods.js';
import { coveredFraction, prorate, remainingFraction } from './proration.js';

const at = (iso: string) => new Date(iso);
const whole = (start: string, end: string): Period => ({
  index: 0,
  startingAt: at(start),
  endingBefore: at(end),
  fullStartingAt: at(start),
  fullEndingBefore: at(end),
});
const ratio = (f: { numerator: bigint; denominator: bigint }) => new Decimal(f.numerator.toString()).div(f.denominator.toString());

describe('proration fraction (rule 3)', () => {
  it('leaves 15/28 of February 2011 after Feb 14, and 13/28 before it', () => {
    const february = whole('2011-02-01T00:00:00Z', '2011-03-01T00:00:00Z');
    expect(ratio(remainingFraction(february, at('2011-02-14T00:00:00Z')))).toEqual(new Decimal(15).div(28));
    const before = coveredFraction({ ...february, endingBefore: at('2011-02-14T00:00:00Z') });
    expect(ratio(before)).toEqual(new Decimal(13).div(28));
  });

  it('makes Feb 1 → Feb 15 2012 14/29 of that leap February', () => {
    const cut: Period = { ...whole('2012-02-01T00:00:00Z', '2012-03-01T00:00:00Z'), endingBefore: at('2012-02-15T00:00:00Z') };
    expect(ratio(coveredFraction(cut))).toEqual(new Decimal(14).div(29));
  });

  it('multiplies before dividing, so thirds of 300 are exact', () => {
    const third = { numerator: 1n, denominator: 3n };
    expect(prorate(new Decimal(300), third).toFixed()).toBe('100');
    expect(prorate(new Decimal(5000), { numerator: 15n, denominator: 28n }).toFixed(10)).toBe('2678.5714285714');
  });

  it('leaves nothing at or after the end of the period', () => {
    const march = whole('2024-03-01T00:00:00Z', '2024-04-01T00:00:00Z');
    expect(remainingFraction(march, at('2024-04-01T00:00:00Z')).numerator).toBe(0n);
  });
});
