import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { App } from '../../src/http/types.js';
import { createEndpoint, enqueueWebhookEvent, signalOutboxWritten } from '../../src/modules/webhooks/service.js';
import { startWebhookDelivery, type WebhookDeliveryOptions } from '../../src/modules/webhooks/worker.js';
import { ensureTenant } from '../../src/modules/tenants/service.js';
import type { Database } from '../../src/lib/db/database.js';
import { ENGINES } from '../helpers/database.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Webhooks are not sent to loopback, private, link-local or cloud metadata addresses unless the
 * operator allows them: such an endpoint is a 400 when it is created, and a delivery whose host
 * resolves to one when it connects is a failed attempt that says why.
 */

interface Attempt {
  attempt: number;
  status_code: number | null;
  error: string | null;
}
interface Delivery {
  status: 'pending' | 'delivered' | 'failed';
  attempts: Attempt[];
}

function registerOutboxRoute(app: App): void {
  app.post('/test/outbox', { schema: { body: z.object({ type: z.string() }) } }, async (request) => {
    const ctx = request.context;
    await ctx.db.transaction((tx) => enqueueWebhookEvent(tx, { tenantId: request.auth.tenantId, type: request.body.type, fields: {}, at: ctx.clock.now() }));
    signalOutboxWritten(ctx, request.auth.tenantId);
    return {};
  });
}

