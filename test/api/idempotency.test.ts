import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

describe.each(ENGINES)('Idempotency-Key on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-05-01T00:00:00Z' });
  });
  afterAll(() => server.stop());

  const withKey = (key: string) => ({ headers: { 'Idempotency-Key': key } });

  it('replays the stored response for the same key and body, creating one customer', async () => {
    const client = server.client();
    const body = { name: 'Once', ingest_aliases: ['once'], custom_fields: { a: '1', b: '2' } };
    const first = await client.v1.customers.create(body, withKey('create-once'));
    const { data: replay, response } = await client.v1.customers
      .create({ custom_fields: { b: '2', a: '1' }, ingest_aliases: ['once'], name: 'Once' }, withKey('create-once'))
      .withResponse();
    expect(replay).toEqual(first);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect((await client.v1.customers.list({ ingest_alias: 'once' })).data).toHaveLength(1);
  });

  it('answers 409 when the key is reused with a different body', async () => {
    const client = server.client();
    await client.v1.customers.create({ name: 'First body' }, withKey('reused'));
    await expect(client.v1.customers.create({ name: 'Second body' }, withKey('reused'))).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('different request'),
    });
    await expect(client.v1.customers.setName({ customer_id: (await client.v1.customers.list()).data[0]!.id, name: 'x' }, withKey('reused'))).rejects.toMatchObject({
      status: 409,
    });
  });

  it('frees the key when the request fails, so a corrected retry may use it', async () => {
    const client = server.client();
    await client.v1.customers.create({ name: 'Holder', ingest_aliases: ['held'] });
    await expect(client.v1.customers.create({ name: 'Clash', ingest_aliases: ['held'] }, withKey('retry-me'))).rejects.toMatchObject({ status: 409 });
    await expect(client.v1.customers.create({ name: '' }, withKey('retry-me'))).rejects.toMatchObject({ status: 400 });
    const fixed = await client.v1.customers.create({ name: 'Clash', ingest_aliases: ['not-held'] }, withKey('retry-me'));
    expect(fixed.data.ingest_aliases).toEqual(['not-held']);
  });

  it('keeps keys per tenant', async () => {
    const acme = await server.client().v1.customers.create({ name: 'Acme side' }, withKey('shared-key'));
    const other = await server.client(await server.keyFor('umbrella')).v1.customers.create({ name: 'Umbrella side' }, withKey('shared-key'));
    expect(other.data.id).not.toBe(acme.data.id);
    expect(other.data.name).toBe('Umbrella side');
  });

  it('runs a keyed request once when it arrives many times at once: the others wait and replay it', async () => {
    const created = await Promise.all(
      Array.from({ length: 8 }, () => server.client().v1.customers.create({ name: 'Stampede', ingest_aliases: ['stampede'] }, withKey('stampede'))),
    );
    expect(new Set(created.map((c) => c.data.id)).size).toBe(1);
    expect((await server.client().v1.customers.list({ ingest_alias: 'stampede' })).data).toHaveLength(1);
  });

  it('refuses the header where the response holds a secret (a new API key)', async () => {
    const response = await fetch(`${server.baseURL}/v1/allot/api-keys/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json', 'idempotency-key': 'k1' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/^Idempotency-Key: is not accepted on this route/);
  });

  it('keeps a key for 24 hours by the clock, then lets it be used afresh', async () => {
    const client = server.client();
    const first = await client.v1.customers.create({ name: 'Day one' }, withKey('daily'));
    await server.advanceClock('2024-05-01T23:00:00Z');
    expect((await client.v1.customers.create({ name: 'Day one' }, withKey('daily'))).data.id).toBe(first.data.id);
    await server.advanceClock('2024-05-02T00:00:01Z');
    const later = await client.v1.customers.create({ name: 'Day two' }, withKey('daily'));
    expect(later.data.id).not.toBe(first.data.id);
  });

  it('rejects an over-long key with a 400 naming the header', async () => {
    await expect(server.client().v1.customers.create({ name: 'x' }, withKey('k'.repeat(256)))).rejects.toMatchObject({
      status: 400,
      error: { message: 'Idempotency-Key: must be 1 to 255 characters' },
    });
  });
});

describe('Idempotency-Key while the first request is slow (PostgreSQL)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: '2024-05-01T00:00:00Z' });
  });
  afterAll(() => server.stop());

  it('never runs the request twice, however long the first one takes', async () => {
    const pg = await import('pg');
    const blocker = new pg.default.Client({ connectionString: server.database.url });
    await blocker.connect();
    const waitingOnLocks = async (count: number) => {
      const [row] = (await blocker.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`)).rows as Array<{ n: number }>;
      return row!.n >= count;
    };
    // Hold the customers table so that the first request stalls mid-transaction.
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE customers IN EXCLUSIVE MODE');
    const client = server.client();
    const body = { name: 'Slow', ingest_aliases: ['slow'] };
    const first = client.v1.customers.create(body, { headers: { 'Idempotency-Key': 'slow-1' } });
    await waitFor(() => waitingOnLocks(1), { what: 'the first request to block on the table lock' });
    // An hour later by the clock the retry arrives, while the first request still runs: it must
    // wait for the first and replay it, not run again (there is no time-based takeover).
    await server.advanceClock('2024-05-01T01:00:00Z');
    const retry = client.v1.customers.create(body, { headers: { 'Idempotency-Key': 'slow-1' } });
    await waitFor(() => waitingOnLocks(2), { what: 'the retry to wait on the first request' });
    await blocker.query('COMMIT');
    await blocker.end();
    const [a, b] = await Promise.all([first, retry]);
    expect(b.data.id).toBe(a.data.id);
    expect((await client.v1.customers.list({ ingest_alias: 'slow' })).data).toHaveLength(1);
  });
});
