import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.each(ENGINES)('API keys and tenant isolation on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(() => server.stop());

  it('answers 401 without a key, with an unknown key, and with a malformed header', async () => {
    await expect(server.client('allot_not-a-real-key').v1.customers.list()).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining('Invalid or revoked API key'),
    });
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'Missing API key'],
      [{ 'x-api-key': server.key }, 'Missing API key'],
      [{ authorization: `Basic ${server.key}` }, 'must use the Bearer scheme'],
      [{ authorization: 'Bearer' }, 'must use the Bearer scheme'],
    ];
    for (const [headers, message] of cases) {
      const response = await fetch(`${server.baseURL}/v1/customers`, { headers });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { message: string };
      expect(body.message).toContain(message);
      expect(body.message).toContain('Authorization: Bearer <api key>');
    }
  });

  it("hides one tenant's customers from another tenant's key (404, not 403)", async () => {
    const acme = server.client();
    const globex = server.client(await server.keyFor('globex'));
    const secret = await acme.v1.customers.create({ name: 'Acme only', ingest_aliases: ['shared-name'] });

    await expect(globex.v1.customers.retrieve({ customer_id: secret.data.id })).rejects.toMatchObject({ status: 404 });
    await expect(globex.v1.customers.archive({ id: secret.data.id })).rejects.toMatchObject({ status: 404 });
    await expect(globex.v1.customers.setName({ customer_id: secret.data.id, name: 'stolen' })).rejects.toMatchObject({ status: 404 });
    await expect(globex.v1.customers.setIngestAliases({ customer_id: secret.data.id, ingest_aliases: [] })).rejects.toMatchObject({ status: 404 });
    expect((await globex.v1.customers.list()).data).toEqual([]);
    expect((await globex.v1.customers.list({ customer_ids: [secret.data.id] })).data).toEqual([]);

    // Aliases are unique per tenant, not across tenants.
    const own = await globex.v1.customers.create({ name: 'Globex', ingest_aliases: ['shared-name'] });
    expect(own.data.ingest_aliases).toEqual(['shared-name']);
    expect((await acme.v1.customers.retrieve({ customer_id: secret.data.id })).data.name).toBe('Acme only');
  });

  it('creates, lists and revokes keys over HTTP; a revoked key stops working', async () => {
    const post = (path: string, body: unknown, key = server.key) =>
      fetch(`${server.baseURL}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const created = await post('/v1/allot/api-keys/create', { name: 'ci' });
    expect(created.status).toBe(200);
    const { data } = (await created.json()) as { data: { id: string; key: string; key_prefix: string; name: string } };
    expect(data.key).toMatch(/^allot_/);
    expect(data.key.startsWith(data.key_prefix)).toBe(true);
    expect((await server.client(data.key).v1.customers.list()).data).toBeInstanceOf(Array);

    const list = async (query: string) => {
      const response = await fetch(`${server.baseURL}/v1/allot/api-keys${query}`, { headers: { authorization: `Bearer ${server.key}` } });
      return { status: response.status, body: (await response.json()) as { data: Array<{ id: string; name: string }>; next_page: string | null; message?: string } };
    };
    const all = await list('');
    expect(all.body.data.map((k) => k.name)).toEqual(['test', 'ci']);
    expect(JSON.stringify(all.body)).not.toContain(data.key);
    const first = await list('?limit=1');
    expect(first.body.data.map((k) => k.name)).toEqual(['test']);
    const second = await list(`?limit=1&next_page=${first.body.next_page}`);
    expect(second.body).toEqual({ data: [expect.objectContaining({ name: 'ci' })], next_page: null });
    for (const [query, field] of [['?limit=0', 'limit'], ['?next_page=garbage', 'next_page'], ['?foo=1', 'foo']]) {
      const bad = await list(query!);
      expect(bad.status, query).toBe(400);
      expect(bad.body.message, query).toMatch(new RegExp(`^${field}: `));
    }

    // Every field of create is optional: no body at all is fine.
    const bare = await fetch(`${server.baseURL}/v1/allot/api-keys/create`, { method: 'POST', headers: { authorization: `Bearer ${server.key}` } });
    expect(bare.status).toBe(200);
    expect(((await bare.json()) as { data: { name: string } }).data.name).toBe('api key');

    const revoked = await post('/v1/allot/api-keys/revoke', { id: data.id });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { data: { revoked_at: string | null } }).data.revoked_at).toBeTruthy();
    await expect(server.client(data.key).v1.customers.list()).rejects.toMatchObject({ status: 401 });

    // Revoking again, or another tenant's key, is a 404; a bad body is a 400 naming the field.
    expect((await post('/v1/allot/api-keys/revoke', { id: data.id })).status).toBe(404);
    const otherTenantKey = await post('/v1/allot/api-keys/create', {}, await server.keyFor('initech'));
    const otherId = ((await otherTenantKey.json()) as { data: { id: string } }).data.id;
    expect((await post('/v1/allot/api-keys/revoke', { id: otherId })).status).toBe(404);
    // The tenant's last live key cannot be revoked: that would lock the tenant out.
    const lonely = await server.keyFor('hooli');
    const lonelyKeys = await fetch(`${server.baseURL}/v1/allot/api-keys`, { headers: { authorization: `Bearer ${lonely}` } });
    const lonelyId = ((await lonelyKeys.json()) as { data: Array<{ id: string }> }).data[0]!.id;
    const refused = await post('/v1/allot/api-keys/revoke', { id: lonelyId }, lonely);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { message: string }).message).toContain('last live key');
    expect((await server.client(lonely).v1.customers.list()).data).toEqual([]);

    const bad = await post('/v1/allot/api-keys/create', { name: 42 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^name: /);
  });
});
