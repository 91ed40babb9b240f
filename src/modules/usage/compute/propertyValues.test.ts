import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileMetric, matchMetric } from './matchMetric.js';
import { ExactDecimal, isBoundedDecimal, isBoundedNumber, numericReading, propertyNumber } from './propertyValues.js';

const bounded = (text: string) => isBoundedDecimal(new ExactDecimal(text));

describe('the number bound', () => {
  it('takes at most 10^15 either side of 0, 30 significant digits and 30 decimal places', () => {
    for (const text of ['0', '-0', '1e15', '-1e15', '1000000000000000', '999999999999999.999999999999999', '123456789012345.123456789012345', '1e-30', '-0.000000000000000000000000000001', '1.500000000000000000000000000000000000']) {
      expect(bounded(text), text).toBe(true);
    }
    for (const text of ['1e16', '-1e16', '1000000000000000.1', '1e308', '1e400', '-1e400', '1234567890123456789012345678901', '1.234567890123456789012345678901', '1e-31', '1e-400', 'Infinity', '-Infinity', 'NaN']) {
      expect(bounded(text), text).toBe(false);
    }
  });

  it('agrees with counting the digits of the plain notation', () => {
    // The bound read off the digits: integer part at most 10^15, digits from the first to the last non-zero at most 30, decimals at most 30.
    const byDigits = (text: string) => {
      const [whole, fraction = ''] = new ExactDecimal(text).abs().toFixed().split('.');
      const significant = `${whole}${fraction}`.replace(/^0+/, '').replace(/0+$/, '');
      return (whole!.length < 16 || (/^10{15}$/.test(whole!) && fraction === '')) && significant.length <= 30 && fraction.length <= 30;
    };
    fc.assert(
      fc.property(fc.stringMatching(/^-?(0|[1-9]\d{0,20})(\.\d{1,35})?([eE][+-]?\d{1,2})?$/), (text) => {
        expect(bounded(text), text).toBe(byDigits(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same answer for a JS number as for its decimal', () => {
    for (const value of [0, 1, -1, 0.1, 1e15, -1e15, 1e15 + 0.125, 1e16, 1e21, 1e-7, 1e-30, 1e-31, 1.5e-25, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, Number.NaN]) {
      expect(isBoundedNumber(value), String(value)).toBe(Number.isFinite(value) && bounded(String(value)));
    }
    fc.assert(
      fc.property(fc.double(), (value) => {
        expect(isBoundedNumber(value)).toBe(Number.isFinite(value) && bounded(String(value)));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads an exponent too large to expand as infinite, without expanding it', () => {
    expect(numericReading('1e99999999999999999999')?.isFinite()).toBe(false);
    expect(numericReading('1e-99999999999999999999')?.isFinite()).toBe(false);
    expect(numericReading('1e400')?.toExponential()).toBe('1e+400');
    expect(numericReading('abc')).toBeUndefined();
    expect(propertyNumber('1e-99999999999999999999')).toBeUndefined();
  });

  it('does not match an event whose number is beyond the bound, and names the property to a caller that asks', () => {
    const tokens = compileMetric({
      id: 'm',
      aggregation_type: 'SUM',
      aggregation_key: 'tokens',
      event_type_filter: { in_values: ['chat'] },
      property_filters: [],
      group_keys: [['user_id']],
    });
    const unbounded: string[] = [];
    const match = (eventType: string, properties: Record<string, unknown>) => matchMetric(tokens, { eventType, properties }, (property) => unbounded.push(property));
    expect(match('chat', { tokens: '1e15', user_id: 'u1' })?.value?.toFixed()).toBe('1000000000000000');
    expect(match('chat', { tokens: '1e400', user_id: 'u1' })).toBeUndefined();
    expect(unbounded).toEqual(['tokens']);
    // Events the metric would not read anyway are not its concern: another type, no group value, no number.
    expect(match('other', { tokens: '1e400', user_id: 'u1' })).toBeUndefined();
    expect(match('chat', { tokens: '1e400' })).toBeUndefined();
    expect(match('chat', { tokens: 'n/a', user_id: 'u1' })).toBeUndefined();
    expect(unbounded).toEqual(['tokens']);
    expect(matchMetric(tokens, { eventType: 'chat', properties: { tokens: '1e400', user_id: 'u1' } })).toBeUndefined();
  });
});
