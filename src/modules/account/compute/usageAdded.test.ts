import { describe, expect, it } from 'vitest';
import type { RollupAdded } from '../../../lib/context.js';
import { Decimal } from '../../../lib/money.js';
import type { SliceRollupRow } from '../../usage/sliceRepo.js';
import { rowWithRollup } from '../../usage/service.js';
import type { UsageWindow } from './rating.js';
import { usageWithRollups } from './usageAdded.js';
import { allRowsOf, type PeriodUsage } from './usageFold.js';

const at = (iso: string) => new Date(iso);
const TODAY = at('2024-04-10T00:00:00Z');
const SELECTION = { metricId: 'calls', groupKey: ['team', 'user_id'] };

/** April in two slices, cut at midday on April 5 (a new price), reading one COUNT metric by team and user. */
const WINDOW: UsageWindow = {
  from: at('2024-04-01T00:00:00Z'),
  to: at('2024-05-01T00:00:00Z'),
  slices: [
    { startingAt: at('2024-04-01T00:00:00Z'), endingBefore: at('2024-04-05T12:00:00Z') },
    { startingAt: at('2024-04-05T12:00:00Z'), endingBefore: at('2024-05-01T00:00:00Z') },
  ],
  selections: [SELECTION],
  uniqueSelections: [],
  splitBy: undefined,
};

const row = (groupValues: string[], slice: number, bucket: string, count: number): SliceRollupRow => ({
  metric_id: SELECTION.metricId,
  group_key: SELECTION.groupKey,
  group_values: groupValues,
  slice,
  event_count: String(count),
  value_sum: '0',
  value_max: null,
  latest_value: null,
  latest_at: null,
  latest_transaction_id: null,
  day: at(bucket),
});

const added = (groupValues: string[], hour: string, count: number): RollupAdded => ({
  metricId: SELECTION.metricId,
  groupKey: SELECTION.groupKey,
  hourMs: Date.parse(hour),
  groupValues,
  eventCount: count,
  valueSum: new Decimal(0),
  valueMax: null,
  latest: null,
});

/** Each row as `values @ bucket (slice): count`, sorted. */
const counts = (usage: PeriodUsage) =>
  allRowsOf(usage)
    .map((r) => `${JSON.stringify(r.group_values)} @ ${r.day!.toISOString()} (${r.slice}): ${r.event_count}`)
    .sort();

describe('usageWithRollups', () => {
  const previous: PeriodUsage[] = [
    {
      rows: [
        row(['x', '\u0001y'], 0, '2024-04-05T00:00:00Z', 3),
        row(['x', '\u0001y'], 1, '2024-04-05T00:00:00Z', 4),
        row(['x', '\u0001y'], 1, '2024-04-10T09:00:00Z', 5),
      ],
      firstSeen: [],
      hourlyFrom: TODAY,
    },
  ];
  const extend = (rows: RollupAdded[], since: string) => usageWithRollups({ previous, windows: [WINDOW], added: rows, since: at(since), today: TODAY, rowWith: rowWithRollup });

  it('adds to the row of the same group, bucket and slice, and keeps groups whose values only join alike apart', () => {
    const [usage] = extend([added(['x', '\u0001y'], '2024-04-10T09:00:00Z', 2), added(['x\u0001', 'y'], '2024-04-10T09:00:00Z', 1)], '2024-04-10T09:00:00Z')!;
    expect(counts(usage!)).toEqual([
      `${JSON.stringify(['x', '\u0001y'])} @ 2024-04-05T00:00:00.000Z (0): 3`,
      `${JSON.stringify(['x', '\u0001y'])} @ 2024-04-05T00:00:00.000Z (1): 4`,
      `${JSON.stringify(['x', '\u0001y'])} @ 2024-04-10T09:00:00.000Z (1): 7`,
      `${JSON.stringify(['x\u0001', 'y'])} @ 2024-04-10T09:00:00.000Z (1): 1`,
    ]);
  });

  it('puts an hour of an earlier day into its day, in the slice its hour falls in', () => {
    const [usage] = extend([added(['x', '\u0001y'], '2024-04-05T08:00:00Z', 1), added(['x', '\u0001y'], '2024-04-05T13:00:00Z', 10)], '2024-04-05T08:00:00Z')!;
    expect(counts(usage!)).toEqual([
      `${JSON.stringify(['x', '\u0001y'])} @ 2024-04-05T00:00:00.000Z (0): 4`,
      `${JSON.stringify(['x', '\u0001y'])} @ 2024-04-05T00:00:00.000Z (1): 14`,
      `${JSON.stringify(['x', '\u0001y'])} @ 2024-04-10T09:00:00.000Z (1): 5`,
    ]);
  });

  it('leaves to a read usage read on an earlier day, and windows counting distinct values', () => {
    expect(usageWithRollups({ previous, windows: [WINDOW], added: [added(['x', 'y'], '2024-04-11T01:00:00Z', 1)], since: at('2024-04-11T01:00:00Z'), today: at('2024-04-11T00:00:00Z'), rowWith: rowWithRollup })).toBeUndefined();
    expect(usageWithRollups({ previous, windows: [{ ...WINDOW, uniqueSelections: [SELECTION] }], added: [added(['x', 'y'], '2024-04-10T09:00:00Z', 1)], since: at('2024-04-10T09:00:00Z'), today: TODAY, rowWith: rowWithRollup })).toBeUndefined();
  });
});