describe.each(ENGINES)('webhook destinations on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    // The server refuses private destinations and sends nothing itself: each test starts the worker it needs.
    server = await startTestServer({ engine, register: registerOutboxRoute, webhooks: { allowPrivateAddresses: false, deliver: false } });
    client = server.client();
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
  });

  it.each([
    ['http://127.0.0.1:8080/hooks', /^url: 127\.0\.0\.1 is a loopback address/],
    ['http://2130706433/hooks', /^url: 127\.0\.0\.1 is a loopback address/],
    ['http://0x7f.0.0.1/hooks', /^url: 127\.0\.0\.1 is a loopback address/],
    ['http://[::1]/hooks', /^url: \[::1\] is a loopback address/],
    ['http://[::ffff:127.0.0.1]/hooks', /^url: \[::ffff:7f00:1\] is a loopback address/],
    ['http://localhost:3000/hooks', /^url: localhost is a loopback address/],
    ['http://10.0.0.5/hooks', /^url: 10\.0\.0\.5 is a private address/],
    ['http://192.168.1.20/hooks', /^url: 192\.168\.1\.20 is a private address/],
    ['http://[fd12::1]/hooks', /^url: \[fd12::1\] is a private address/],
    ['http://[fe80::1]/hooks', /^url: \[fe80::1\] is a link-local address/],
    ['http://0.0.0.0:8080/hooks', /^url: 0\.0\.0\.0 is an unspecified address/],
    ['http://169.254.169.254/latest/meta-data/', /^url: 169\.254\.169\.254 is a cloud metadata address/],
    ['http://[fd00:ec2::254]/latest/meta-data/', /^url: \[fd00:ec2::254\] is a cloud metadata address/],
    ['http://metadata.google.internal/computeMetadata/v1/', /^url: metadata\.google\.internal is a cloud metadata address/],
  ])('refuses %s at creation with a 400 naming url', async (url, message) => {
    const error = await client.post('/v1/allot/webhooks', { body: { url } }).then(
      () => undefined,
      (e: unknown) => e as { status: number; error: { message: string; errors: Array<{ field: string }> } },
    );
    expect(error?.status).toBe(400);
    expect(error?.error.errors.map((e) => e.field)).toEqual(['url']);
    expect(error?.error.message).toMatch(message);
    expect(error?.error.message).toMatch(/ALLOT_WEBHOOKS_ALLOW_PRIVATE=true/);
  });

  it('accepts a public address', async () => {
    const created = await client.post<{ data: { url: string; archived_at: string | null } }>('/v1/allot/webhooks', { body: { url: 'http://93.184.215.14/hooks' } });
    expect(created.data).toMatchObject({ url: 'http://93.184.215.14/hooks', archived_at: null });
    await client.post(`/v1/allot/webhooks/${(created.data as unknown as { id: string }).id}/archive`);
  });

  /** Registers `url` as the operator allowed it then, writes one event for it, and runs a worker with `options` until that delivery ends. */
  async function deliverOnce(url: string, type: string, options: WebhookDeliveryOptions): Promise<Delivery> {
    const { tenant } = await ensureTenant({ db: server.database.db, clock: server.clock }, 'acme');
    const endpoint = await createEndpoint({ db: server.database.db, clock: server.clock }, { tenantId: tenant.id, endpoint: { url, event_types: [type] }, allowPrivateAddresses: true });
    const worker = startWebhookDelivery({ db: server.database.db, clock: server.clock }, { maxAttempts: 1, pollIntervalMs: 20, ...options });
    try {
      await client.post('/test/outbox', { body: { type } });
      let delivery: Delivery | undefined;
      await waitFor(
        async () => {
          delivery = (await client.get<{ data: Delivery[] }>(`/v1/allot/webhooks/${endpoint.id}/deliveries`)).data[0];
          return delivery !== undefined && delivery.status !== 'pending';
        },
        { what: `the delivery to ${url} to end` },
      );
      return delivery!;
    } finally {
      await worker.stop();
    }
  }

  it('refuses at delivery a literal forbidden address, recording a failed attempt that says why', async () => {
    const delivery = await deliverOnce(`${receiver.url}/literal`, 'contract.create', { allowPrivateAddresses: false });
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: null, error: expect.stringMatching(/^refused: 127\.0\.0\.1 is a loopback address/) })]);
    expect(receiver.requests.filter((request) => request.path === '/hooks/literal')).toEqual([]);
  });

  it('refuses at delivery a name that now resolves to a forbidden address, and connects to the address it checked', async () => {
    const port = new URL(receiver.url).port;
    const url = `http://rebound.example.test:${port}/hooks/named`;
    const toLoopback = async () => ['127.0.0.1'];
    const refused = await deliverOnce(url, 'contract.edit', { allowPrivateAddresses: false, resolve: toLoopback });
    expect(refused.status).toBe('failed');
    expect(refused.attempts[0]?.error).toMatch(/^refused: rebound\.example\.test resolves to 127\.0\.0\.1, a loopback address/);
    expect(receiver.requests.filter((request) => request.path === '/hooks/named')).toEqual([]);

    // The same name and resolver, with private addresses allowed: the request reaches 127.0.0.1.
    const allowed = await deliverOnce(url, 'credit.segment.start', { allowPrivateAddresses: true, resolve: toLoopback });
    expect(allowed.status).toBe('delivered');
    expect(receiver.requests.filter((request) => request.path === '/hooks/named')).toHaveLength(1);
  });

  it('sends an attempt it could not record again at once, not when its claim runs out', async () => {
    const ctx = { db: server.database.db, clock: server.clock };
    const { tenant } = await ensureTenant(ctx, 'acme');
    const endpoint = await createEndpoint(ctx, { tenantId: tenant.id, endpoint: { url: `${receiver.url}/unrecorded`, event_types: ['credit.segment.end'] }, allowPrivateAddresses: true });
    // Recording the first attempt fails (the worker's only transaction), as when the connection drops.
    const db = server.database.db;
    let failures = 1;
    const flaky: Database = { ...db, transaction: (work) => (failures-- > 0 ? Promise.reject(new Error('the connection was lost')) : db.transaction(work)) };
    // Polls and claims far longer than the wait below: only sending again at once delivers in time.
    const worker = startWebhookDelivery({ db: flaky, clock: server.clock }, { allowPrivateAddresses: true, pollIntervalMs: 600_000, timeoutMs: 60_000 });
    try {
      await client.post('/test/outbox', { body: { type: 'credit.segment.end' } });
      worker.kick();
      let delivery: Delivery | undefined;
      await waitFor(async () => {
        delivery = (await client.get<{ data: Delivery[] }>(`/v1/allot/webhooks/${endpoint.id}/deliveries`)).data[0];
        return delivery?.status === 'delivered';
      }, { what: 'the delivery sent again' });
      // Sent twice (at least once), recorded once.
      expect(delivery!.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 200 })]);
      expect(receiver.requests.filter((request) => request.path === '/hooks/unrecorded')).toHaveLength(2);
    } finally {
      await worker.stop();
    }
  });
});
