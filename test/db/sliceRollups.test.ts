import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyText } from '../../src/modules/usage/compute/keyText.js';
import { sliceRollups, type SliceRollupRow } from '../../src/modules/usage/sliceRepo.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../helpers/database.js';

const TENANT = '0190f1e2-0000-7000-8000-00000000000a';
const METRICS = ['0190f1e2-0000-7000-8000-000000000001', '0190f1e2-0000-7000-8000-000000000002'];
const DAY = new Date('2024-04-15T00:00:00Z');
const HOUR_MS = 3_600_000;

/** One rollup row: a metric, its totals or its per-user group, one of today's first six hours or yesterday's last. */
const rollupRow = fc.record({
  metric: fc.constantFrom(...METRICS),
  user: fc.option(fc.constantFrom('ada', 'bo', 'cy'), { nil: undefined }),
  hour: fc.integer({ min: -1, max: 5 }),
  count: fc.integer({ min: 1, max: 1000 }),
  sum: fc.constantFrom('1', '1.50', '0.333', '250', '7.125'),
  max: fc.option(fc.constantFrom('2', '3.5', '0.10'), { nil: null }),
  // Instants to the microsecond, as PostgreSQL keeps them.
  latest: fc.option(
    fc.record({ value: fc.constantFrom('4', '4.25'), minute: fc.integer({ min: 0, max: 59 }), micros: fc.integer({ min: 0, max: 59_999_999 }), transaction: fc.constantFrom('tx-a', 'tx-b') }),
    { nil: null },
  ),
});

/** `minute` plus `micros` microseconds, as ISO text with six decimals. */
const microsecondInstant = (minute: Date, micros: number) =>
  `${minute.toISOString().slice(0, 17)}${String(Math.floor(micros / 1_000_000)).padStart(2, '0')}.${String(micros % 1_000_000).padStart(6, '0')}Z`;

const normalized = (rows: readonly SliceRollupRow[]) =>
  rows
    .map((row) => JSON.stringify([row.metric_id, row.group_key, row.group_values, row.slice, row.day?.toISOString(), row.event_count, row.value_sum, row.value_max, row.latest_value, row.latest_at?.toISOString() ?? null, row.latest_transaction_id]))
    .sort();

/**
 * The read per bucket from an hour of today on (the read after new usage) takes each rollup row as
 * its own bucket, with no aggregation: it must give exactly what the aggregating read gives for
 * those hours.
 */
describe.each(ENGINES)('rollups read per bucket on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrated: true });
  });
  afterAll(() => database?.destroy());

  it('reads each of today’s hours as the aggregating read does, for any rows and any hour read from', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(rollupRow, { selector: (row) => `${row.metric}|${row.user}|${row.hour}`, maxLength: 24 }), fc.integer({ min: 0, max: 5 }), async (rows, fromHour) => {
        const customerId = `0190f1e2-0000-7000-8000-${String(++round).padStart(12, '0')}`;
        for (const row of rows) {
          const hour = new Date(DAY.getTime() + row.hour * HOUR_MS);
          await database.db.query(
            `INSERT INTO usage_rollups (tenant_id, customer_id, metric_id, group_key, hour, group_values, event_count, value_sum, value_max, latest_value, latest_at, latest_transaction_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
            [
              TENANT,
              customerId,
              row.metric,
              keyText(row.user === undefined ? [] : ['user_id']),
              hour,
              keyText(row.user === undefined ? [] : [row.user]),
              row.count,
              row.sum,
              row.max,
              row.latest?.value ?? null,
              row.latest ? microsecondInstant(new Date(hour.getTime() + row.latest.minute * 60_000), row.latest.micros) : null,
              row.latest?.transaction ?? null,
            ],
          );
        }
        const window = {
          customerId,
          selections: METRICS.flatMap((metricId) => [
            { metricId, groupKey: [] },
            { metricId, groupKey: ['user_id'] },
          ]),
          from: new Date(DAY.getTime() - 24 * HOUR_MS),
          to: new Date(DAY.getTime() + 24 * HOUR_MS),
          // A slice starting at 03:00: hours before and after it fall in different slices.
          sliceStarts: [new Date(DAY.getTime() - 24 * HOUR_MS), new Date(DAY.getTime() + 3 * HOUR_MS)],
          byDay: true,
          hourlyFrom: DAY,
        };
        const readFrom = new Date(DAY.getTime() + fromHour * HOUR_MS);
        const hourly = await sliceRollups(database.db, TENANT, { ...window, readFrom });
        const aggregated = await sliceRollups(database.db, TENANT, window);
        expect(normalized(hourly)).toEqual(normalized(aggregated.filter((row) => row.day! >= readFrom)));
        expect(hourly).toHaveLength(rows.filter((row) => row.hour >= fromHour).length);
      }),
      { numRuns: 40 },
    );
  });
});
