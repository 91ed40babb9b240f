import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.each(ENGINES)('HTTP conventions on %s', (engine) => {
  let server: TestServer;
  const send = (path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(`${server.baseURL}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${server.key}`,
        ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
      ...(init.json !== undefined ? { body: JSON.stringify(init.json), method: init.method ?? 'POST' } : {}),
    });

  beforeAll(async () => {
    server = await startTestServer({ engine, bodyLimit: 4096 });
  });
  afterAll(() => server.stop());

  it('rejects bad bodies with a 400 that names each field', async () => {
    const client = server.client();
    await expect(client.v1.customers.create({} as never)).rejects.toMatchObject({ status: 400, error: { message: 'name: is required' } });
    await expect(client.v1.customers.create({ name: '   ' })).rejects.toMatchObject({ status: 400, error: { message: 'name: must not be empty' } });
    await expect(client.v1.customers.create({ name: 'a', ingest_aliases: ['ok', ''] })).rejects.toMatchObject({
      status: 400,
      error: { message: 'ingest_aliases.1: must not be empty' },
    });
    await expect(client.v1.customers.create({ name: 'a', custom_fields: { plan: 3 } } as never)).rejects.toMatchObject({
      status: 400,
      error: { message: expect.stringMatching(/^custom_fields\.plan: /) },
    });

    const unsupported = await send('/v1/customers', {
      json: { name: 'a', billing_config: { billing_provider_type: 'stripe' } },
    });
    expect(unsupported.status).toBe(400);
    expect(await unsupported.json()).toEqual({
      message: 'billing_config: is not a field Allot supports',
      errors: [{ field: 'billing_config', message: 'is not a field Allot supports' }],
    });
  });

  it('reads a POST with no body as {} where every field is optional, and names the fields a body must have elsewhere', async () => {
    const list = await send('/v1/contract-pricing/products/list', { method: 'POST' });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ data: [], next_page: null });
    const create = await send('/v1/customers', { method: 'POST' });
    expect(create.status).toBe(400);
    expect(((await create.json()) as { message: string }).message).toMatch(/^body: /);
  });

  it('rejects bad query parameters with a 400 naming them', async () => {
    const cases: Array<[string, RegExp]> = [
      ['limit=0', /^limit: /],
      ['limit=abc', /^limit: /],
      ['next_page=garbage', /^next_page: /],
      ['customer_ids=abc', /^customer_ids\.0: is not a customer id/],
      ['only_archived=yes', /^only_archived: /],
      ['salesforce_account_ids=1', /^salesforce_account_ids: is not a field Allot supports/],
    ];
    for (const [query, message] of cases) {
      const response = await send(`/v1/customers?${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { message: string }).message, query).toMatch(message);
    }
  });

  it('answers malformed JSON with 400, a non-JSON body with 415, and a body over the limit with 413', async () => {
    const malformed = await send('/v1/customers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ message: expect.stringContaining('not valid JSON') });

    const text = await send('/v1/customers', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'name=a' });
    expect(text.status).toBe(415);
    expect(await text.json()).toEqual({ message: 'Send the body as JSON, with the header Content-Type: application/json' });
    const gzipped = await send('/v1/customers', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: '{}' });
    expect(gzipped.status).toBe(415);
    expect(((await gzipped.json()) as { message: string }).message).toContain('Content-Encoding gzip is not supported');

    const large = await send('/v1/customers', { json: { name: 'x'.repeat(5000) } });
    expect(large.status).toBe(413);
    expect(await large.json()).toEqual({ message: 'Request body is larger than the limit of 4096 bytes' });
    expect((await server.client().v1.customers.list()).data).toEqual([]);
  });

  it('answers an over-long path segment with a JSON 414 that does not echo it', async () => {
    const response = await send(`/v1/customers/${'a'.repeat(5000)}`);
    expect(response.status).toBe(414);
    expect(await response.json()).toEqual({ message: 'A path segment is too long (at most 100 characters)' });
  });

  it('answers an unknown route with a JSON 404, with or without a key', async () => {
    for (const headers of [{}, { authorization: `Bearer ${server.key}` }] as Array<Record<string, string>>) {
      const response = await fetch(`${server.baseURL}/v1/no-such-thing?x=1`, { headers });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: 'No route GET /v1/no-such-thing' });
    }
  });

  it('serves /healthz, /metrics and /openapi.json without a key', async () => {
    const health = await fetch(`${server.baseURL}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', database: engine });

    await server.client().v1.customers.list();
    const metrics = await (await fetch(`${server.baseURL}/metrics`)).text();
    expect(metrics).toMatch(/allot_http_request_duration_seconds_count\{method="GET",route="\/v1\/customers",status_code="200"\} [1-9]/);
    expect(metrics).toContain('allot_process_cpu_seconds_total');

    const openapi = (await (await fetch(`${server.baseURL}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>;
    };
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/customers', '/v1/customers/{customer_id}', '/v1/customers/archive', '/v1/allot/api-keys/create']),
    );
    expect(openapi.paths['/v1/customers']!.post!.requestBody!.content['application/json']!.schema.required).toEqual(['name']);
    const create = openapi.paths['/v1/customers']!.post! as unknown as {
      parameters: Array<{ in: string; name: string }>;
      responses: Record<string, unknown>;
    };
    expect(create.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'idempotency-key' })]));
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['200', '4XX', '5XX']));
    // A route that refuses the header does not advertise it.
    const keyCreate = openapi.paths['/v1/allot/api-keys/create']!.post! as unknown as { parameters?: Array<{ name: string }> };
    expect((keyCreate.parameters ?? []).map((p) => p.name)).not.toContain('idempotency-key');
  });

  it('has no test-clock route unless the server runs in test-clock mode', async () => {
    const response = await send('/v1/allot/test-clock/advance', { json: { to: '2030-01-01T00:00:00Z' } });
    expect(response.status).toBe(404);
  });
});

describe('the test clock', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine: 'pglite', clockStart: '2024-01-31T00:00:00Z' });
  });
  afterAll(() => server.stop());


  it('stays frozen, moves forward on request, and is what services read', async () => {
    const client = server.client();
    const before = await client.v1.customers.create({ name: 'Before' });
    expect((await client.v1.customers.retrieve({ customer_id: before.data.id })).data.created_at).toBe('2024-01-31T00:00:00.000Z');

    const moved = await server.advanceClock('2024-02-29T12:00:00+02:00');
    expect(await moved.json()).toEqual({ data: { now: '2024-02-29T10:00:00.000Z' } });
    const after = await client.v1.customers.create({ name: 'After' });
    expect((await client.v1.customers.retrieve({ customer_id: after.data.id })).data.created_at).toBe('2024-02-29T10:00:00.000Z');
    const now = await fetch(`${server.baseURL}/v1/allot/test-clock`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(await now.json()).toEqual({ data: { now: '2024-02-29T10:00:00.000Z' } });
  });

  it('refuses to move backward or to an instant without an offset', async () => {
    const backward = await server.advanceClock('2024-01-01T00:00:00Z');
    expect(backward.status).toBe(400);
    expect(((await backward.json()) as { message: string }).message).toMatch(/^to: must not be before/);
    for (const bad of ['2024-03-01T00:00:00', 'tomorrow', 12]) {
      const response = await server.advanceClock(bad);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(/^to: /);
    }
  });
});

describe('when the database is unreachable', () => {
  it('answers 503 (the request was not applied), and /healthz says so', async () => {
    const { openPostgres } = await import('../../src/lib/db/postgres.js');
    const { buildServer } = await import('../../src/app.js');
    const { systemClock } = await import('../../src/lib/clock.js');
    const db = openPostgres({ url: 'postgres://postgres@127.0.0.1:1/nowhere', poolSize: 1 });
    const app = await buildServer({ db, clock: systemClock });
    const baseURL = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(`${baseURL}/v1/customers`, { headers: { authorization: 'Bearer allot_whatever' } });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { message: string }).message).toMatch(/database is unavailable/);
      const health = await fetch(`${baseURL}/healthz`);
      expect(health.status).toBe(503);
    } finally {
      await app.close();
      await db.close();
    }
  });
});
