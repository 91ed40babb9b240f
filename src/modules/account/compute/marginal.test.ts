import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type * as pricing from '../../pricing/service.js';
import { preparedWithTieredRate, rollupRow } from '../../../../test/helpers/rating.js';
import { marginalCharges } from './marginal.js';
import { mergeUsage, ratePeriod, usageWindowOf, type PeriodUsage } from './rating.js';
import { allRowsOf } from './usageFold.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const d = (value: number | string) => new Decimal(value);
const period = { startingAt: new Date('2024-04-01T00:00:00Z'), endingBefore: new Date('2024-05-01T00:00:00Z') };
const metric = { id: 'm', aggregation_type: 'SUM', group_keys: [['user_id']] } as pricing.BillableMetric;
// Graduated, so that what an event costs depends on the usage before it: 20 units at 2, then 0.5 each.
const prepared = preparedWithTieredRate({ period, metric, productName: 'Tokens', tiers: [{ size: d(20), price: d(2) }, { size: null, price: d('0.5') }] });
const window = usageWindowOf({ prepared, cuts: [new Date('2024-04-11T00:00:00Z')], splitBy: 'user_id' });
const now = new Date('2024-04-15T10:30:00Z');
const today = new Date('2024-04-15T00:00:00Z');

/** Usage read per bucket on April 15 at 10:30: days before the 15th, hours of the 15th; `hour` hours into April. */
const keptUsage = (rows: Array<{ hour: number; user: number; sum: number }>): PeriodUsage => ({
  rows: rows.map(({ hour, user, sum }) => {
    const instant = period.startingAt.getTime() + hour * HOUR_MS;
    const day = new Date(instant >= today.getTime() ? instant : Math.floor(instant / DAY_MS) * DAY_MS);
    return rollupRow({ groupKey: ['user_id'], groupValues: [`u${user}`], sum, slice: hour < 240 ? 0 : 1, day });
  }),
  firstSeen: [],
  hourlyFrom: today,
});

describe('marginalCharges on kept usage', () => {
  it('prices an event on usage kept per bucket exactly as on the same rows appended, for random usage', () => {
    const row = fc.record({ hour: fc.integer({ min: 0, max: 14 * 24 + 10 }), user: fc.integer({ min: 0, max: 3 }), sum: fc.integer({ min: 0, max: 15 }) });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 30 }), (rows, user, tokens) => {
        const kept = keptUsage(rows);
        // Rated once first, as a kept account is: its folds are kept with it.
        ratePeriod({ prepared, window, usage: kept });
        const additions = [{ metricId: 'm', groupValues: { user_id: `u${user}` }, value: d(tokens), distinct: null }];
        const onKept = marginalCharges({ prepared, window, usage: kept, additions, at: now });
        const appended = marginalCharges({ prepared, window, usage: { rows: allRowsOf(kept), firstSeen: [] }, additions, at: now });
        expect(onKept.get('credits')?.toFixed()).toBe(appended.get('credits')?.toFixed());
        // Kept usage after a re-read of this hour holds the earlier buckets apart (`settled`): the same price.
        const thisHour = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
        const reread = mergeUsage([kept], [{ rows: kept.rows.filter((row) => row.day! >= thisHour), firstSeen: [], hourlyFrom: today }], thisHour)[0]!;
        ratePeriod({ prepared, window, usage: reread });
        expect(marginalCharges({ prepared, window, usage: reread, additions, at: now }).get('credits')?.toFixed()).toBe(appended.get('credits')?.toFixed());
      }),
      { numRuns: 200 },
    );
  });

  it('prices 5 tokens of u1, who has used 18, at 2 × 2 + 3 × 0.5 = 5.5', () => {
    const kept = keptUsage([{ hour: 14 * 24 + 9, user: 1, sum: 18 }, { hour: 14 * 24 + 10, user: 2, sum: 30 }]);
    ratePeriod({ prepared, window, usage: kept });
    const costs = marginalCharges({ prepared, window, usage: kept, additions: [{ metricId: 'm', groupValues: { user_id: 'u1' }, value: d(5), distinct: null }], at: now });
    expect(costs.get('credits')?.toFixed()).toBe('5.5');
  });
});
