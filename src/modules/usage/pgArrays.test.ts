import { describe, expect, it } from 'vitest';
import { plainArray, textArray } from './pgArrays.js';

describe('array literals', () => {
  it('quotes every text element, escaping quotes and backslashes only', () => {
    expect(textArray(['a', 'b,c', 'NULL', '', 'x"y\\z', null])).toBe('{"a","b,c","NULL","","x\\"y\\\\z",NULL}');
    expect(plainArray(['1', null, '2024-01-01T00:00:00.000Z'])).toBe('{1,NULL,2024-01-01T00:00:00.000Z}');
  });
});
