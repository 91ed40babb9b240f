import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupValuesElement, plainArray, quoted, textArray, textArrayLiteral } from './pgArrays.js';

describe('array literals', () => {
  it('quotes every text element, escaping quotes and backslashes only', () => {
    expect(textArray(['a', 'b,c', 'NULL', '', 'x"y\\z', null])).toBe('{"a","b,c","NULL","","x\\"y\\\\z",NULL}');
    expect(plainArray(['1', null, '2024-01-01T00:00:00.000Z'])).toBe('{1,NULL,2024-01-01T00:00:00.000Z}');
    expect(textArrayLiteral([])).toBe('{}');
  });

  it('builds a group-values element exactly as the quoted literal of its literal', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 4 }), (values) => {
        expect(groupValuesElement(values)).toBe(quoted(textArrayLiteral(values)));
      }),
    );
  });
});
