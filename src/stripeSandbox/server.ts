import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseStripeForm } from './form.js';
import { handleInvoices } from './invoices.js';
import { createStore, stripeError, type Answer, type SandboxCustomer, type SandboxStore } from './objects.js';
import { addCustomer, handleSubscriptions } from './subscriptions.js';
import { buildEvent, deliverEvent, delivered, type SandboxEvent, type WebhookDelivery } from './webhooks.js';

export const SANDBOX_DEFAULT_PORT = 12111;
export const SANDBOX_SECRET_KEY = 'sk_test_allot_sandbox';
export const SANDBOX_WEBHOOK_SECRET = 'whsec_allot_sandbox';

/** One request as the sandbox got it: the form body parsed into nested objects, and what it answered. */
export interface StripeRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  form: Record<string, unknown>;
  status: number;
  /** True when the answer was a stored response for the same Idempotency-Key. */
  replayed: boolean;
}

export interface StripeSandboxOptions {
  /** 0 (the default here) picks a free port; the command listens on 12111. */
  port?: number;
  host?: string;
  /** The API key callers must send (Bearer, or Basic as `curl -u sk_…:` sends it). */
  secretKey?: string;
  /** Where subscription events go (Allot's `/v1/allot/stripe/webhook`); unset, none are sent. */
  webhookUrl?: string | undefined;
  /** Signs the events: Allot's `ALLOT_STRIPE_WEBHOOK_SECRET`. */
  webhookSecret?: string;
  /** Customers that exist from the start, by id (tests that name their Stripe customers). */
  customers?: string[];
  /** Waits before the retries of a failed delivery (default 1 s, 5 s, 30 s). */
  retryDelaysMs?: number[];
  /** Told of each request answered and each delivery attempt (the command prints them). */
  onRequest?: (request: StripeRequest, body: unknown) => void;
  onDelivery?: (delivery: WebhookDelivery) => void;
}

export interface StripeSandbox {
  /** What to give Allot as `ALLOT_STRIPE_API_BASE`. */
  apiBase: string;
  port: number;
  secretKey: string;
  /** Where events go; may be set after start (a test starts the sandbox before the Allot it points at). */
  webhookUrl: string | undefined;
  webhookSecret: string;
  /** Every request so far, in arrival order. */
  requests: StripeRequest[];
  customers: SandboxStore['customers'];
  prices: SandboxStore['prices'];
  subscriptions: SandboxStore['subscriptions'];
  invoices: SandboxStore['invoices'];
  invoiceItems: SandboxStore['invoiceItems'];
  /** Every event, by id, in the order they happened. */
  events: Map<string, SandboxEvent>;
  /** Every delivery attempt, in order. */
  deliveries: WebhookDelivery[];
  /** A customer with an id of the caller's choosing, as a test names it; `paymentMethod` `pm_card_chargeDeclined` makes its payments fail. */
  createCustomer(fields?: { id?: string; name?: string; email?: string; paymentMethod?: string }): SandboxCustomer;
  /** Answers the next `count` requests with `status` (500 unless given) and a Stripe error body, storing nothing. */
  failNext(count: number, options?: { status?: number; message?: string }): void;
  close(): Promise<void>;
}

const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * A local Stripe: the part of Stripe's API that Allot uses (customers, prices, subscriptions with
 * quantities, invoices, invoice items, payment), in memory, in Stripe's wire format (form bodies,
 * JSON objects with `object` and prefixed ids, `{error: {type, message, param}}` errors). It
 * requires the secret key, honours `Idempotency-Key` as Stripe does (the same key and body get the
 * stored response and create nothing; the same key with another body is a 400), and sends each
 * subscription change to `webhookUrl` as a signed `customer.subscription.*` event. See README.md.
 */
