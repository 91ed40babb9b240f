import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onUsageCommitted, type UsageCommitted } from '../../src/modules/usage/service.js';
import { ENGINES } from '../helpers/database.js';
import { startServe } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const NOW = '2024-05-10T12:00:00Z';
type Usage = Metronome.V1.UsageIngestParams.Usage;

/** A fetch for the SDK that opens a new connection for every request (no keep-alive, no shared agent), closed when it is answered or aborted. */
const ownConnectionFetch = (async (url: string | URL, init: RequestInit = {}) => {
  const body = init.body === undefined || init.body === null ? undefined : String(init.body);
  const headers = Object.fromEntries(new Headers(init.headers).entries());
  return new Promise<Response>((resolve, reject) => {
    const sent = httpRequest(String(url), { method: init.method ?? 'GET', headers: { ...headers, connection: 'close' }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
        const text = Buffer.concat(chunks);
        resolve(new Response(response.statusCode === 204 ? null : text, { status: response.statusCode ?? 500, headers: responseHeaders }));
      });
      response.on('error', reject);
    });
    sent.on('error', reject);
    init.signal?.addEventListener('abort', () => sent.destroy(new DOMException('The request was aborted', 'AbortError')));
    sent.end(body);
  });
}) as typeof fetch;

describe.each(ENGINES)('POST /v1/ingest on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let sequence = 0;
  /** A fresh event type per test, so that each test's metrics see only its own events. */
  const eventType = () => `call_${++sequence}`;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: NOW });
    client = server.client();
  });
  afterAll(() => server.stop());

  const query = <Row>(sql: string, params: unknown[] = []) => server.database.db.query<Row>(sql, params);
  const storedEvents = async (transactionIds: string[]) =>
    query<{ transaction_id: string; customer_id: string | null; customer_ref: string; properties: unknown }>(
      'SELECT transaction_id, customer_id, customer_ref, properties FROM events WHERE transaction_id = ANY($1::text[]) ORDER BY transaction_id',
      [transactionIds],
    );
  const rollups = async (metricId: string) =>
    query<{
      customer_id: string;
      group_key: string[];
      group_values: string[];
      hour: Date;
      event_count: string;
      value_sum: string;
      value_max: string | null;
      latest_value: string | null;
      latest_transaction_id: string | null;
    }>(
      `SELECT customer_id, group_key::jsonb AS group_key, group_values::jsonb AS group_values, hour, event_count, value_sum::text, value_max::text, latest_value::text, latest_transaction_id
         FROM usage_rollups r WHERE metric_id = $1 ORDER BY customer_id, r.group_key <> '[]', r.group_key, hour, r.group_values`,
      [metricId],
    );
  const totalCount = async (metricId: string) => {
    const rows = await rollups(metricId);
    return rows.filter((row) => row.group_key.length === 0).reduce((sum, row) => sum + Number(row.event_count), 0);
  };
  const countMetric = async (type: string) =>
    (await client.v1.billableMetrics.create({ name: `count ${type}`, aggregation_type: 'COUNT', event_type_filter: { in_values: [type] } })).data.id;
  const event = (type: string, customer: string, transactionId: string, extra: Partial<Usage> = {}): Usage => ({
    transaction_id: transactionId,
    customer_id: customer,
    event_type: type,
    timestamp: '2024-05-10T10:15:00Z',
    ...extra,
  });
  const send = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${server.baseURL}/v1/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json', ...headers },
      body,
    });

  it('stores and counts a transaction_id once, however often it is sent (and in the same call)', async () => {
    const type = eventType();
    const metric = await countMetric(type);
    const customer = (await client.v1.customers.create({ name: 'Once' })).data.id;
    const first = event(type, customer, `${type}-1`, { properties: { tokens: 5 } });
    await client.v1.usage.ingest({ usage: [first, event(type, customer, `${type}-2`)] });
    // The repeat differs in content: the first event stays, the repeat is acknowledged and ignored.
    await client.v1.usage.ingest({ usage: [{ ...first, properties: { tokens: 500 } }, { ...first, properties: { tokens: 7 } }] });
    await client.v1.usage.ingest({ usage: [first] });

    await send(JSON.stringify([event(type, customer, `${type}-3`)]).replace('"event_type"', '"properties":{"__proto__":{"x":1},"constructor":2},"event_type"'));
    const proto = (await storedEvents([`${type}-3`]))[0]!.properties as Record<string, unknown>;
    expect([Object.keys(proto), Object.getPrototypeOf(proto) === Object.prototype]).toEqual([['__proto__', 'constructor'], true]);
    expect((await storedEvents([`${type}-1`, `${type}-2`])).map((row) => [row.transaction_id, row.properties])).toEqual([
      [`${type}-1`, { tokens: 5 }],
      [`${type}-2`, {}],
    ]);
    const rows = await rollups(metric);
    expect(rows).toEqual([
      expect.objectContaining({ customer_id: customer, group_key: [], group_values: [], hour: new Date('2024-05-10T10:00:00Z'), event_count: '3', value_sum: '0' }),
    ]);
  });

  it('rolls up SUM, MAX and LATEST exactly, per hour and per group key, from numbers and numeric strings', async () => {
    const type = eventType();
    const customer = (await client.v1.customers.create({ name: 'Sums' })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({
        name: `tokens ${type}`,
        aggregation_type: 'SUM',
        aggregation_key: 'tokens',
        event_type_filter: { in_values: [type] },
        property_filters: [
          { name: 'tokens', exists: true },
          { name: 'user_id', exists: true },
          { name: 'team', exists: true },
          { name: 'region', not_in_values: ['blocked'] },
        ],
        group_keys: [['user_id'], ['team', 'user_id']],
      })
    ).data.id;
    const at = (time: string) => `2024-05-10T${time}Z`;
    const properties = (tokens: unknown, user: string, team = 'red', region?: string) => ({ tokens, user_id: user, team, ...(region && { region }) });
    // One event's number a double cannot hold: it must reach the rollups digit for digit.
    const raw = JSON.stringify([
      event(type, customer, `${type}-a`, { timestamp: at('10:05:00'), properties: properties(5, 'u1') }),
      event(type, customer, `${type}-b`, { timestamp: at('10:59:59.999'), properties: properties('648', 'u2') }),
      event(type, customer, `${type}-c`, { timestamp: at('11:00:00'), properties: properties(0.1, 'u1', 'blue') }),
      event(type, customer, `${type}-d`, { timestamp: at('10:30:00'), properties: properties('n/a', 'u1') }),
      event(type, customer, `${type}-e`, { timestamp: at('10:30:00'), properties: properties(1, 'u1', 'red', 'blocked') }),
      event(type, customer, `${type}-f`, { timestamp: at('10:59:59.999'), properties: properties('BIG', 'u2') }),
    ]).replace('"BIG"', '123456789012345.000000000000001');
    expect((await send(raw)).status).toBe(200);

    const rows = (await rollups(metric)).map((row) => ({
      key: `${row.group_key.join('+') || 'total'} ${row.group_values.join('+')} ${row.hour.toISOString().slice(11, 13)}h`,
      count: row.event_count,
      sum: row.value_sum,
      max: row.value_max,
      latest: `${row.latest_value} (${row.latest_transaction_id})`,
    }));
    expect(rows).toEqual([
      { key: 'total  10h', count: '3', sum: '123456789012998.000000000000001', max: '123456789012345.000000000000001', latest: `123456789012345.000000000000001 (${type}-f)` },
      { key: 'total  11h', count: '1', sum: '0.1', max: '0.1', latest: `0.1 (${type}-c)` },
      { key: 'team+user_id red+u1 10h', count: '1', sum: '5', max: '5', latest: `5 (${type}-a)` },
      { key: 'team+user_id red+u2 10h', count: '2', sum: '123456789012993.000000000000001', max: '123456789012345.000000000000001', latest: `123456789012345.000000000000001 (${type}-f)` },
      { key: 'team+user_id blue+u1 11h', count: '1', sum: '0.1', max: '0.1', latest: `0.1 (${type}-c)` },
      { key: 'user_id u1 10h', count: '1', sum: '5', max: '5', latest: `5 (${type}-a)` },
      { key: 'user_id u2 10h', count: '2', sum: '123456789012993.000000000000001', max: '123456789012345.000000000000001', latest: `123456789012345.000000000000001 (${type}-f)` },
      { key: 'user_id u1 11h', count: '1', sum: '0.1', max: '0.1', latest: `0.1 (${type}-c)` },
    ]);
  });

  it('keeps the distinct values of a UNIQUE metric per hour and group', async () => {
    const type = eventType();
    const customer = (await client.v1.customers.create({ name: 'Unique' })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({
        name: `users ${type}`,
        aggregation_type: 'UNIQUE',
        aggregation_key: 'user_id',
        event_type_filter: { in_values: [type] },
        property_filters: [{ name: 'user_id', exists: true }, { name: 'team', exists: true }],
        group_keys: [['team']],
      })
    ).data.id;
    await client.v1.usage.ingest({
      usage: [
        event(type, customer, `${type}-1`, { properties: { user_id: 'u1', team: 'red' } }),
        event(type, customer, `${type}-2`, { properties: { user_id: 'u1', team: 'red' } }),
        event(type, customer, `${type}-3`, { properties: { user_id: 7, team: 'blue' } }),
      ],
    });
    await client.v1.usage.ingest({ usage: [event(type, customer, `${type}-4`, { properties: { user_id: 'u2', team: 'red' } })] });
    const values = await query<{ group_key: string[]; group_values: string[]; value: string }>(
      "SELECT group_key::jsonb AS group_key, group_values::jsonb AS group_values, value FROM usage_distinct_values d WHERE metric_id = $1 ORDER BY d.group_key <> '[]', d.group_key, d.group_values, value",
      [metric],
    );
    expect(values.map((row) => `${row.group_key.join()}=${row.group_values.join()}: ${row.value}`)).toEqual([
      '=: 7',
      '=: u1',
      '=: u2',
      'team=blue: 7',
      'team=red: u1',
      'team=red: u2',
    ]);
    expect(await totalCount(metric)).toBe(4);
  });

  it('stores identifiers and group values exactly, whatever characters they hold', async () => {
    const type = eventType();
    const odd = ['NULL', 'a"b\\c', 'x,y {z}', ' spaced ', 'é😀', ''];
    const customer = (await client.v1.customers.create({ name: 'Odd', ingest_aliases: ['NULL', `{"odd"},${type}`] })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({
        name: `odd ${type}`,
        aggregation_type: 'LATEST',
        aggregation_key: 'n',
        event_type_filter: { in_values: [type] },
        property_filters: [{ name: 'n', exists: true }, { name: 'who', exists: true }, { name: 'k"ey', exists: true }],
        group_keys: [['who', 'k"ey']],
      })
    ).data.id;
    const usage = odd.map((value, i) =>
      event(type, i % 2 ? 'NULL' : `{"odd"},${type}`, `${type}:${value}`, { properties: { n: i, who: value, 'k"ey': `${value}!` } }),
    );
    await client.v1.usage.ingest({ usage });
    expect((await storedEvents(usage.map((each) => each.transaction_id))).map((row) => [row.transaction_id, row.customer_ref, row.customer_id])).toEqual(
      usage.map((each) => [each.transaction_id, each.customer_id, customer]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    const grouped = (await rollups(metric)).filter((row) => row.group_key.length > 0);
    expect(grouped.map((row) => row.group_key)).toEqual(odd.map(() => ['k"ey', 'who']));
    expect(grouped.map((row) => row.group_values).sort()).toEqual(odd.map((value) => [`${value}!`, value]).sort());
    const total = (await rollups(metric)).find((row) => row.group_key.length === 0)!;
    // The latest of six events at one instant: the greatest transaction id, byte by byte.
    expect(total.latest_transaction_id).toBe(`${type}:é😀`);
    expect(total.latest_value).toBe('4');
  });

  it('refuses a timestamp more than 24 hours ahead of the clock, naming the field, and takes one exactly 24 hours ahead', async () => {
    const type = eventType();
    const customer = (await client.v1.customers.create({ name: 'Future' })).data.id;
    const refused = client.v1.usage.ingest({
      usage: [event(type, customer, `${type}-now`), event(type, customer, `${type}-late`, { timestamp: '2024-05-11T13:00:00Z' })],
    });
    await expect(refused).rejects.toMatchObject({ status: 400, error: { message: expect.stringContaining('1.timestamp: must not be more than 24 hours in the future') } });
    expect(await storedEvents([`${type}-now`, `${type}-late`])).toEqual([]);

    await client.v1.usage.ingest({ usage: [event(type, customer, `${type}-edge`, { timestamp: '2024-05-11T12:00:00Z' })] });
    expect((await storedEvents([`${type}-edge`])).length).toBe(1);
  });

  it('takes 1 to 100 events per call', async () => {
    const type = eventType();
    const many = Array.from({ length: 101 }, (_, i) => event(type, 'nobody', `${type}-${i}`));
    await expect(client.v1.usage.ingest({ usage: many })).rejects.toMatchObject({ status: 400, error: { message: 'body: must hold 1 to 100 events' } });
    await expect(client.v1.usage.ingest({ usage: [] })).rejects.toMatchObject({ status: 400, error: { message: 'body: must hold 1 to 100 events' } });
    await expect(client.v1.usage.ingest({})).rejects.toMatchObject({ status: 400, error: { message: 'body: Invalid input: expected array, received null' } });
    expect((await send('{"usage": []}')).status).toBe(400);
    expect(await storedEvents(many.map((each) => each.transaction_id))).toEqual([]);

    await client.v1.usage.ingest({ usage: many.slice(0, 100) });
    expect((await storedEvents(many.map((each) => each.transaction_id))).length).toBe(100);
  });

  it('refuses a call with any invalid event whole, naming each event and field', async () => {
    const type = eventType();
    const metric = await countMetric(type);
    const customer = (await client.v1.customers.create({ name: 'Whole' })).data.id;
    const response = await send(
      JSON.stringify([
        event(type, customer, `${type}-1`),
        event(type, customer, `${type}-2`),
        event(type, customer, `${type}-3`, { timestamp: '2024-05-10 10:00' }),
        { transaction_id: `${type}-4`, customer_id: customer, timestamp: '2024-05-10T10:00:00Z', properties: { bad: 'nul\u0000' }, extra: 1 },
      ]),
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string; errors: Array<{ field: string }> };
    expect(body.errors.map((error) => error.field).sort()).toEqual(['2.timestamp', '3.event_type', '3.extra', '3.properties.bad']);
    expect(body.message).toContain('2.timestamp: must be an RFC 3339 instant');
    expect(await storedEvents([1, 2, 3, 4].map((i) => `${type}-${i}`))).toEqual([]);
    expect(await rollups(metric)).toEqual([]);
  });

  it('finds the customer by id or by alias, archived or not; stores an unknown customer\'s event without rating it', async () => {
    const type = eventType();
    const metric = await countMetric(type);
    const byAlias = (await client.v1.customers.create({ name: 'Aliased', ingest_aliases: [`acme-${type}`] })).data.id;
    const archived = (await client.v1.customers.create({ name: 'Archived', ingest_aliases: [`gone-${type}`] })).data.id;
    await client.v1.customers.archive({ id: archived });
    const otherTenant = (await server.client(await server.keyFor(`other-${engine}`)).v1.customers.create({ name: 'Elsewhere' })).data.id;

    await client.v1.usage.ingest({
      usage: [
        event(type, `acme-${type}`, `${type}-alias`),
        event(type, byAlias, `${type}-id`),
        event(type, `gone-${type}`, `${type}-archived`),
        event(type, 'no-such-customer', `${type}-unknown`),
        event(type, otherTenant, `${type}-foreign`),
      ],
    });
    expect((await storedEvents(['alias', 'id', 'archived', 'unknown', 'foreign'].map((s) => `${type}-${s}`))).map((row) => [row.transaction_id, row.customer_ref, row.customer_id])).toEqual([
      [`${type}-alias`, `acme-${type}`, byAlias],
      [`${type}-archived`, `gone-${type}`, archived],
      [`${type}-foreign`, otherTenant, null],
      [`${type}-id`, byAlias, byAlias],
      [`${type}-unknown`, 'no-such-customer', null],
    ]);
    expect((await rollups(metric)).map((row) => [row.customer_id, row.event_count]).sort()).toEqual([
      [archived, '1'],
      [byAlias, '2'],
    ].sort());
  });

  it('accepts gzip bodies, refuses other encodings (415), a decompressed body over the limit (413) and corrupt gzip (400)', async () => {
    const type = eventType();
    const metric = await countMetric(type);
    const customer = (await client.v1.customers.create({ name: 'Zipped' })).data.id;
    const body = JSON.stringify([event(type, customer, `${type}-1`), event(type, customer, `${type}-2`)]);
    expect((await send(gzipSync(body), { 'content-encoding': 'gzip' })).status).toBe(200);
    expect(await totalCount(metric)).toBe(2);

    const brotli = await send(body, { 'content-encoding': 'br' });
    expect(brotli.status).toBe(415);
    expect(((await brotli.json()) as { message: string }).message).toBe('Content-Encoding br is not supported: send the body uncompressed or gzipped');

    // 64 MiB of spaces compress to about 64 KiB: inflating stops at the 1 MiB limit.
    const bomb = gzipSync(Buffer.concat([Buffer.from(body.slice(0, -1)), Buffer.alloc(64 * 1024 * 1024, ' '), Buffer.from(']')]));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const tooLarge = await send(bomb, { 'content-encoding': 'gzip' });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({ message: 'Request body is larger than the limit of 1048576 bytes once decompressed' });

    const corrupt = await send(Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(((await corrupt.json()) as { message: string }).message).toMatch(/^Body is not valid gzip/);
    expect(await totalCount(metric)).toBe(2);
  });

  it('lets a metric created after events arrived count them (backfill), then keeps counting', async () => {
    const type = eventType();
    const customer = (await client.v1.customers.create({ name: 'Early', ingest_aliases: [`early-${type}`] })).data.id;
    await client.v1.usage.ingest({
      usage: [
        event(type, customer, `${type}-1`, { properties: { tokens: 5, user_id: 'u1' } }),
        event(type, `early-${type}`, `${type}-2`, { timestamp: '2024-05-09T08:00:00Z', properties: { tokens: '7.5', user_id: 'u2' } }),
        event(type, 'unknown', `${type}-3`, { properties: { tokens: 100, user_id: 'u1' } }),
        event('other', customer, `${type}-4`, { properties: { tokens: 100, user_id: 'u1' } }),
      ],
    });
    const metric = (
      await client.v1.billableMetrics.create({
        name: `late ${type}`,
        aggregation_type: 'SUM',
        aggregation_key: 'tokens',
        event_type_filter: { in_values: [type] },
        property_filters: [{ name: 'tokens', exists: true }, { name: 'user_id', exists: true }],
        group_keys: [['user_id']],
      })
    ).data.id;
    const summary = async () => (await rollups(metric)).map((row) => `${row.group_values.join() || 'total'} ${row.hour.toISOString()} ${row.event_count} ${row.value_sum}`);
    expect(await summary()).toEqual([
      'total 2024-05-09T08:00:00.000Z 1 7.5',
      'total 2024-05-10T10:00:00.000Z 1 5',
      'u2 2024-05-09T08:00:00.000Z 1 7.5',
      'u1 2024-05-10T10:00:00.000Z 1 5',
    ]);
    await client.v1.usage.ingest({ usage: [event(type, customer, `${type}-5`, { properties: { tokens: 1, user_id: 'u1' } })] });
    expect(await summary()).toContain('total 2024-05-10T10:00:00.000Z 2 6');
  });

  it('notifies subscribers after each commit with the tenant, the customers that have new events and the metrics they matched', async () => {
    const type = eventType();
    const customer = (await client.v1.customers.create({ name: 'Watched' })).data.id;
    const seen: UsageCommitted[] = [];
    const unsubscribe = onUsageCommitted({ db: server.database.db, clock: server.clock }, (committed) => seen.push(committed));
    try {
      await client.v1.usage.ingest({ usage: [event(type, customer, `${type}-1`), event(type, 'unknown', `${type}-2`)] });
      await client.v1.usage.ingest({ usage: [event(type, customer, `${type}-1`)] });
    } finally {
      unsubscribe();
    }
    const acme = (await server.database.db.query<{ id: string }>("SELECT id FROM tenants WHERE name = 'acme'"))[0]!.id;
    // No billable metric counts this event type: the customer's new events matched none.
    expect(seen).toEqual([{ tenantId: acme, customerIds: [customer], metricIds: new Map([[customer, new Set()]]) }]);
  });

  it('counts accepted and duplicate events in /metrics, and ignores an Idempotency-Key', async () => {
    const metricsText = async () => (await (await fetch(`${server.baseURL}/metrics`)).text()).split('\n');
    const counter = (lines: string[], outcome: string) => Number(lines.find((line) => line.startsWith(`allot_ingest_events_total{outcome="${outcome}"}`))?.split(' ')[1]);
    const before = await metricsText();
    const type = eventType();
    const body = JSON.stringify([event(type, 'nobody', `${type}-1`), event(type, 'nobody', `${type}-2`)]);
    expect((await send(body, { 'idempotency-key': 'k1' })).status).toBe(200);
    expect((await send(body, { 'idempotency-key': 'k1' })).headers.get('idempotent-replayed')).toBeNull();
    const after = await metricsText();
    expect(counter(after, 'accepted') - counter(before, 'accepted')).toBe(2);
    expect(counter(after, 'duplicate') - counter(before, 'duplicate')).toBe(2);
    expect(after.some((line) => line.startsWith('allot_ingest_batch_commit_duration_seconds_count'))).toBe(true);
    expect(after.some((line) => line.startsWith('allot_ingest_batch_events_bucket'))).toBe(true);
  });

  it('is described in /openapi.json: an array of events, without Idempotency-Key', async () => {
    const openapi = (await (await fetch(`${server.baseURL}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { parameters?: Array<{ name: string }>; requestBody?: { content: Record<string, { schema: { type: string; maxItems: number; items: { required: string[] } } }> } } }>;
    };
    const ingest = openapi.paths['/v1/ingest']!.post!;
    const body = ingest.requestBody!.content['application/json']!.schema;
    expect([body.type, body.maxItems, [...body.items.required].sort()]).toEqual(['array', 100, ['customer_id', 'event_type', 'timestamp', 'transaction_id']]);
    expect((ingest.parameters ?? []).map((parameter) => parameter.name)).not.toContain('idempotency-key');
    expect((openapi.paths['/v1/customers']!.post!.parameters ?? []).map((parameter) => parameter.name)).toContain('idempotency-key');
  });

  it('counts once when a client retries after a timeout', async () => {
    const type = eventType();
    const metric = await countMetric(type);
    const customer = (await client.v1.customers.create({ name: 'Retried' })).data.id;
    const usage = [event(type, customer, `${type}-1`), event(type, customer, `${type}-2`)];
    // A timeout so short that the SDK gives up (and retries) while the server may still be committing.
    const impatient = new Metronome({ bearerToken: server.key, baseURL: server.baseURL, timeout: 1, maxRetries: 3, fetch: ownConnectionFetch });
    await impatient.v1.usage.ingest({ usage }).catch(() => undefined);
    await client.v1.usage.ingest({ usage });
    await client.v1.usage.ingest({ usage });
    expect(await totalCount(metric)).toBe(2);
    expect((await storedEvents(usage.map((each) => each.transaction_id))).length).toBe(2);
  });
});

describe('POST /v1/ingest under concurrency on PostgreSQL', () => {
  let server: TestServer;
  let client: Metronome;

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: NOW });
    client = server.client();
  });
  afterAll(() => server.stop());

  const count = async (sql: string, params: unknown[]) => Number((await server.database.db.query<{ n: string }>(sql, params))[0]!.n);
  const totalRollupCount = (metric: string) =>
    count("SELECT coalesce(sum(event_count), 0)::text AS n FROM usage_rollups WHERE metric_id = $1 AND group_key = '[]'", [metric]);
  const countMetric = async (type: string) =>
    (await client.v1.billableMetrics.create({ name: `count ${type}`, aggregation_type: 'COUNT', event_type_filter: { in_values: [type] } })).data.id;
  const usageOf = (type: string, customer: string, ids: string[]) =>
    ids.map((id) => ({ transaction_id: id, customer_id: customer, event_type: type, timestamp: '2024-05-10T10:00:00Z', properties: { n: 1 } }));

  it('stores and counts once 20 copies of a call sent at once over 20 connections', async () => {
    const metric = await countMetric('parallel');
    const customer = (await client.v1.customers.create({ name: 'Parallel' })).data.id;
    const usage = usageOf('parallel', customer, Array.from({ length: 50 }, (_, i) => `parallel-${i}`));
    const clients = Array.from({ length: 20 }, () => new Metronome({ bearerToken: server.key, baseURL: server.baseURL, maxRetries: 0, fetch: ownConnectionFetch }));
    await Promise.all(clients.map((each, i) => each.v1.usage.ingest({ usage: i % 2 ? usage : [...usage].reverse() })));
    expect(await count("SELECT count(*)::text AS n FROM events WHERE transaction_id LIKE 'parallel-%'", [])).toBe(50);
    expect(await totalRollupCount(metric)).toBe(50);
  });

  it('stores and counts once the same calls sent at once to two server processes on one database', async () => {
    const second = await startServe(['--port', '0', '--test-clock', NOW], { DATABASE_URL: server.database.url!, LOG_LEVEL: 'silent' });
    try {
      const secondUrl = /is listening on (\S+)/.exec(second.output())![1]!;
      const metric = await countMetric('two');
      const customer = (await client.v1.customers.create({ name: 'Two servers' })).data.id;
      const usage = usageOf('two', customer, Array.from({ length: 100 }, (_, i) => `two-${i}`));
      const clients = Array.from(
        { length: 20 },
        (_, i) => new Metronome({ bearerToken: server.key, baseURL: i % 2 ? secondUrl : server.baseURL, maxRetries: 0, fetch: ownConnectionFetch }),
      );
      // Overlapping windows of the same ids, in different orders, from both processes at once.
      await Promise.all(clients.map((each, i) => each.v1.usage.ingest({ usage: i % 3 ? usage.slice(i % 4 * 10, 60 + (i % 4) * 10) : [...usage].reverse() })));
      expect(await count("SELECT count(*)::text AS n FROM events WHERE transaction_id LIKE 'two-%'", [])).toBe(100);
      expect(await totalRollupCount(metric)).toBe(100);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('counts every event exactly once when a metric is created while events arrive', async () => {
    const customer = (await client.v1.customers.create({ name: 'Racing' })).data.id;
    const calls = Array.from({ length: 30 }, (_, call) => usageOf('racing', customer, Array.from({ length: 20 }, (_, i) => `racing-${call}-${i}`)));
    const clients = Array.from({ length: 10 }, () => new Metronome({ bearerToken: server.key, baseURL: server.baseURL, maxRetries: 0, fetch: ownConnectionFetch }));
    const ingesting = Promise.all(calls.map((usage, i) => clients[i % clients.length]!.v1.usage.ingest({ usage })));
    const metric = await countMetric('racing');
    await ingesting;
    expect(await totalRollupCount(metric)).toBe(600);
  });
});
