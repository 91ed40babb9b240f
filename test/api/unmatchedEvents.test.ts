import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClock } from '../../src/lib/clock.js';
import { unmatchedReferences } from '../../src/modules/usage/unmatchedRepo.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const NOW = '2024-05-10T12:00:00Z';

interface Listed {
  customer_id: string;
  event_count: number;
  first_received_at: string;
  last_received_at: string;
  latest_event_type: string;
  latest_transaction_id: string;
}

describe.each(ENGINES)('GET /v1/allot/events/unmatched on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let otherKey: string;
  let acme: string;

  const at = (instant: string) => (server.clock as TestClock).advanceTo(new Date(instant));
  const event = (customer: string, transactionId: string, type = 'chat') => ({ transaction_id: transactionId, customer_id: customer, event_type: type, timestamp: '2024-05-10T10:00:00Z' });
  const list = async (query = '', key = server.key) => {
    const response = await fetch(`${server.baseURL}/v1/allot/events/unmatched${query}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: (await response.json()) as { data: Listed[]; next_page: string | null; message?: string } };
  };
  const counter = async () => {
    const line = (await (await fetch(`${server.baseURL}/metrics`)).text()).split('\n').find((each) => each.startsWith('allot_ingest_unmatched_events_total '));
    return Number(line?.split(' ')[1]);
  };

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: NOW });
    client = server.client();
    otherKey = await server.keyFor(`globex-${engine}`);
    acme = (await client.v1.customers.create({ name: 'Acme AI', ingest_aliases: ['acme-ai'] })).data.id;
    const before = await counter();

    // 12:00: the right alias and id (matched), a typo twice, an unknown id.
    await client.v1.usage.ingest({ usage: [event('acme-ai', 't1'), event(acme, 't2'), event('acme-aii', 't3'), event('acme-aii', 't4', 'image'), event('nobody', 't5')] });
    // A repeat of an unmatched event is acknowledged and not counted again.
    await client.v1.usage.ingest({ usage: [event('acme-aii', 't3')] });
    at('2024-05-10T12:05:00Z');
    await client.v1.usage.ingest({ usage: [event('acme-aii', 't6', 'embed')] });
    at('2024-05-10T12:10:00Z');
    // Another tenant's events, one naming Acme's id: unknown there, and never shown to Acme's tenant.
    await server.client(otherKey).v1.usage.ingest({ usage: [event('acme-aii', 'g1'), event(acme, 'g2'), event('zeta', 'g3')] });
    expect((await counter()) - before).toBe(3 + 1 + 3);
  });
  afterAll(() => server.stop());

  it('lists each unknown customer_id with exact counts, first and last received and the latest event, newest first', async () => {
    const { status, body } = await list();
    expect(status).toBe(200);
    expect(body).toEqual({
      data: [
        {
          customer_id: 'acme-aii',
          event_count: 3,
          first_received_at: '2024-05-10T12:00:00.000Z',
          last_received_at: '2024-05-10T12:05:00.000Z',
          latest_event_type: 'embed',
          latest_transaction_id: 't6',
        },
        {
          customer_id: 'nobody',
          event_count: 1,
          first_received_at: '2024-05-10T12:00:00.000Z',
          last_received_at: '2024-05-10T12:00:00.000Z',
          latest_event_type: 'chat',
          latest_transaction_id: 't5',
        },
      ],
      next_page: null,
    });
  });

  it("keeps each tenant's unmatched events to itself", async () => {
    const { body } = await list('', otherKey);
    expect(body.data.map((row) => [row.customer_id, row.event_count])).toEqual([
      [acme, 1],
      ['acme-aii', 1],
      ['zeta', 1],
    ]);
    expect(body.data.every((row) => row.last_received_at === '2024-05-10T12:10:00.000Z')).toBe(true);
  });

  it('pages `limit` at a time with next_page, ties in byte order of the customer_id', async () => {
    const seen: string[] = [];
    let query = '?limit=1';
    for (let pages = 0; pages < 10; pages++) {
      const { status, body } = await list(query, otherKey);
      expect(status).toBe(200);
      expect(body.data.length).toBeLessThanOrEqual(1);
      seen.push(...body.data.map((row) => row.customer_id));
      if (!body.next_page) break;
      query = `?limit=1&next_page=${encodeURIComponent(body.next_page)}`;
    }
    expect(seen).toEqual([acme, 'acme-aii', 'zeta']);
    const two = await list('?limit=2', otherKey);
    expect(two.body.data.map((row) => row.customer_id)).toEqual([acme, 'acme-aii']);
    const rest = await list(`?limit=2&next_page=${encodeURIComponent(two.body.next_page!)}`, otherKey);
    expect(rest.body).toMatchObject({ data: [{ customer_id: 'zeta' }], next_page: null });
  });

  it('counts only events received since `since`', async () => {
    const { body } = await list('?since=2024-05-10T12:01:00Z');
    expect(body.data.map((row) => [row.customer_id, row.event_count, row.first_received_at])).toEqual([['acme-aii', 1, '2024-05-10T12:05:00.000Z']]);
    expect((await list('?since=2024-05-10T12:06:00Z')).body).toEqual({ data: [], next_page: null });
  });

  it('refuses bad input with a 400 naming every offending field', async () => {
    const bad = await list('?limit=0&since=yesterday&next_page=nonsense');
    expect(bad.status).toBe(400);
    expect((bad.body as unknown as { errors: { field: string }[] }).errors.map((error) => error.field).sort()).toEqual(['limit', 'next_page', 'since']);
    const cursor = await list('?next_page=nonsense');
    expect(cursor.status).toBe(400);
    expect(cursor.body.message).toContain('next_page');
    expect((await list('?customer_id=x')).status).toBe(400);
  });

  it('is described in /openapi.json', async () => {
    const openapi = (await (await fetch(`${server.baseURL}/openapi.json`)).json()) as { paths: Record<string, { get?: { tags?: string[]; parameters?: Array<{ name: string }> } }> };
    const operation = openapi.paths['/v1/allot/events/unmatched']!.get!;
    expect(operation.tags).toEqual(['allot']);
    expect(operation.parameters!.map((parameter) => parameter.name).sort()).toEqual(['limit', 'next_page', 'since']);
  });

  it('takes an unknown customer_id, event type and transaction id of 256 three-byte characters each', async () => {
    const long = (letter: string) => letter.repeat(256);
    const key = await server.keyFor(`long-${engine}`);
    const usage = [{ transaction_id: long('€'), customer_id: long('字'), event_type: long('ア'), timestamp: '2024-05-10T10:00:00Z' }];
    await server.client(key).v1.usage.ingest({ usage });
    expect((await list('', key)).body.data).toEqual([expect.objectContaining({ customer_id: long('字'), event_count: 1, latest_event_type: long('ア'), latest_transaction_id: long('€') })]);
  });

  if (engine === 'postgres') it('reads only the partial index, however many matched events the tenant has', async () => {
    const db = server.database.db;
    const [{ id: tenantId }] = await db.query<{ id: string }>("SELECT id FROM tenants WHERE name = 'acme'") as [{ id: string }];
    await db.query(
      `INSERT INTO events (tenant_id, transaction_id, customer_ref, customer_id, event_type, "timestamp", properties, received_at)
       SELECT $1, 'bulk-' || n, 'acme-ai', $2, 'chat', '2024-05-10T10:00:00Z', '{}', '2024-05-10T11:00:00Z' FROM generate_series(1, 200000) AS n`,
      [tenantId, acme],
    );
    await db.query('ANALYZE events');
    const explain = { query: <Row>(sql: string, params?: readonly unknown[]) => db.query<Row>(`EXPLAIN ${sql}`, params) };
    const plan = (await unmatchedReferences(explain, { tenantId, since: null, after: null, limit: 101 })).map((row) => Object.values(row as object).join('')).join('\n');
    // Every read of events is an index scan bounded to the tenant's events of no customer
    // (the partial index, or the (tenant, customer) index on its NULLs): no matched event is read.
    expect(plan).not.toMatch(/Seq Scan|events_pkey|Filter/);
    const lines = plan.split('\n');
    const scans = lines.flatMap((line, i) => (/Index (Only )?Scan/.test(line) ? [`${line} ${lines[i + 1]}`] : []));
    expect(scans.length).toBe(2);
    for (const scan of scans) expect(scan).toMatch(/using events_unmatched|Index Cond: .*customer_id IS NULL/);
    expect(plan).toContain('events_unmatched');
    const started = performance.now();
    expect((await list()).body.data.map((row) => row.event_count)).toEqual([3, 1]);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
