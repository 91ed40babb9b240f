import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Metronome from '@metronome/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { App } from '../../src/http/types.js';
import { openPostgres } from '../../src/lib/db/postgres.js';
import { signWebhook } from '../../src/modules/webhooks/compute/signature.js';
import { enqueueWebhookEvent, signalOutboxWritten } from '../../src/modules/webhooks/service.js';
import { startWebhookDelivery } from '../../src/modules/webhooks/worker.js';
import { ENGINES } from '../helpers/database.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

interface Endpoint {
  id: string;
  url: string;
  secret: string;
  event_types: string[] | null;
  description: string | null;
  created_at: string;
  archived_at: string | null;
}

interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempt_count: number;
  max_attempts: number;
  next_attempt_at: string | null;
  created_at: string;
  finished_at: string | null;
  failure_reason: string | null;
  body: string;
  attempts: Array<{ attempt: number; started_at: string; duration_ms: number; status_code: number | null; error: string | null }>;
}

/**
 * A route only these tests have: writes an event to the outbox in a transaction of its own, as
 * another module does, and signals the worker once it has committed.
 */
function registerOutboxRoute(app: App): void {
  app.post(
    '/test/outbox',
    { schema: { body: z.object({ type: z.string(), fields: z.record(z.string(), z.unknown()), dedupe_key: z.string().optional() }) } },
    async (request) => {
      const ctx = request.context;
      const tenantId = request.auth.tenantId;
      const id = await ctx.db.transaction((tx) =>
        enqueueWebhookEvent(tx, { tenantId, type: request.body.type, fields: request.body.fields, dedupeKey: request.body.dedupe_key, at: ctx.clock.now() }),
      );
      signalOutboxWritten(ctx, tenantId);
      return { id: id ?? null };
    },
  );
}

/** The calls of these tests, through the SDK's own HTTP client (Allot's webhook routes have no SDK method). */
function webhooksApi(client: Metronome) {
  return {
    create: (body: Record<string, unknown>) => client.post<{ data: Endpoint }>('/v1/allot/webhooks', { body }).then((r) => r.data),
    retrieve: (id: string) => client.get<{ data: Endpoint }>(`/v1/allot/webhooks/${id}`).then((r) => r.data),
    list: (query: Record<string, unknown> = {}) => client.get<{ data: Endpoint[]; next_page: string | null }>('/v1/allot/webhooks', { query }),
    archive: (id: string) => client.post<{ data: Endpoint }>(`/v1/allot/webhooks/${id}/archive`).then((r) => r.data),
    deliveries: (id: string, query: Record<string, unknown> = {}) =>
      client.get<{ data: Delivery[]; next_page: string | null }>(`/v1/allot/webhooks/${id}/deliveries`, { query }),
    retry: (id: string, deliveryId: string) => client.post<{ data: Delivery }>(`/v1/allot/webhooks/${id}/deliveries/${deliveryId}/retry`).then((r) => r.data),
    enqueue: (body: { type: string; fields: Record<string, unknown>; dedupe_key?: string }) =>
      client.post<{ id: string | null }>('/test/outbox', { body }).then((r) => r.id),
  };
}

type Api = ReturnType<typeof webhooksApi>;

async function onlyDelivery(api: Api, endpointId: string): Promise<Delivery> {
  const { data } = await api.deliveries(endpointId);
  expect(data).toHaveLength(1);
  return data[0]!;
}

