import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from './money.js';
import type { Period } from './periods.js';
import { addShares, coveredFraction, prorate, remainingFraction, roundShare, shareOf } from './proration.js';

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

  it('keeps shares exact and rounds them once, half to even, to 20 decimals: 8500/31 → 274.19354838709677419355', () => {
    expect(roundShare(shareOf(new Decimal(500), { numerator: 17n, denominator: 31n })).toFixed()).toBe('274.19354838709677419355');
    // 7 × 50 × 738/744 + 6 × 50 × 732/744 + 4 × 50 × 726/744 = 623100/744, exactly 837.5.
    const parts = [
      shareOf(new Decimal(350), { numerator: 738n, denominator: 744n }),
      shareOf(new Decimal(300), { numerator: 732n, denominator: 744n }),
      shareOf(new Decimal(200), { numerator: 726n, denominator: 744n }),
    ];
    expect(roundShare(parts.reduce(addShares)).toFixed()).toBe('837.5');
    expect(roundShare(addShares(shareOf(new Decimal(1), { numerator: 1n, denominator: 3n }), shareOf(new Decimal(1), { numerator: 1n, denominator: 6n }))).toFixed()).toBe('0.5');
    // Ties go to the even digit; the rest to the nearest; the sign is kept.
    const tiny = (numerator: string, denominator: bigint) => roundShare({ numerator: new Decimal(numerator), denominator }).toFixed();
    expect(tiny('5', 10n ** 21n)).toBe('0');
    expect(tiny('15', 10n ** 21n)).toBe('0.00000000000000000002');
    expect(tiny('-15', 10n ** 21n)).toBe('-0.00000000000000000002');
    expect(tiny('1.6', 3n)).toBe('0.53333333333333333333');
    expect(tiny('-2', 3n)).toBe('-0.66666666666666666667');
    // However large the amount: 10^30 / 3.
    expect(tiny('1000000000000000000000000000000', 3n)).toBe('333333333333333333333333333333.33333333333333333333');
  });

  it('prorates from any instant, to the millisecond: April 16 12:30 leaves 14 days 11.5 hours of April, 347.5/720', () => {
    const april = whole('2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z');
    const left = remainingFraction(april, at('2024-04-16T12:30:00Z'));
    expect(ratio(left)).toEqual(new Decimal(347.5).div(720));
    // 2 seats at 1,000 cents, divided once at 40 digits; 2 × 50 credits, exact and rounded once to 20 decimals.
    expect(prorate(new Decimal(2000), left).toFixed()).toBe('965.2777777777777777777777777777777777778');
    expect(roundShare(shareOf(new Decimal(100), left)).toFixed()).toBe('48.26388888888888888889');
    // One millisecond later is a different fraction: nothing is rounded to the hour.
    expect(remainingFraction(april, at('2024-04-16T12:30:00.001Z'))).toEqual({ numerator: 1_250_999_999n, denominator: 2_592_000_000n });
  });

  it('property: at any millisecond of a period, the time before and the time left add up to the whole, and so do their shares rounded once', () => {
    const april = whole('2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z');
    const length = april.endingBefore.getTime() - april.startingAt.getTime();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: length - 1 }), fc.constantFrom('50', '1000', '0.37', '12345678.9'), (offset, amount) => {
        const instant = new Date(april.startingAt.getTime() + offset);
        const left = remainingFraction(april, instant);
        const before = coveredFraction({ ...april, endingBefore: instant });
        expect(left.denominator).toBe(before.denominator);
        expect(left.numerator + before.numerator).toBe(left.denominator);
        expect(roundShare(addShares(shareOf(new Decimal(amount), left), shareOf(new Decimal(amount), before))).toFixed()).toBe(new Decimal(amount).toFixed());
      }),
      { numRuns: 500 },
    );
  });
});
