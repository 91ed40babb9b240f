import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginTransaction, databaseWithin } from '../../src/lib/db/database.js';
import { openPglite } from '../../src/lib/db/pglite.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe.each(ENGINES)('the database interface on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await database.db.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
  });
  afterAll(() => database.destroy());

  it('returns the same JS types on both engines; money never becomes a JS number', async () => {
    const [row] = await database.db.query(
      `SELECT 12345678901234567890.123::numeric AS amount, ARRAY[1.5, 0.1]::numeric[] AS amounts, 9007199254740993::int8 AS big,
              7::int4 AS small, '2024-02-29'::date AS day, '2024-02-29T10:00:00Z'::timestamptz AS at,
              '{"a": [1, "x"]}'::jsonb AS doc, ARRAY['p', 'q']::text[] AS tags`,
    );
    expect(row).toEqual({
      amount: '12345678901234567890.123',
      amounts: ['1.5', '0.1'],
      big: '9007199254740993',
      small: 7,
      day: '2024-02-29',
      at: new Date('2024-02-29T10:00:00Z'),
      doc: { a: [1, 'x'] },
      tags: ['p', 'q'],
    });
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await database.db.transaction((tx) => tx.query(`INSERT INTO notes VALUES (1, 'kept')`));
    await expect(
      database.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO notes VALUES (2, 'dropped')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await database.db.query('SELECT id FROM notes ORDER BY id')).toEqual([{ id: 1 }]);
  });

  it('keeps a transaction open across calls until commit or rollback, with savepoints inside', async () => {
    const open = await beginTransaction(database.db);
    const inner = databaseWithin(open.tx, engine);
    await inner.query(`INSERT INTO notes VALUES (3, 'outer')`);
    await expect(
      inner.transaction(async (tx) => {
        await tx.query(`INSERT INTO notes VALUES (4, 'nested, undone')`);
        await tx.query(`INSERT INTO notes VALUES (3, 'duplicate key')`);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    await inner.transaction((tx) => tx.query(`INSERT INTO notes VALUES (5, 'nested, kept')`));
    await open.commit();
    expect(await database.db.query('SELECT id FROM notes WHERE id >= 3 ORDER BY id')).toEqual([{ id: 3 }, { id: 5 }]);

    const discarded = await beginTransaction(database.db);
    await discarded.tx.query(`INSERT INTO notes VALUES (6, 'never')`);
    await discarded.rollback();
    expect(await database.db.query('SELECT id FROM notes WHERE id = 6')).toEqual([]);
  });
});

describe('the PGlite data directory lock', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'allot-lock-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('takes over a stale lock that names this pid, and refuses a second open while held', async () => {
    // As after a crash in a container whose restarted process got the same pid.
    writeFileSync(join(dataDir, 'allot.lock'), String(process.pid));
    // Filled from the run's template: initialising a directory here would only add seconds of WASM.
    const held = await createTestDatabase('pglite', { dataDir });
    try {
      // The tests' own settings (TEST_PGLITE_SETTINGS) reach the instance; a plain open has PostgreSQL's default.
      expect(await held.db.query('SHOW shared_buffers')).toEqual([{ shared_buffers: '16MB' }]);
      await expect(openPglite({ dataDir })).rejects.toThrow(/is in use by process/);
    } finally {
      await held.destroy();
    }
    const again = await openPglite({ dataDir });
    expect(await again.query('SHOW shared_buffers')).toEqual([{ shared_buffers: '128MB' }]);
    await again.close();
  });
});
