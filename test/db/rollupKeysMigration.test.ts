import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../src/lib/db/migrate.js';
import { ExactDecimal } from '../../src/modules/usage/compute/propertyValues.js';
import { keyText } from '../../src/modules/usage/compute/keyText.js';
import { insertDistinctValues, upsertRollups } from '../../src/modules/usage/repo.js';
import { sliceRollups } from '../../src/modules/usage/sliceRepo.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../helpers/database.js';

const TENANT = '0190f1e2-0000-7000-8000-0000000000a1';
const CUSTOMER = '0190f1e2-0000-7000-8000-0000000000c1';
const OTHER_CUSTOMER = '0190f1e2-0000-7000-8000-0000000000c2';
const METRIC = '0190f1e2-0000-7000-8000-0000000000e1';
const HOUR = new Date('2024-05-10T10:00:00Z');
// Values PostgreSQL and JSON escape: quotes, backslashes, control characters, braces and commas
// (array syntax), spaces, the word NULL, non-ASCII and astral characters, the empty string.
const ODD = ['a"b', 'c\\d', '\u0001\u001f\n\t\b\f\r', '\u007f\u2028\u2029/', '{x,y}', ' NULL ', 'é😀', ''];

describe.each(ENGINES)('migration 0021 (rollup keys as JSON text) on %s', (engine) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.destroy();
    database = undefined;
  });

  it('converts stored keys to the text the ingest writes, so new usage adds to the same rows; stops first on a key too long once escaped', async () => {
    database = await createTestDatabase(engine);
    const { db } = database;
    const migrations = loadMigrations();
    await migrate(db, migrations.filter((migration) => migration.version <= 20));
    const groups: Array<[string[], string[]]> = [[[], []], [['user_id'], ['u1']], ...ODD.map((value): [string[], string[]] => [['k"ey', 'who'], [value, `${value}!`]])];
    for (const [groupKey, groupValues] of groups) {
      await db.query(
        `INSERT INTO usage_rollups (tenant_id, customer_id, metric_id, group_key, hour, group_values, event_count, value_sum)
         VALUES ($1, $2, $3, $4, $5, $6, 2, 10)`,
        [TENANT, CUSTOMER, METRIC, groupKey, HOUR, groupValues],
      );
      await db.query(
        `INSERT INTO usage_distinct_values (tenant_id, customer_id, metric_id, group_key, hour, group_values, value) VALUES ($1, $2, $3, $4, $5, $6, 'v1')`,
        [TENANT, CUSTOMER, METRIC, groupKey, HOUR, groupValues],
      );
    }

    // A value stored under the earlier limit (2,000 bytes) that would not fit once escaped: 1,990
    // bytes, 2,790 as JSON (each quote and backslash escaped). The upgrade stops, naming the count,
    // and leaves everything as it was until the row is dealt with.
    const tooLong = 'ab"\\x'.repeat(398);
    await db.query(
      `INSERT INTO usage_rollups (tenant_id, customer_id, metric_id, group_key, hour, group_values, event_count, value_sum)
       VALUES ($1, $2, $3, $4, $5, $6, 1, 1)`,
      [TENANT, OTHER_CUSTOMER, METRIC, ['user_id'], HOUR, [tooLong]],
    );
    await expect(migrate(db, migrations)).rejects.toThrow(/migration 0021: 1 rollup rows have group values longer than 2,600 bytes/);
    expect(await db.query(`SELECT count(*)::int AS n FROM usage_rollups WHERE group_values = ARRAY[$1]`, [tooLong])).toEqual([{ n: 1 }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM usage_rollups WHERE group_key = ARRAY['k"ey', 'who']`)).toEqual([{ n: ODD.length }]);
    await db.query('DELETE FROM usage_rollups WHERE customer_id = $1', [OTHER_CUSTOMER]);

    await migrate(db, migrations);
    const stored = await db.query<{ group_key: string; group_values: string }>('SELECT group_key, group_values FROM usage_rollups ORDER BY group_key, group_values');
    const expected = groups.map(([groupKey, groupValues]) => ({ group_key: keyText(groupKey), group_values: keyText(groupValues) }));
    const byText = (a: { group_key: string; group_values: string }, b: typeof a) =>
      Buffer.compare(Buffer.from(a.group_key + '\u0000' + a.group_values), Buffer.from(b.group_key + '\u0000' + b.group_values));
    expect(stored).toEqual([...expected].sort(byText));

    // What the ingest adds for the same keys lands on the converted rows, not beside them.
    await upsertRollups(
      db,
      groups.map(([groupKey, groupValues]) => ({
        tenantId: TENANT,
        customerId: CUSTOMER,
        metricId: METRIC,
        groupKey,
        hourMs: HOUR.getTime(),
        groupValues,
        eventCount: 1,
        valueSum: new ExactDecimal(5),
        valueMax: null,
        latest: null,
      })),
    );
    await insertDistinctValues(
      db,
      groups.map(([groupKey, groupValues]) => ({ tenantId: TENANT, customerId: CUSTOMER, metricId: METRIC, groupKey, hourMs: HOUR.getTime(), groupValues, value: 'v1' })),
    );
    expect(await db.query('SELECT count(*)::int AS n, sum(event_count)::int AS events, sum(value_sum)::text AS total FROM usage_rollups')).toEqual([
      { n: groups.length, events: 3 * groups.length, total: String(15 * groups.length) },
    ]);
    expect(await db.query('SELECT count(*)::int AS n FROM usage_distinct_values')).toEqual([{ n: groups.length }]);

    // Compared byte by byte whatever the database's collation; and a process of an earlier
    // version, writing text[] (which casts to text silently), fails rather than store keys no reader finds.
    expect(
      await db.query(
        `SELECT c.relname AS table, a.attname AS column, l.collname AS collation FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_collation l ON l.oid = a.attcollation
          WHERE c.relname IN ('usage_rollups', 'usage_distinct_values') AND a.attname IN ('group_key', 'group_values') ORDER BY 1, 2`,
      ),
    ).toEqual([
      { table: 'usage_distinct_values', column: 'group_key', collation: 'C' },
      { table: 'usage_distinct_values', column: 'group_values', collation: 'C' },
      { table: 'usage_rollups', column: 'group_key', collation: 'C' },
      { table: 'usage_rollups', column: 'group_values', collation: 'C' },
    ]);
    await expect(
      db.query(
        `INSERT INTO usage_rollups (tenant_id, customer_id, metric_id, group_key, hour, group_values, event_count, value_sum)
         SELECT $1, $2, $3, k::text[], $4, k::text[], 1, 1 FROM (SELECT '{}'::text AS k) s`,
        [TENANT, CUSTOMER, METRIC, new Date('2024-05-10T11:00:00Z')],
      ),
    ).rejects.toThrow(/usage_rollups_keys_json/);

    // And reads give the arrays back.
    const read = await sliceRollups(db, TENANT, {
      customerId: CUSTOMER,
      selections: [{ metricId: METRIC, groupKey: ['k"ey', 'who'] }],
      from: HOUR,
      to: new Date(HOUR.getTime() + 3_600_000),
      sliceStarts: [HOUR],
    });
    expect(read.map((row) => [row.group_key, row.group_values, row.event_count]).sort()).toEqual(
      ODD.map((value) => [['k"ey', 'who'], [value, `${value}!`], '3']).sort(),
    );
  }, 120_000);
});
