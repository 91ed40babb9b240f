import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type * as pricing from '../../pricing/service.js';
import { preparedWithTieredRate, rollupRow } from '../../../../test/helpers/rating.js';
import type { SliceRollupRow } from '../../usage/sliceRepo.js';
import { ratePeriod, usageWindowOf, type SplitBy } from './rating.js';

const d = (value: number | string) => new Decimal(value);
const period = { startingAt: new Date('2024-04-01T00:00:00Z'), endingBefore: new Date('2024-05-01T00:00:00Z') };

// Credits summed per (region, team, user_id) — the group key's properties sorted, as the rollups store them — per user_id alone, and in all.
const metric = { id: 'm', aggregation_type: 'SUM', group_keys: [['user_id'], ['team', 'user_id', 'region']] } as pricing.BillableMetric;
// Graduated: the first 10 units at 2, then 1 each.
const prepared = preparedWithTieredRate({ period, metric, productName: 'Credits', tiers: [{ size: d(10), price: d(2) }, { size: null, price: d(1) }] });

const row = (groupKey: string[], groupValues: string[], sum: number): SliceRollupRow => rollupRow({ groupKey, groupValues, sum });
const byRegionTeamUser = ['region', 'team', 'user_id'];
const rows = [
  row(byRegionTeamUser, ['eu', 't1', 'u1'], 8),
  row(byRegionTeamUser, ['us', 't1', 'u1'], 8),
  row(byRegionTeamUser, ['eu', 't2', 'u1'], 8),
  row(byRegionTeamUser, ['eu', 't1', 'u2'], 5),
  row(['user_id'], ['u1'], 24),
  row(['user_id'], ['u2'], 5),
  row([], [], 29),
];

function rated(splitBy: SplitBy | undefined) {
  const window = usageWindowOf({ prepared, cuts: [], splitBy });
  const { lines } = ratePeriod({ prepared, window, usage: { rows: rows.filter((each) => window.selections.some((s) => s.groupKey.join() === each.group_key.join())), firstSeen: [] } });
  return { window, lines: lines.map((line) => [line.splitValues ?? null, line.splitValue ?? null, line.quantity.toFixed(), line.total.toFixed()]) };
}

describe('ratePeriod split by group properties (rule 20)', () => {
  it('split by a tuple, reads the smallest group key holding all of it and tiers each combination on its own', () => {
    const { window, lines } = rated(['user_id', 'team']);
    expect(window.selections).toEqual([{ metricId: 'm', groupKey: ['region', 'team', 'user_id'] }]);
    // u1 in t1: 16 units → 20 + 6; u1 in t2: 8 → 16; u2 in t1: 5 → 10. Together (21 units) they would cost 31.
    expect(lines).toEqual([
      [['u1', 't1'], null, '16', '26'],
      [['u1', 't2'], null, '8', '16'],
      [['u2', 't1'], null, '5', '10'],
    ]);
  });

  it('split by one property, named as a string or as a list of one: the same rows, each line naming its value', () => {
    const { window, lines } = rated('user_id');
    expect(window.selections).toEqual([{ metricId: 'm', groupKey: ['user_id'] }]);
    expect(rated(['user_id']).window).toEqual(window);
    expect(lines).toEqual([
      [['u1'], 'u1', '24', '34'],
      [['u2'], 'u2', '5', '10'],
    ]);
  });

  it('leaves out a product whose metric has no group key holding every property', () => {
    expect(rated(['user_id', 'plan']).lines).toEqual([]);
    expect(rated(undefined).lines).toEqual([[null, null, '29', '39']]);
  });
});
