import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { askedCombination, checkGroupEntries, combinationLabel, combinationOf, groupValuesOf, spentPerCombination } from './groupCombinations.js';

const d = (value: number | string) => new Decimal(value);
const line = (splitValues: string[] | undefined, total: number | string, creditTypeId = 'credits') => ({ creditTypeId, total: d(total), ...(splitValues && { splitValues }) });

describe('combinationOf (rule 20)', () => {
  it('names a combination by the values of the entries given alone; a different value of an entry with one counts toward nothing', () => {
    const userInTeam = [{ key: 'user_id' }, { key: 'team', value: 't1' }];
    expect(combinationOf(userInTeam, ['u1', 't1'])).toBe('u1');
    expect(combinationOf(userInTeam, ['u1', 't2'])).toBeUndefined();
    expect(combinationOf([{ key: 'user_id' }, { key: 'team' }], ['u1', 't1'])).toBe('["u1","t1"]');
    expect(combinationOf([{ key: 'user_id', value: 'u1' }, { key: 'team', value: 't1' }], ['u1', 't1'])).toBe('[]');
    // One key alone: the value itself, as single-key alerts have always stored it.
    expect(combinationOf([{ key: 'user_id' }], ['user_a'])).toBe('user_a');
  });

  it('names every entry with its value for a webhook, and reads a combination back (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string(), { nil: undefined }), { minLength: 1, maxLength: 3 }), fc.array(fc.string(), { minLength: 3, maxLength: 3 }), (fixed, seen) => {
        const entries = fixed.map((value, i) => ({ key: `k${i}`, value }));
        const values = entries.map((entry, i) => entry.value ?? seen[i]!);
        const combination = combinationOf(entries, values)!;
        const named = groupValuesOf(entries, entries.some((entry) => entry.value === undefined) ? combination : null);
        expect(named).toEqual(entries.map((entry, i) => ({ key: entry.key, value: values[i] })));
      }),
    );
    expect(groupValuesOf([{ key: 'user_id' }, { key: 'team', value: 't1' }], 'u1')).toEqual([
      { key: 'user_id', value: 'u1' },
      { key: 'team', value: 't1' },
    ]);
    expect(combinationLabel([{ key: 'user_id' }, { key: 'team' }], '["u1","t2"]')).toBe('u1 / t2');
    expect(combinationLabel([{ key: 'user_id' }], 'user_a')).toBe('user_a');
  });
});

describe('spentPerCombination', () => {
  it('sums each combination’s lines in the unit; u1 in team t2 counts toward nothing when the alert watches team t1', () => {
    const entries = [{ key: 'user_id' }, { key: 'team', value: 't1' }];
    const spent = spentPerCombination(entries, 'credits', [
      line(['u1', 't1'], 600),
      line(['u1', 't1'], '400.5'),
      line(['u1', 't2'], 5000),
      line(['u2', 't1'], 10),
      line(['u2', 't1'], 99, 'usd'),
      line(undefined, 7),
    ]);
    expect([...spent].map(([combination, value]) => [combination, value.toFixed()])).toEqual([
      ['u1', '1000.5'],
      ['u2', '10'],
    ]);
  });
});

describe('checkGroupEntries', () => {
  const groupKeys = [['user_id', 'team'], ['region']];

  it('accepts keys one group key holds together', () => {
    expect(checkGroupEntries([{ key: 'team', value: 't1' }, { key: 'user_id' }], groupKeys)).toBeUndefined();
    expect(checkGroupEntries([{ key: 'region' }], groupKeys)).toBeUndefined();
  });

  it('names a repeated key, a key no group key holds, and a key no group key holds with the others', () => {
    expect(checkGroupEntries([{ key: 'user_id' }, { key: 'user_id', value: 'u1' }], groupKeys)).toEqual({ field: 'group_values.1', message: 'repeats the key "user_id" of group_values.0' });
    expect(checkGroupEntries([{ key: 'user_id' }, { key: 'nope' }], groupKeys)?.field).toBe('group_values.1.key');
    expect(checkGroupEntries([{ key: 'user_id' }, { key: 'team' }, { key: 'region' }], groupKeys)).toEqual({
      field: 'group_values.2.key',
      message: 'no billable metric has a group key holding "region" together with "user_id", "team"',
    });
  });
});

describe('askedCombination', () => {
  const entries = [{ key: 'user_id' }, { key: 'team', value: 't1' }];

  it('reads one combination from every key named with a value, in any order', () => {
    expect(askedCombination(entries, [{ key: 'team', value: 't1' }, { key: 'user_id', value: 'u1' }])).toEqual({ combination: 'u1' });
    expect(askedCombination([{ key: 'user_id' }, { key: 'team' }], [{ key: 'user_id', value: 'u1' }, { key: 'team', value: 't2' }])).toEqual({ combination: '["u1","t2"]' });
    expect(askedCombination([{ key: 'user_id', value: 'u1' }], [{ key: 'user_id', value: 'u1' }])).toEqual({ combination: null });
  });

  it('refuses, naming the field, an unknown key, a key named twice, another value of a fixed entry, or a key left out', () => {
    expect(askedCombination([{ key: 'user_id' }], [{ key: 'team', value: 'x' }])).toEqual({ field: 'group_values.0.key', message: 'this alert watches the group key "user_id"' });
    expect(askedCombination(entries, [{ key: 'user_id', value: 'u1' }, { key: 'user_id', value: 'u2' }])).toMatchObject({ field: 'group_values.1' });
    expect(askedCombination(entries, [{ key: 'user_id', value: 'u1' }, { key: 'team', value: 't2' }])).toMatchObject({ field: 'group_values.1.value' });
    expect(askedCombination(entries, [{ key: 'user_id', value: 'u1' }])).toMatchObject({ field: 'group_values', message: expect.stringContaining('"team"') });
  });
});