async function waitForDelivery(api: Api, endpointId: string, status: Delivery['status']): Promise<Delivery> {
  let found: Delivery | undefined;
  await waitFor(
    async () => {
      found = (await api.deliveries(endpointId)).data[0];
      return found?.status === status;
    },
    { what: `a ${status} delivery` },
  );
  return found!;
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function requestsTo(receiver: Receiver, path: string) {
  return receiver.requests.filter((request) => request.path === path);
}

const FAST_RETRIES = { retryBaseMs: 10, retryMaxMs: 40, maxAttempts: 5, timeoutMs: 5_000 };

describe.each(ENGINES)('webhooks on %s', (engine) => {
  let server: TestServer;
  let receiver: Receiver;
  let tenants = 0;

  /** A tenant of its own for each test, so that no other test's endpoint receives its events. */
  async function freshTenant(): Promise<{ client: Metronome; api: Api }> {
    const client = server.client(await server.keyFor(`webhooks-${engine}-${++tenants}`));
    return { client, api: webhooksApi(client) };
  }

  beforeAll(async () => {
    receiver = await startReceiver();
    // A poll far longer than any test: deliveries happen because the outbox write or a retry woke the worker.
    server = await startTestServer({
      engine,
      clockStart: '2024-03-01T00:00:00Z',
      register: registerOutboxRoute,
      webhooks: { ...FAST_RETRIES, timeoutMs: 500, pollIntervalMs: 60_000 },
    });
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
  });

  it('lets a hanging endpoint hold at most half the delivery slots, so another endpoint’s webhook is not held up', async () => {
    const { api } = await freshTenant();
    const slow = await startReceiver();
    slow.setFallback('hang');
    try {
      await api.create({ url: `${slow.url}/slow`, event_types: ['contract.edit'] });
      await api.create({ url: `${receiver.url}/fast`, event_types: ['contract.create'] });
      for (let i = 0; i < 10; i++) await api.enqueue({ type: 'contract.edit', fields: { n: i } });
      await slow.waitForRequests(1);
      await api.enqueue({ type: 'contract.create', fields: {} });
      await waitFor(async () => requestsTo(receiver, '/hooks/fast').length === 1, { what: 'the fast endpoint’s webhook' });
      // Of the 8 slots, the hanging endpoint holds at most 4 at a time (its hanging requests time out
      // after 500 ms and others take their places, so only the concurrency is counted, not the total).
      expect(slow.peakHanging).toBeLessThanOrEqual(4);
    } finally {
      slow.release();
      await slow.close();
    }
  });

  it('registers, lists, retrieves and archives endpoints', async () => {
    const { api } = await freshTenant();
    const all = await api.create({ url: `${receiver.url}/all` });
    expect(all).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url: `${receiver.url}/all`,
      secret: expect.stringMatching(/^[0-9a-f]{64}$/),
      event_types: null,
      description: null,
      created_at: '2024-03-01T00:00:00.000Z',
      archived_at: null,
    });
    const some = await api.create({
      url: 'https://example.com/hooks',
      secret: 'a-secret-of-20-chars',
      event_types: ['contract.create', 'alerts.spend_threshold_reached', 'alerts.spend_threshold_resolved', 'contract.create'],
      description: 'billing alerts',
    });
    expect(some).toMatchObject({
      secret: 'a-secret-of-20-chars',
      event_types: ['contract.create', 'alerts.spend_threshold_reached', 'alerts.spend_threshold_resolved'],
      description: 'billing alerts',
    });
    await expect(api.retrieve(some.id)).resolves.toEqual(some);

    const first = await api.list({ limit: 1 });
    expect(first.data).toEqual([all]);
    expect(first.next_page).toBeTruthy();
    const second = await api.list({ limit: 1, next_page: first.next_page });
    expect(second).toEqual({ data: [some], next_page: null });

    const archived = await api.archive(all.id);
    expect(archived).toEqual({ ...all, archived_at: '2024-03-01T00:00:00.000Z' });
    await expect(api.archive(all.id)).resolves.toEqual(archived);
    expect((await api.list()).data.map((endpoint) => endpoint.id)).toEqual([some.id]);
    expect((await api.list({ include_archived: true })).data.map((endpoint) => endpoint.id)).toEqual([all.id, some.id]);

    // Another tenant sees none of them.
    const other = webhooksApi(server.client(await server.keyFor(`webhooks-${engine}-other`)));
    await expect(other.retrieve(some.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.list()).resolves.toEqual({ data: [], next_page: null });
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const { api } = await freshTenant();
    const refused = async (body: Record<string, unknown>, field: string) => {
      const error = await api.create(body).then(
        () => undefined,
        (e: unknown) => e as { status: number; error: { errors: Array<{ field: string }> } },
      );
      expect(error?.status).toBe(400);
      expect(error?.error.errors.map((e) => e.field)).toEqual([field]);
    };
    await refused({ url: 'ftp://example.com/hooks' }, 'url');
    await refused({ url: 'not a url' }, 'url');
    await refused({}, 'url');
    await refused({ url: receiver.url, secret: 'too-short' }, 'secret');
    await refused({ url: receiver.url, event_types: ['contract.create', 'contract.edit', 'contract.delete'] }, 'event_types.2');
    await refused({ url: receiver.url, event_types: [] }, 'event_types');
    await refused({ url: receiver.url, events: ['contract.create'] }, 'events');

    await expect(api.retrieve('not-an-id')).rejects.toMatchObject({ status: 400, message: expect.stringContaining('id: is not a webhook endpoint id') });
    await expect(api.retrieve('0190f1a0-0000-7000-8000-000000000000')).rejects.toMatchObject({ status: 404 });
    const endpoint = await api.create({ url: receiver.url });
    await expect(api.retry(endpoint.id, 'nope')).rejects.toMatchObject({ status: 400, message: expect.stringContaining('delivery_id') });
    await expect(api.retry(endpoint.id, '0190f1a0-0000-7000-8000-000000000000')).rejects.toMatchObject({ status: 404 });
    await expect(api.deliveries(endpoint.id, { status: 'lost' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('status') });
    await expect(api.deliveries(endpoint.id, { limit: 101 })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('limit') });
  });

  it('delivers an event written to the outbox, signed so that the SDK verifies it, to the endpoints that take its type', async () => {
    const { api, client } = await freshTenant();
    const all = await api.create({ url: `${receiver.url}/signed-all` });
    const segments = await api.create({ url: `${receiver.url}/signed-segments`, event_types: ['credit.segment.start'] });
    const before = receiver.requests.length;

    const eventId = await api.enqueue({ type: 'contract.create', fields: { properties: { contract_id: 'c-1', customer_name: 'Zoë 😀', amount: 12.5 } } });
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    await receiver.waitForRequests(before + 1);
    const [request] = requestsTo(receiver, '/hooks/signed-all');
    const expectedBody = JSON.stringify({ id: eventId, type: 'contract.create', properties: { contract_id: 'c-1', customer_name: 'Zoë 😀', amount: 12.5 } });
    expect(request!.body).toBe(expectedBody);
    expect(request!.method).toBe('POST');
    expect(request!.headers).toMatchObject({ 'content-type': 'application/json', 'user-agent': 'Allot' });
    expect(request!.headers['date']).toBe(request!.headers['x-metronome-date']);
    expect(client.webhooks.unwrap(request!.body, request!.headers, all.secret)).toEqual(JSON.parse(expectedBody));
    expect(() => client.webhooks.unwrap(request!.body, request!.headers, segments.secret)).toThrow(/signature does not match/);

    const delivered = await waitForDelivery(api, all.id, 'delivered');
    expect(delivered).toMatchObject({
      event_id: eventId,
      event_type: 'contract.create',
      attempt_count: 1,
      next_attempt_at: null,
      failure_reason: null,
      body: expectedBody,
      attempts: [{ attempt: 1, status_code: 200, error: null }],
    });
    expect(delivered.finished_at).not.toBeNull();
    // The endpoint for segment events got no delivery at all, so it can never be sent one.
    expect((await api.deliveries(segments.id)).data).toEqual([]);
    expect(requestsTo(receiver, '/hooks/signed-segments')).toEqual([]);

    // A repeated dedupe key writes nothing; a new one is one more delivery.
    const deduped = { type: 'credit.segment.start', fields: { properties: { segment_id: 's-1' } }, dedupe_key: 'segment-start-s-1' };
    const firstSegmentEvent = await api.enqueue(deduped);
    expect(firstSegmentEvent).toBeTruthy();
    await expect(api.enqueue(deduped)).resolves.toBeNull();
    await waitForDelivery(api, segments.id, 'delivered');
    expect((await api.deliveries(segments.id)).data.map((d) => d.event_id)).toEqual([firstSegmentEvent]);
    expect((await api.deliveries(all.id)).data.map((d) => d.event_id)).toEqual([firstSegmentEvent, eventId]);
  });

  it('retries 500s with backoff until a 2xx, records every attempt, and signs every attempt', async () => {
    const { api, client } = await freshTenant();
    const endpoint = await api.create({ url: `${receiver.url}/flaky` });
    receiver.answer(500, 500, 500);
    const eventId = await api.enqueue({ type: 'contract.edit', fields: { properties: { contract_id: 'c-2' } } });

    const delivered = await waitForDelivery(api, endpoint.id, 'delivered');
    expect(delivered.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, null],
      [2, 500, null],
      [3, 500, null],
      [4, 200, null],
    ]);
    expect(delivered).toMatchObject({ event_id: eventId, attempt_count: 4, max_attempts: 5 });
    const started = delivered.attempts.map((a) => Date.parse(a.started_at));
    expect(started).toEqual([...started].sort((a, b) => a - b));

    const received = requestsTo(receiver, '/hooks/flaky');
    expect(received.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    for (const request of received) expect(client.webhooks.unwrap(request.body, request.headers, endpoint.secret)).toMatchObject({ id: eventId });
    expect(await api.deliveries(endpoint.id, { status: 'delivered' })).toMatchObject({ data: [{ id: delivered.id }] });
    expect(await api.deliveries(endpoint.id, { status: 'pending' })).toEqual({ data: [], next_page: null });

    const { body, headers } = received[0]!;
    const tampered = body.replace('c-2', 'c-3');
    expect(() => client.webhooks.unwrap(tampered, headers, endpoint.secret)).toThrow(/signature does not match/);
    const staleDate = new Date(Date.now() - 6 * 60_000).toUTCString();
    const stale = { 'x-metronome-date': staleDate, 'metronome-webhook-signature': signWebhook({ secret: endpoint.secret, date: staleDate, body }) };
    expect(() => client.webhooks.unwrap(body, stale, endpoint.secret)).toThrow(/too old/);
  });

  it('fails a delivery after its last attempt, and a manual retry sends it again', async () => {
    const { api } = await freshTenant();
    const endpoint = await api.create({ url: `${receiver.url}/down` });
    receiver.answer(500, 502, 503, 404, 500);
    await api.enqueue({ type: 'contract.edit', fields: { properties: {} } });

    const failed = await waitForDelivery(api, endpoint.id, 'failed');
    expect(failed).toMatchObject({
      attempt_count: 5,
      max_attempts: 5,
      next_attempt_at: null,
      failure_reason: 'gave up after 5 attempts; the last answered 500',
    });
    expect(failed.attempts.map((a) => a.status_code)).toEqual([500, 502, 503, 404, 500]);

    const retried = await api.retry(endpoint.id, failed.id);
    expect(retried).toMatchObject({ id: failed.id, max_attempts: 10, finished_at: null, failure_reason: null });
    const delivered = await waitForDelivery(api, endpoint.id, 'delivered');
    expect(delivered.attempts.map((a) => a.status_code)).toEqual([500, 502, 503, 404, 500, 200]);
    expect(requestsTo(receiver, '/hooks/down')).toHaveLength(6);

    // A delivered one may be sent again too.
    await api.retry(endpoint.id, delivered.id);
    await waitFor(async () => (await onlyDelivery(api, endpoint.id)).attempt_count === 7 && (await onlyDelivery(api, endpoint.id)).status === 'delivered');
  });

  it('records a request that got no answer, and gives up after the last attempt', async () => {
    const { api } = await freshTenant();
    const endpoint = await api.create({ url: `http://127.0.0.1:${await closedPort()}/hooks` });
    await api.enqueue({ type: 'contract.create', fields: {} });
    const failed = await waitForDelivery(api, endpoint.id, 'failed');
    expect(failed.attempts).toHaveLength(5);
    expect(failed.attempts[0]).toMatchObject({ attempt: 1, status_code: null, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(failed.failure_reason).toMatch(/^gave up after 5 attempts; the last failed: connect ECONNREFUSED/);
  });

  it('fails pending deliveries when the endpoint is archived, and gives it no new ones', async () => {
    const { api } = await freshTenant();
    const endpoint = await api.create({ url: `${receiver.url}/archived` });
    receiver.answer('hang');
    const before = receiver.requests.length;
    await api.enqueue({ type: 'contract.create', fields: {} });
    await receiver.waitForRequests(before + 1);

    await api.archive(endpoint.id);
    const failed = await onlyDelivery(api, endpoint.id);
    expect(failed).toMatchObject({ status: 'failed', attempt_count: 0, failure_reason: 'the endpoint was archived before the delivery succeeded' });
    // The attempt that was in flight is still recorded (answered or timed out), and changes nothing else.
    receiver.release(500);
    await waitFor(async () => (await onlyDelivery(api, endpoint.id)).attempt_count === 1, { what: 'the attempt in flight to be recorded' });
    expect(await onlyDelivery(api, endpoint.id)).toMatchObject({ status: 'failed', attempts: [{ attempt: 1 }] });
    await expect(api.retry(endpoint.id, failed.id)).rejects.toMatchObject({ status: 409, message: expect.stringContaining('archived') });
    await api.enqueue({ type: 'contract.create', fields: {} });
    expect((await api.deliveries(endpoint.id)).data).toHaveLength(1);
  });

  it('gives up on an attempt that gets no answer in time, and tries again', async () => {
    const { api } = await freshTenant();
    const endpoint = await api.create({ url: `${receiver.url}/slow` });
    receiver.answer('hang');
    await api.enqueue({ type: 'contract.edit', fields: {} });
    const delivered = await waitForDelivery(api, endpoint.id, 'delivered');
    expect(delivered.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, null, 'timed out after 500 ms'],
      [2, 200, null],
    ]);
  });

  it('pages deliveries newest first', async () => {
    const { api } = await freshTenant();
    const endpoint = await api.create({ url: `${receiver.url}/pages` });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api.enqueue({ type: 'contract.edit', fields: { n: i } }))!);
    const first = await api.deliveries(endpoint.id, { limit: 2 });
    expect(first.data.map((d) => d.event_id)).toEqual([ids[2], ids[1]]);
    const second = await api.deliveries(endpoint.id, { limit: 2, next_page: first.next_page });
    expect(second.data.map((d) => d.event_id)).toEqual([ids[0]]);
    expect(second.next_page).toBeNull();
  });
});

