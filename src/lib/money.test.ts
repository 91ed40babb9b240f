import { Decimal as DecimalBase } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Unrepresentable } from './errors.js';
import { addExactly, Decimal, decimalInput, isNegative, isPositive, productExactly, subExactly, sumExactly, toNumericText, wireNumber } from './money.js';

describe('decimalInput', () => {
  it('takes JSON numbers at their shortest text and decimal strings exactly', () => {
    expect(toNumericText(decimalInput.parse(0.1))).toBe('0.1');
    expect(toNumericText(decimalInput.parse('12345678901234567890.123456789'))).toBe('12345678901234567890.123456789');
    expect(toNumericText(decimalInput.parse(1e21))).toBe('1000000000000000000000');
    expect(toNumericText(decimalInput.parse(-2.5e-7))).toBe('-0.00000025');
  });

  it('rejects what is not a finite decimal', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1e5', '', 'abc', '1.', '.5', '0x10']) {
      expect(decimalInput.safeParse(bad).success, String(bad)).toBe(false);
    }
  });

  it('adds cents exactly where floating point would not', () => {
    const sum = [0.1, 0.2].map((n) => decimalInput.parse(n)).reduce((a, b) => a.plus(b), new Decimal(0));
    expect(toNumericText(sum)).toBe('0.3');
  });

  it('round-trips any decimal string through numeric text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.nat({ max: 12 }), (units, scale) => {
        const text = new Decimal(units.toString()).dividedBy(new Decimal(10).pow(scale)).toFixed();
        expect(toNumericText(decimalInput.parse(text))).toBe(text);
      }),
    );
  });
});

describe('wireNumber', () => {
  it('sends a decimal as a JSON number, and refuses one no double holds rather than sending Infinity or null', () => {
    expect([wireNumber(new Decimal('1e15')), wireNumber(new Decimal('0.1')), wireNumber(new Decimal('-1.7e308'))]).toEqual([1e15, 0.1, -1.7e308]);
    for (const value of ['1e400', '-1e400', '1.8e308', 'Infinity', 'NaN']) {
      expect(() => wireNumber(new Decimal(value)), value).toThrow(Unrepresentable);
    }
    expect(() => wireNumber(new Decimal('1e400'))).toThrow('An amount of this answer (1e+400) is beyond what a JSON number holds (about 1.8e308), so it cannot be sent');
  });
});

describe('exact sums and products', () => {
  it('adds every digit, where 40-digit arithmetic rounds and depends on the order', () => {
    const adjustments = ['347.1774193548387096774193548387096774194', '295.1612903225806451612903225806451612903', '195.1612903225806451612903225806451612903'].map((text) => new Decimal(text));
    const inTimeOrder = adjustments.reduce((sum, amount) => sum.add(amount), new Decimal(5000));
    const columnFirst = new Decimal(5000).add(adjustments.reduce((sum, amount) => sum.add(amount), new Decimal(0)));
    expect(inTimeOrder.eq(columnFirst)).toBe(false);
    expect(sumExactly([new Decimal(5000), ...adjustments]).toFixed()).toBe('5837.5');
    expect(inTimeOrder.toFixed()).toBe('5837.499999999999999999999999999999999999');
    expect(sumExactly([...adjustments].reverse()).add(5000).toFixed()).toBe('5837.5');
    expect(sumExactly([]).toFixed()).toBe('0');
    expect(productExactly(new Decimal('1234567890.123456789012345678901234567891'), 10n ** 12n).toFixed()).toBe('1234567890123456789012.345678901234567891');
  });

  it('adds exactly whether or not the sum fits in 40 digits (the short way is taken only when it does)', () => {
    const Reference = DecimalBase.clone({ precision: 1e9 });
    // Digits and a decimal point anywhere: from 40-digit fractions to whole numbers of 30 digits, either sign.
    const amount = fc
      .tuple(fc.boolean(), fc.stringMatching(/^[1-9][0-9]{0,39}$/), fc.integer({ min: -45, max: 30 }))
      .map(([negative, digits, exponent]) => new Decimal(`${negative ? '-' : ''}${digits}e${exponent - digits.length + 1}`));
    fc.assert(
      fc.property(fc.array(amount, { maxLength: 12 }), (amounts) => {
        const exact = amounts.reduce((sum, value) => sum.add(value.toString()), new Reference(0));
        expect(sumExactly(amounts).toString()).toBe(new Decimal(exact).toString());
      }),
      { numRuns: 2000 },
    );
    expect(sumExactly([new Decimal('0.1'), new Decimal('0.2')]).toFixed()).toBe('0.3');
    expect(sumExactly([new Decimal('99999999999999999999'), new Decimal('0.00000000000000000001')]).toFixed()).toBe('99999999999999999999.00000000000000000001');
    fc.assert(
      fc.property(amount, amount, (a, b) => {
        const exact = (sign: 1 | -1) => new Decimal(new Reference(a.toString()).add(new Reference(b.toString()).mul(sign))).toString();
        expect(addExactly(a, b).toString()).toBe(exact(1));
        expect(subExactly(a, b).toString()).toBe(exact(-1));
        expect([isPositive(a), isNegative(a)]).toEqual([a.gt(0), a.lt(0)]);
      }),
      { numRuns: 2000 },
    );
    expect([new Decimal(0), new Decimal('-0')].map((zero) => [isPositive(zero), isNegative(zero)])).toEqual([[false, false], [false, false]]);
    expect(subExactly(new Decimal('5000'), new Decimal('0.0000000000000000000000000000000000001')).toFixed()).toBe('4999.9999999999999999999999999999999999999');
  });
});
