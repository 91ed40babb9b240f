import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type * as pricing from '../../pricing/service.js';
import { preparedWithTieredRate, rollupRow } from '../../../../test/helpers/rating.js';
import type { SliceRollupRow } from '../../usage/sliceRepo.js';
import { mergeUsage, ratePeriod, usageWindowOf, type PeriodUsage } from './rating.js';

const DAY_MS = 86_400_000;
const d = (value: number | string) => new Decimal(value);
const period = { startingAt: new Date('2024-04-01T00:00:00Z'), endingBefore: new Date('2024-05-01T00:00:00Z') };
// Tokens summed per user_id (the seats' key) and in all; cut on April 11 and 21, so three slices.
const metric = { id: 'm', aggregation_type: 'SUM', group_keys: [['user_id']] } as pricing.BillableMetric;
// Graduated, so that each seat's part depends on all of its usage before: 20 units at 2, then 0.5 each.
const prepared = preparedWithTieredRate({ period, metric, productName: 'Tokens', tiers: [{ size: d(20), price: d(2) }, { size: null, price: d('0.5') }] });
const cuts = [new Date('2024-04-11T00:00:00Z'), new Date('2024-04-21T00:00:00Z')];
const seatWindow = usageWindowOf({ prepared, cuts, splitBy: 'user_id' });
const totalWindow = usageWindowOf({ prepared, cuts });

/** A rollup row as read per slice and UTC day: `day` days into April, a seat's or the total. */
interface Drawn {
  day: number;
  user: number | null;
  sum: number;
}

const rowOf = ({ day, user, sum }: Drawn): SliceRollupRow =>
  rollupRow({
    groupKey: user === null ? [] : ['user_id'],
    groupValues: user === null ? [] : [`u${user}`],
    sum,
    slice: day < 10 ? 0 : day < 20 ? 1 : 2,
    day: new Date(period.startingAt.getTime() + day * DAY_MS),
  });

const drawn = fc.record({ day: fc.integer({ min: 0, max: 29 }), user: fc.option(fc.integer({ min: 0, max: 5 })), sum: fc.integer({ min: 0, max: 30 }) });

/** Each line's value, quantity and charges per slice, as strings. */
function lines(usage: PeriodUsage) {
  return [seatWindow, totalWindow].map((window) =>
    ratePeriod({ prepared, window, usage }).lines.map((line) => [line.id, line.quantity.toFixed(), line.charges.map((charge) => charge.amount.toFixed())]),
  );
}

describe('rating usage kept per day (incremental fold)', () => {
  it('rates usage brought up to date by reads of the days from any day on exactly as the same rows read afresh', () => {
    fc.assert(
      fc.property(
        fc.array(drawn, { maxLength: 60 }),
        fc.array(fc.record({ from: fc.integer({ min: 0, max: 29 }), rows: fc.array(drawn, { maxLength: 20 }) }), { minLength: 1, maxLength: 4 }),
        (initial, reads) => {
          let kept: PeriodUsage = { rows: initial.map(rowOf), firstSeen: [] };
          let all = initial;
          lines(kept);
          for (const read of reads) {
            const readFrom = new Date(period.startingAt.getTime() + read.from * DAY_MS);
            // What the read of the days from `readFrom` finds: those days' rows as they stood, plus the new ones.
            const fresh = [...all.filter((row) => row.day >= read.from), ...read.rows.filter((row) => row.day >= read.from)];
            all = [...all.filter((row) => row.day < read.from), ...fresh];
            kept = mergeUsage([kept], [{ rows: fresh.map(rowOf), firstSeen: [] }], readFrom)[0]!;
            expect(lines(kept)).toEqual(lines({ rows: all.map(rowOf), firstSeen: [] }));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rates seat u1 with 15 units on April 2, then 4 replaced by 10 on April 15 (read again from that day): 30, then 12.5', () => {
    const april2 = rowOf({ day: 1, user: 1, sum: 15 });
    const kept = { rows: [april2, rowOf({ day: 14, user: 1, sum: 4 })], firstSeen: [] };
    lines(kept);
    const merged = mergeUsage([kept], [{ rows: [rowOf({ day: 14, user: 1, sum: 10 })], firstSeen: [] }], new Date('2024-04-15T00:00:00Z'))[0]!;
    const [bySeat] = lines(merged);
    expect(bySeat).toEqual([[JSON.stringify(['k', 'p', null, 'credits', 'u1']), '25', ['30', '12.5', '0']]]);
  });
});