describe.each(ENGINES)('the webhook outbox across restarts on %s', (engine) => {
  let server: TestServer;
  let receiver: Receiver;
  let dataDir: string | undefined;
  /** A client of the server as it runs now: a restart listens on a new port. */
  const api = () => webhooksApi(server.client());

  beforeAll(async () => {
    receiver = await startReceiver();
    dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'allot-webhooks-')) : undefined;
    server = await startTestServer({
      engine,
      clockStart: '2024-03-01T00:00:00Z',
      register: registerOutboxRoute,
      webhooks: { ...FAST_RETRIES, deliver: false },
      ...(dataDir ? { dataDir } : {}),
    });
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  afterEach(() => receiver.release());

  it('keeps a committed event while nothing sends it, and delivers it after a restart', async () => {
    const endpoint = await api().create({ url: `${receiver.url}/later`, event_types: ['contract.create'] });
    const eventId = await api().enqueue({ type: 'contract.create', fields: { properties: { contract_id: 'c-9' } } });
    const pending = await onlyDelivery(api(), endpoint.id);
    expect(pending).toMatchObject({ event_id: eventId, status: 'pending', attempt_count: 0, attempts: [] });
    expect(pending.next_attempt_at).not.toBeNull();
    await expect(api().retry(endpoint.id, pending.id)).rejects.toMatchObject({ status: 409, message: expect.stringContaining('pending') });
    expect(receiver.requests).toEqual([]);

    await server.restart({ webhooks: { ...FAST_RETRIES, pollIntervalMs: 60_000 } });
    const delivered = await waitForDelivery(api(), endpoint.id, 'delivered');
    expect(delivered.attempts.map((a) => a.status_code)).toEqual([200]);
    expect(requestsTo(receiver, '/hooks/later').map((r) => JSON.parse(r.body).id)).toEqual([eventId]);
  });

  it('records an attempt cut short by a stop as interrupted, and sends it again after the restart', async () => {
    const endpoint = await api().create({ url: `${receiver.url}/hanging`, event_types: ['contract.edit'] });
    receiver.answer('hang');
    const before = receiver.requests.length;
    const eventId = await api().enqueue({ type: 'contract.edit', fields: { properties: { contract_id: 'c-10' } } });
    await receiver.waitForRequests(before + 1);

    await server.restart();
    const delivered = await waitForDelivery(api(), endpoint.id, 'delivered');
    expect(delivered.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, null, 'interrupted: server stopping'],
      [2, 200, null],
    ]);
    // The interrupted attempt did not use up the budget.
    expect(delivered.max_attempts).toBe(FAST_RETRIES.maxAttempts + 1);
    const received = requestsTo(receiver, '/hooks/hanging');
    expect(received.map((r) => [JSON.parse(r.body).id, r.status])).toEqual([
      [eventId, null],
      [eventId, 200],
    ]);
  });
});

