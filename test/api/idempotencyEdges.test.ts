import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as customers from '../../src/modules/customers/service.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Routes that misbehave on purpose, to pin what an idempotent request does when a handler does
 * not answer the usual way. Each creates a customer through the real service first.
 */
describe.each(ENGINES)('idempotent requests whose handler misbehaves, on %s', (engine) => {
  let server: TestServer;
  let created = false;
  let releaseHang: () => void = () => {};

  beforeAll(async () => {
    server = await startTestServer({
      engine,
      register(app) {
        app.post('/test/hang', async (request) => {
          await customers.createCustomer(request.context, { tenantId: request.auth.tenantId, customer: { name: 'Hung' } });
          created = true;
          await new Promise<void>((resolve) => (releaseHang = resolve));
          return { late: true };
        });
        app.post('/test/stream', async (request, reply) => {
          await customers.createCustomer(request.context, { tenantId: request.auth.tenantId, customer: { name: 'Streamed' } });
          return reply.type('application/json').send(Readable.from(['{"streamed":true}']));
        });
      },
    });
  });
  afterEach(() => releaseHang());
  afterAll(() => server.stop());

  const post = (path: string, key: string, signal?: AbortSignal) =>
    fetch(`${server.baseURL}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: '{}',
      ...(signal ? { signal } : {}),
    });

  it('rolls back, and frees the database, when the client leaves a request that never answers', async () => {
    const abort = new AbortController();
    const pending = post('/test/hang', 'hang-1', abort.signal).catch(() => 'aborted');
    await waitFor(async () => created, { what: 'the handler to create its customer' });
    abort.abort();
    expect(await pending).toBe('aborted');
    // On PGlite an open transaction would stall this query forever; on PostgreSQL it would hold a lock.
    await waitFor(async () => (await server.client().v1.customers.list()).data.length === 0, { what: 'the rollback' });
    // The key was not kept: a retry runs afresh.
    releaseHang();
    created = false;
    const retry = post('/test/hang', 'hang-1');
    await waitFor(async () => created, { what: 'the retry to run' });
    releaseHang();
    expect((await retry).status).toBe(200);
    expect((await server.client().v1.customers.list()).data.map((c) => c.name)).toEqual(['Hung']);
  });

  it('answers 500 and keeps nothing when a keyed success cannot be stored (a streamed body)', async () => {
    const response = await post('/test/stream', 'stream-1');
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
    const names = (await server.client().v1.customers.list()).data.map((c) => c.name);
    expect(names).not.toContain('Streamed');
  });
});
