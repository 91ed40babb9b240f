import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type * as pricing from '../../pricing/service.js';
import { preparedWithTieredRate, rollupRow } from '../../../../test/helpers/rating.js';
import type { SliceRollupRow } from '../../usage/sliceRepo.js';
import { hourlyFromFor, mergeUsage, ratePeriod, usageReadFrom, usageWindowOf, type PeriodUsage } from './rating.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
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

/** Rows as a read returns them: one per day and user (or total), the drawn rows of a key summed. */
function asRead(rows: readonly Drawn[]): Drawn[] {
  const byKey = new Map<string, Drawn>();
  for (const row of rows) {
    const key = `${row.day}:${row.user}`;
    const found = byKey.get(key);
    byKey.set(key, found ? { ...found, sum: found.sum + row.sum } : row);
  }
  return [...byKey.values()];
}

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
          let all = asRead(initial);
          let kept: PeriodUsage = { rows: all.map(rowOf), firstSeen: [] };
          lines(kept);
          for (const read of reads) {
            const readFrom = new Date(period.startingAt.getTime() + read.from * DAY_MS);
            // What the read of the days from `readFrom` finds: those days' rows as they stood, plus the new ones.
            const fresh = asRead([...all.filter((row) => row.day >= read.from), ...read.rows.filter((row) => row.day >= read.from)]);
            all = [...all.filter((row) => row.day < read.from), ...fresh];
            kept = mergeUsage([kept], [{ rows: fresh.map(rowOf), firstSeen: [] }], readFrom)[0]!;
            expect(lines(kept)).toEqual(lines({ rows: all.map(rowOf), firstSeen: [] }));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rates usage kept per day and today per hour, read again from the hour or day it changed as the clock moves, exactly as read afresh', () => {
    // The rollups per hour (hours into April) and user (null: the total), as the database holds them.
    type Hourly = Map<string, { hour: number; user: number | null; sum: number }>;
    const at = (hours: number) => new Date(period.startingAt.getTime() + hours * HOUR_MS);
    /** What `loadUsage` reads per bucket from `readFrom` at the clock's hour `now`: hours from `hourlyFromFor` on, days before. */
    const read = (db: Hourly, now: number, readFrom: Date | undefined): PeriodUsage => {
      const hourlyFrom = hourlyFromFor(new Date(Math.floor(at(now).getTime() / DAY_MS) * DAY_MS), readFrom);
      const buckets = new Map<string, SliceRollupRow>();
      for (const { hour, user, sum } of db.values()) {
        const instant = at(hour);
        if (readFrom && instant < readFrom) continue;
        const bucket = instant >= hourlyFrom ? instant : new Date(Math.floor(instant.getTime() / DAY_MS) * DAY_MS);
        const key = `${bucket.getTime()} ${user}`;
        const row = buckets.get(key);
        const day = Math.floor(hour / 24);
        const value = rowOf({ day, user, sum: Number(row?.value_sum ?? 0) + sum });
        buckets.set(key, { ...value, day: bucket });
      }
      return { rows: [...buckets.values()], firstSeen: [], hourlyFrom };
    };
    const step = fc.record({
      advance: fc.integer({ min: 0, max: 30 }),
      // Where to read again from decided an hour before the re-read's clock (midnight passed in between).
      lag: fc.boolean(),
      events: fc.array(fc.record({ ago: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 80 })), user: fc.option(fc.integer({ min: 0, max: 4 })), sum: fc.integer({ min: 1, max: 30 }) }), { minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.array(step, { minLength: 1, maxLength: 12 }), (start, steps) => {
        const db: Hourly = new Map();
        let now = start;
        let kept = read(db, now, undefined);
        for (const { advance, lag, events } of steps) {
          now = Math.min(now + advance, 719);
          let stale = Infinity;
          for (const { ago, user, sum } of events) {
            const hour = Math.max(0, now - ago);
            const key = `${hour} ${user}`;
            db.set(key, { hour, user, sum: (db.get(key)?.sum ?? 0) + sum });
            stale = Math.min(stale, hour);
          }
          // Somewhere inside the stale hour, as an event's timestamp is.
          const decidedAt = lag ? Math.max(start, now - 1) : now;
          const readFrom = usageReadFrom([kept], new Date(at(stale).getTime() + 1_234), new Date(Math.floor(at(decidedAt).getTime() / DAY_MS) * DAY_MS));
          kept = mergeUsage([kept], [read(db, now, readFrom)], readFrom)[0]!;
          expect(lines(kept)).toEqual(lines(read(db, now, undefined)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads again from the hour when today was read per hour, from the day otherwise, and folds an earlier day’s hours on the first read of a new day', () => {
    const today = new Date('2024-04-15T00:00:00Z');
    const readToday: PeriodUsage = { rows: [], firstSeen: [], hourlyFrom: today };
    expect(usageReadFrom([readToday], new Date('2024-04-15T10:20:00Z'), today)).toEqual(new Date('2024-04-15T10:00:00Z'));
    // Late usage of yesterday: yesterday is one bucket.
    expect(usageReadFrom([readToday], new Date('2024-04-14T23:59:00Z'), today)).toEqual(new Date('2024-04-14T00:00:00Z'));
    // Read yesterday (its hours per hour): read again from yesterday's start, which sums it per day.
    const readYesterday: PeriodUsage = { rows: [], firstSeen: [], hourlyFrom: new Date('2024-04-14T00:00:00Z') };
    expect(usageReadFrom([readYesterday], new Date('2024-04-15T00:10:00Z'), today)).toEqual(new Date('2024-04-14T00:00:00Z'));
    expect(hourlyFromFor(today, new Date('2024-04-14T00:00:00Z'))).toEqual(today);
    // An hour of yesterday chosen just before midnight: hours from that hour on, so no day bucket starts before it.
    expect(hourlyFromFor(today, new Date('2024-04-14T23:00:00Z'))).toEqual(new Date('2024-04-14T23:00:00Z'));
    // Read so: the next re-read starts on that day, folding its hours into a day again, rather than at that hour for good.
    const readAcrossMidnight: PeriodUsage = { rows: [], firstSeen: [], hourlyFrom: new Date('2024-04-14T23:00:00Z') };
    expect(usageReadFrom([readAcrossMidnight], new Date('2024-04-15T10:20:00Z'), today)).toEqual(new Date('2024-04-14T00:00:00Z'));
  });

  it('rates two products on one metric each by its own rate, read after read of the same kept usage', () => {
    // A second product on the same metric and group: its rows fold the same, its rate is its own (3 per unit, flat).
    const second = { id: 'p2', name: 'Tokens again', tags: [], billableMetricId: 'm', pricingGroupKey: null, presentationGroupKey: null } as unknown as pricing.Product;
    const flat = { id: 'r2', startingAt: period.startingAt, endingBefore: null, entitled: true, creditTypeId: 'credits', pricingGroupValues: null, price: { rateType: 'FLAT' as const, price: d(3) } };
    const both = { ...prepared, products: [...prepared.products, second], versions: new Map([...prepared.versions, ['p2', [flat]]]) };
    const window = usageWindowOf({ prepared: both, cuts, splitBy: 'user_id' });
    const kept: PeriodUsage = { rows: [rowOf({ day: 1, user: 1, sum: 15 }), rowOf({ day: 2, user: 1, sum: 5 })], firstSeen: [] };
    const totals = () => ratePeriod({ prepared: both, window, usage: kept }).lines.map((line) => [line.productId, line.total.toFixed()]);
    // Tiered: 20 at 2 = 40; flat: 20 at 3 = 60. The second reading takes each group's lines as rated, per product.
    expect(totals()).toEqual([['p', '40'], ['p2', '60']]);
    expect(totals()).toEqual([['p', '40'], ['p2', '60']]);
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