describe('two workers on one PostgreSQL database', () => {
  let server: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    // The server sends nothing itself: two workers of their own, as in two processes, share the outbox.
    server = await startTestServer({ engine: 'postgres', register: registerOutboxRoute, webhooks: { ...FAST_RETRIES, deliver: false } });
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
  });

  it('send each delivery once between them', async () => {
    const api = webhooksApi(server.client());
    const endpoint = await api.create({ url: `${receiver.url}/shared` });
    const eventIds: string[] = [];
    for (let i = 0; i < 40; i++) eventIds.push((await api.enqueue({ type: 'contract.edit', fields: { n: i } }))!);

    const pools = [openPostgres({ url: server.database.url!, poolSize: 3 }), openPostgres({ url: server.database.url!, poolSize: 3 })];
    // Both start at once on 40 due deliveries, 8 at a time each, and look again every 5 ms.
    const workers = pools.map((db) => startWebhookDelivery({ db, clock: server.clock }, { ...FAST_RETRIES, pollIntervalMs: 5, allowPrivateAddresses: true }));
    try {
      await waitFor(async () => (await api.deliveries(endpoint.id, { status: 'delivered', limit: 100 })).data.length === 40, { what: '40 deliveries' });
      const sent = receiver.requests.map((request) => JSON.parse(request.body).id as string);
      expect(sent.toSorted()).toEqual(eventIds.toSorted());
      const { data } = await api.deliveries(endpoint.id, { limit: 100 });
      expect(data.map((delivery) => delivery.attempt_count)).toEqual(data.map(() => 1));
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
      await Promise.all(pools.map((db) => db.close()));
    }
  });
});
