import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const NOW = '2024-05-10T12:00:00Z';
type Usage = Metronome.V1.UsageIngestParams.Usage;
type ErrorBody = { message: string; errors: Array<{ field: string; message: string }> };

/** The number bound of rule 12, through HTTP: every number usage counts is within 10^15, 30 significant digits and 30 decimal places. */
describe.each(ENGINES)('POST /v1/ingest number bound on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let sequence = 0;
  const eventType = () => `bound_${++sequence}`;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: NOW });
    client = server.client();
  });
  afterAll(() => server.stop());

  const query = <Row>(sql: string, params: unknown[] = []) => server.database.db.query<Row>(sql, params);
  const stored = async (type: string) =>
    (await query<{ transaction_id: string; properties: Record<string, unknown> }>('SELECT transaction_id, properties FROM events WHERE event_type = $1 ORDER BY transaction_id', [type])).map(
      (row) => [row.transaction_id, row.properties],
    );
  const event = (type: string, customer: string, transactionId: string, properties: Record<string, unknown>): Usage => ({
    transaction_id: transactionId,
    customer_id: customer,
    event_type: type,
    timestamp: '2024-05-10T10:15:00Z',
    properties,
  });
  /** Sends the events with `"NUMBER:<literal>"` strings replaced by the bare literal, as a client writing JSON by hand would send it. */
  const send = (events: Usage[]) =>
    fetch(`${server.baseURL}/v1/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(events).replace(/"NUMBER:([^"]*)"/g, '$1'),
    });
  const refused = async (events: Usage[]) => {
    const response = await send(events);
    expect(response.status).toBe(400);
    return (await response.json()) as ErrorBody;
  };
  const sumMetric = async (type: string, key = 'tokens') =>
    (
      await client.v1.billableMetrics.create({
        name: `sum ${type} ${key}`,
        aggregation_type: 'SUM',
        aggregation_key: key,
        event_type_filter: { in_values: [type] },
        property_filters: [
          { name: key, exists: true },
          { name: 'user_id', exists: true },
        ],
        group_keys: [['user_id']],
      })
    ).data.id;
  const window = { starting_on: '2024-05-10T00:00:00Z', ending_before: '2024-05-11T00:00:00Z', window_size: 'DAY' as const };
  const usageOf = async (customer: string, metric: string) => {
    const items: Metronome.V1.UsageListResponse[] = [];
    for await (const item of client.v1.usage.list({ ...window, customer_ids: [customer], billable_metrics: [{ id: metric }] })) items.push(item);
    return items.map((item) => item.value);
  };

  it('refuses a JSON number beyond the bound, at any depth, naming the field, and stores nothing', async () => {
    const type = eventType();
    const customer = (await client.v1.customers.create({ name: 'Too big' })).data.id;
    await sumMetric(type);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['1e400', { tokens: 'NUMBER:1e400' }, '0.properties.tokens'],
      ['-1e400', { tokens: 'NUMBER:-1e400' }, '0.properties.tokens'],
      ['1e308', { tokens: 'NUMBER:1e308' }, '0.properties.tokens'],
      ['1e16', { tokens: 'NUMBER:1e16' }, '0.properties.tokens'],
      ['10000000000000000', { tokens: 'NUMBER:10000000000000000' }, '0.properties.tokens'],
      ['1000000000000000.5', { tokens: 'NUMBER:1000000000000000.5' }, '0.properties.tokens'],
      ['31 significant digits', { tokens: 'NUMBER:12345678901234.12345678901234567' }, '0.properties.tokens'],
      ['31 decimal places', { tokens: 'NUMBER:1e-31' }, '0.properties.tokens'],
      ['nested', { tokens: 1, meta: { sizes: [1, 'NUMBER:1e400'] } }, '0.properties.meta.sizes.1'],
    ];
    for (const [name, properties, field] of cases) {
      const body = await refused([event(type, customer, `${type}-${name}`, properties)]);
      expect(body.errors, name).toEqual([{ field, message: 'must be at most 10^15 either side of 0, with at most 30 significant digits and 30 decimal places' }]);
    }
    expect(await stored(type)).toEqual([]);
    // A number in place of an identifier is refused as a number, however many digits it has.
    const identifier = await refused([{ ...event(type, customer, 'x', {}), transaction_id: 'NUMBER:12345678901234567890' }]);
    expect(identifier.errors).toEqual([{ field: '0.transaction_id', message: 'Invalid input: expected string, received number' }]);
  });

  it('takes numbers up to the bound, and counts them exactly', async () => {
    const type = eventType();
    const customer = (await client.v1.customers.create({ name: 'At the bound' })).data.id;
    const metric = await sumMetric(type);
    const events = [
      event(type, customer, `${type}-a`, { tokens: 'NUMBER:1e15', user_id: 'u1' }),
      event(type, customer, `${type}-b`, { tokens: 'NUMBER:1000000000000000', user_id: 'u1' }),
      event(type, customer, `${type}-c`, { tokens: 'NUMBER:-1e15', user_id: 'u1' }),
      event(type, customer, `${type}-d`, { tokens: 'NUMBER:123456789012345.123456789012345', user_id: 'u2' }),
      event(type, customer, `${type}-e`, { tokens: '1e-30', user_id: 'u2' }),
    ];
    expect((await send(events)).status).toBe(200);
    expect(await stored(type)).toEqual([
      [`${type}-a`, { tokens: 1e15, user_id: 'u1' }],
      [`${type}-b`, { tokens: 1e15, user_id: 'u1' }],
      [`${type}-c`, { tokens: -1e15, user_id: 'u1' }],
      [`${type}-d`, { tokens: '123456789012345.123456789012345', user_id: 'u2' }],
      [`${type}-e`, { tokens: '1e-30', user_id: 'u2' }],
    ]);
    const [row] = await query<{ value_sum: string }>(`SELECT value_sum::text FROM usage_rollups WHERE metric_id = $1 AND group_key = '[]'`, [metric]);
    expect(row!.value_sum).toBe('1123456789012345.123456789012345000000000000001');
    expect(await usageOf(customer, metric)).toEqual([1123456789012345.1]);
  });

  it('names every offending event of a call', async () => {
    const type = eventType();
    const customer = (await client.v1.customers.create({ name: 'Two bad' })).data.id;
    await sumMetric(type);
    const body = await refused([
      event(type, customer, `${type}-0`, { tokens: 'NUMBER:1e400', user_id: 'u1' }),
      event(type, customer, `${type}-1`, { tokens: 5, user_id: 'u1' }),
      event(type, customer, `${type}-2`, { tokens: 'NUMBER:1e16', user_id: 'u1', size: 'NUMBER:-1e17' }),
    ]);
    expect(body.errors.map((error) => error.field)).toEqual(['0.properties.tokens', '2.properties.tokens', '2.properties.size']);
    expect(body.message).toMatch(/^0\.properties\.tokens: must be at most 10\^15 .*; 2\.properties\.tokens: .*; 2\.properties\.size: /);
    expect(await stored(type)).toEqual([]);
  });

  it('refuses a string beyond the bound where a metric reads it as a number, and takes it as text anywhere else', async () => {
    const type = eventType();
    const other = eventType();
    const customer = (await client.v1.customers.create({ name: 'Strings' })).data.id;
    const metric = await sumMetric(type);
    const body = await refused([
      event(type, customer, `${type}-0`, { tokens: '1e400', user_id: 'u1' }),
      event(type, customer, `${type}-1`, { tokens: '7', user_id: 'u1' }),
      event(type, customer, `${type}-2`, { tokens: '12345678901234567890', user_id: 'u1' }),
    ]);
    expect(body.errors).toEqual([
      { field: '0.properties.tokens', message: `is read as a number by billable metric ${metric} (SUM), and must be at most 10^15 either side of 0, with at most 30 significant digits and 30 decimal places` },
      { field: '2.properties.tokens', message: expect.stringMatching(/^is read as a number by billable metric/) },
    ]);
    expect(await stored(type)).toEqual([]);

    // Text no metric reads as a number: ids of any length, "abc", the same "1e400" in another property or of another event type.
    const accepted = [
      event(type, customer, `${type}-3`, { tokens: '7', user_id: '123456789012345678901234567890123', note: '1e400', ref: 'abc' }),
      event(type, customer, `${type}-4`, { tokens: 'n/a', user_id: 'u1' }),
      event(other, customer, `${other}-5`, { tokens: '1e400', user_id: 'u1' }),
    ];
    expect((await send(accepted)).status).toBe(200);
    expect((await stored(type)).map(([id]) => id)).toEqual([`${type}-3`, `${type}-4`]);
    expect(await usageOf(customer, metric)).toEqual([7]);

    // A metric created later does not count a stored value beyond the bound; the rest of its events it does.
    const later = await sumMetric(other);
    await client.v1.usage.ingest({ usage: [event(other, customer, `${other}-6`, { tokens: '2', user_id: 'u1' })] });
    expect(await usageOf(customer, later)).toEqual([2]);
  });

  it('answers usage queries after a refused call, tenant-wide, per customer and per group', async () => {
    const type = eventType();
    const customer = (await client.v1.customers.create({ name: 'Still answers' })).data.id;
    const metric = await sumMetric(type);
    await refused([event(type, customer, `${type}-0`, { tokens: 'NUMBER:1e400', user_id: 'u1' })]);
    await refused([event(type, customer, `${type}-1`, { tokens: '1e400', user_id: 'u1' })]);
    expect((await send([event(type, customer, `${type}-2`, { tokens: 'NUMBER:1e15', user_id: 'u1' }), event(type, customer, `${type}-3`, { tokens: 3, user_id: 'u2' })])).status).toBe(200);

    const everyone: Metronome.V1.UsageListResponse[] = [];
    for await (const item of client.v1.usage.list(window)) everyone.push(item);
    expect(everyone.find((item) => item.customer_id === customer && item.billable_metric_id === metric)?.value).toBe(1000000000000003);
    expect(everyone.every((item) => item.value === null || Number.isFinite(item.value))).toBe(true);
    expect(await usageOf(customer, metric)).toEqual([1000000000000003]);
    const groups: Metronome.V1.UsageListWithGroupsResponse[] = [];
    for await (const item of client.v1.usage.listWithGroups({ ...window, customer_id: customer, billable_metric_id: metric, group_key: ['user_id'] })) groups.push(item);
    expect(groups.map((item) => [item.group_value, item.value])).toEqual([
      ['u1', 1e15],
      ['u2', 3],
    ]);

    // A rollup beyond what a JSON number holds (stored before the bound existed) is a clear 422, never a 500 or a null.
    await query(`UPDATE usage_rollups SET value_sum = ('1' || repeat('0', 400))::numeric WHERE metric_id = $1 AND group_key = '[]'`, [metric]);
    const response = await fetch(`${server.baseURL}/v1/usage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...window, customer_ids: [customer] }),
    });
    expect([response.status, ((await response.json()) as ErrorBody).message]).toEqual([
      422,
      'An amount of this answer (1e+400) is beyond what a JSON number holds (about 1.8e308), so it cannot be sent',
    ]);
  });
});