export async function startStripeSandbox(options: StripeSandboxOptions = {}): Promise<StripeSandbox> {
  const secretKey = options.secretKey ?? SANDBOX_SECRET_KEY;
  const webhookSecret = options.webhookSecret ?? SANDBOX_WEBHOOK_SECRET;
  const retryDelaysMs = options.retryDelaysMs ?? [1_000, 5_000, 30_000];
  const store = createStore();
  for (const id of options.customers ?? []) addCustomer(store, { id });
  const requests: StripeRequest[] = [];
  const events = new Map<string, SandboxEvent>();
  const deliveries: WebhookDelivery[] = [];
  const idempotent = new Map<string, { signature: string; status: number; body: unknown }>();
  const retries = new Set<NodeJS.Timeout>();
  let failures = { count: 0, status: 500, message: '' };
  let closed = false;
  let webhookUrl = options.webhookUrl;

  async function attempt(event: SandboxEvent, number: number): Promise<void> {
    if (!webhookUrl || closed) return;
    const delivery = await deliverEvent({ event, url: webhookUrl, secret: webhookSecret, attempt: number, timeoutMs: DELIVERY_TIMEOUT_MS });
    deliveries.push(delivery);
    options.onDelivery?.(delivery);
    const wait = retryDelaysMs[number - 1];
    if (delivered(delivery) || wait === undefined || closed) return;
    const timer = setTimeout(() => {
      retries.delete(timer);
      void attempt(event, number + 1);
    }, wait);
    retries.add(timer);
  }

  function authorized(header: string | undefined): boolean {
    if (header === `Bearer ${secretKey}`) return true;
    if (header?.startsWith('Basic ')) return Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0] === secretKey;
    return false;
  }

  function handle(method: string, path: string, form: Record<string, unknown>): Answer {
    if (method === 'GET' && path === '/v1/events') return { status: 200, body: { object: 'list', data: [...events.values()].reverse(), has_more: false, url: '/v1/events' } };
    const event = /^\/v1\/events\/([^/]+)$/.exec(path);
    if (method === 'GET' && event) {
      const found = events.get(event[1]!);
      return found ? { status: 200, body: found } : stripeError(404, `No such event: '${event[1]}'`, { code: 'resource_missing' });
    }
    return (
      handleSubscriptions(store, method, path, form) ??
      handleInvoices(store, method, path, form) ??
      stripeError(404, `Unrecognized request URL (${method}: ${path}). The Stripe sandbox serves customers, prices, subscriptions, subscription_items, invoices, invoiceitems and events.`)
    );
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const url = new URL(request.url ?? '/', 'http://sandbox');
        const method = request.method ?? 'GET';
        const text = Buffer.concat(chunks).toString('utf8');
        const form = parseStripeForm(method === 'GET' || method === 'DELETE' ? url.search.slice(1) : text);
        const keyHeader = request.headers['idempotency-key'];
        const idempotencyKey = typeof keyHeader === 'string' ? keyHeader : null;
        const requestId = store.newId('req');
        const send = (status: number, body: unknown, replayed = false) => {
          const record = { method, path: url.pathname, idempotencyKey, form, status, replayed };
          requests.push(record);
          options.onRequest?.(record, body);
          const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': requestId };
          if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
          if (replayed) headers['idempotent-replayed'] = 'true';
          response.writeHead(status, headers).end(JSON.stringify(body, null, 2) + '\n');
        };

        if (!authorized(request.headers.authorization)) {
          return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided. The sandbox takes its secret key as a Bearer token or as curl -u sk_…: sends it.' } });
        }
        if (failures.count > 0) {
          failures.count--;
          return send(failures.status, { error: { type: 'api_error', message: failures.message } });
        }
        const signature = `${method} ${url.pathname} ${text}`;
        if (idempotencyKey && method === 'POST') {
          const stored = idempotent.get(idempotencyKey);
          if (stored && stored.signature !== signature) {
            return send(400, {
              error: { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Key: ${idempotencyKey}` },
            });
          }
          if (stored) return send(stored.status, stored.body, true);
        }
        const { status, body, events: changes = [] } = handle(method, url.pathname, form);
        // Like Stripe, a response is stored for its key unless it was a server error.
        const snapshot = JSON.parse(JSON.stringify(body)) as unknown;
        if (idempotencyKey && method === 'POST' && status < 500) idempotent.set(idempotencyKey, { signature, status, body: snapshot });
        // The first delivery is made before the answer (Stripe sends it a moment after), so a
        // caller that got the answer knows Allot has had the event; retries come later.
        for (const change of changes) {
          const built = await buildEvent(store, change, { id: requestId, idempotencyKey });
          events.set(built.id, built);
          await attempt(built, 1);
        }
        return send(status, snapshot);
      })().catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { type: 'api_error', message: (error as Error).message } }));
      });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    apiBase: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    secretKey,
    get webhookUrl() {
      return webhookUrl;
    },
    set webhookUrl(url) {
      webhookUrl = url;
    },
    webhookSecret,
    requests,
    customers: store.customers,
    prices: store.prices,
    subscriptions: store.subscriptions,
    invoices: store.invoices,
    invoiceItems: store.invoiceItems,
    events,
    deliveries,
    createCustomer: (fields = {}) => addCustomer(store, fields),
    failNext(count, { status = 500, message = 'An unknown error occurred (the Stripe sandbox was told to fail).' } = {}) {
      failures = { count, status, message };
    },
    async close() {
      closed = true;
      for (const timer of retries) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
