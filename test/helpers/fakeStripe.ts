import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake got it: the form body parsed into nested objects, and what it answered. */
export interface StripeRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  form: Record<string, unknown>;
  status: number;
  /** True when the answer was a stored response for the same Idempotency-Key. */
  replayed: boolean;
}

export interface FakeInvoiceItem {
  id: string;
  object: 'invoiceitem';
  customer: string;
  amount: number;
  currency: string;
  description: string | null;
  invoice: string | null;
  metadata: Record<string, string>;
  period: { start: number; end: number };
  date: number;
  livemode: false;
}

export interface FakeInvoice {
  id: string;
  object: 'invoice';
  customer: string;
  collection_method: string;
  days_until_due: number | null;
  currency: string;
  status: 'draft' | 'open' | 'void';
  auto_advance: boolean;
  description: string | null;
  metadata: Record<string, string>;
  number: string | null;
  subtotal: number;
  total: number;
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  created: number;
  status_transitions: { finalized_at: number | null };
  lines: { object: 'list'; data: Array<{ id: string; object: 'line_item'; amount: number; currency: string; description: string | null; metadata: Record<string, string>; period: { start: number; end: number } }>; has_more: false; url: string };
  livemode: false;
}

export interface FakeStripe {
  /** What to give Allot as `ALLOT_STRIPE_API_BASE`. */
  apiBase: string;
  secretKey: string;
  /** Every request so far, in arrival order. */
  requests: StripeRequest[];
  invoices: Map<string, FakeInvoice>;
  invoiceItems: Map<string, FakeInvoiceItem>;
  /** Answers the next `count` requests with `status` (500 unless given) and a Stripe error body, storing nothing. */
  failNext(count: number, options?: { status?: number; message?: string }): void;
  close(): Promise<void>;
}

/** Parses `a=1&metadata[k]=v&period[start]=5&expand[0]=x` into nested objects, as Stripe reads its form bodies. */
export function parseStripeForm(body: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split(/\[|\]\[|\]/).filter((part) => part !== '');
    let target: Record<string, unknown> = result;
    for (const [index, part] of path.entries()) {
      if (index === path.length - 1) target[part] = value;
      else target = (target[part] ??= {}) as Record<string, unknown>;
    }
  }
  return result;
}

const SECONDS = () => Math.floor(Date.now() / 1000);

/**
 * A local stand-in for the part of Stripe's API that the invoice push uses: invoice items, draft
 * invoices, finalisation, and their GETs. It speaks Stripe's wire format (form bodies, JSON
 * objects with `object` and prefixed ids, `{error: {type, message}}` errors), requires the secret
 * key, and honours `Idempotency-Key` as Stripe does: the same key and body get the stored
 * response and create nothing; the same key with another body is a 400.
 */
export async function startFakeStripe({ secretKey = 'sk_test_allot_fake' }: { secretKey?: string } = {}): Promise<FakeStripe> {
  const requests: StripeRequest[] = [];
  const invoices = new Map<string, FakeInvoice>();
  const invoiceItems = new Map<string, FakeInvoiceItem>();
  const idempotent = new Map<string, { signature: string; status: number; body: unknown }>();
  let failures: { count: number; status: number; message: string } = { count: 0, status: 500, message: '' };
  let sequence = 0;
  const nextId = (prefix: string) => `${prefix}_fake${String(++sequence).padStart(6, '0')}`;

  const stripeError = (status: number, type: string, message: string) => ({ status, body: { error: { type, message } } });

  function recompute(invoice: FakeInvoice): void {
    const total = invoice.lines.data.reduce((sum, line) => sum + line.amount, 0);
    invoice.subtotal = total;
    invoice.total = total;
    invoice.amount_due = Math.max(0, total);
    invoice.amount_remaining = Math.max(0, total);
  }

  function handle(method: string, path: string, form: Record<string, unknown>): { status: number; body: unknown } {
    if (method === 'POST' && path === '/v1/invoices') {
      if (typeof form.customer !== 'string') return stripeError(400, 'invalid_request_error', 'Missing required param: customer.');
      const collection = String(form.collection_method ?? 'charge_automatically');
      if (collection === 'send_invoice' && form.days_until_due === undefined) {
        return stripeError(400, 'invalid_request_error', 'Missing required param: days_until_due.');
      }
      const id = nextId('in');
      const invoice: FakeInvoice = {
        id,
        object: 'invoice',
        customer: form.customer,
        collection_method: collection,
        days_until_due: form.days_until_due === undefined ? null : Number(form.days_until_due),
        currency: String(form.currency ?? 'usd'),
        status: 'draft',
        auto_advance: form.auto_advance === 'true',
        description: typeof form.description === 'string' ? form.description : null,
        metadata: (form.metadata as Record<string, string> | undefined) ?? {},
        number: null,
        subtotal: 0,
        total: 0,
        amount_due: 0,
        amount_paid: 0,
        amount_remaining: 0,
        created: SECONDS(),
        status_transitions: { finalized_at: null },
        lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${id}/lines` },
        livemode: false,
      };
      if (form.pending_invoice_items_behavior !== 'exclude') {
        for (const item of invoiceItems.values()) {
          if (item.customer === invoice.customer && item.invoice === null) attach(item, invoice);
        }
      }
      recompute(invoice);
      invoices.set(id, invoice);
      return { status: 200, body: invoice };
    }
    if (method === 'POST' && path === '/v1/invoiceitems') {
      if (typeof form.customer !== 'string') return stripeError(400, 'invalid_request_error', 'Missing required param: customer.');
      if (form.amount === undefined || !/^-?\d+$/.test(String(form.amount))) return stripeError(400, 'invalid_request_error', 'Invalid integer: amount.');
      const invoice = typeof form.invoice === 'string' ? invoices.get(form.invoice) : undefined;
      if (typeof form.invoice === 'string' && !invoice) return stripeError(400, 'invalid_request_error', `No such invoice: '${form.invoice}'`);
      if (invoice && invoice.status !== 'draft') return stripeError(400, 'invalid_request_error', `Invoice ${invoice.id} is not a draft; items cannot be added to it.`);
      const period = form.period as { start?: string; end?: string } | undefined;
      const item: FakeInvoiceItem = {
        id: nextId('ii'),
        object: 'invoiceitem',
        customer: form.customer,
        amount: Number(form.amount),
        currency: String(form.currency ?? 'usd'),
        description: typeof form.description === 'string' ? form.description : null,
        invoice: null,
        metadata: (form.metadata as Record<string, string> | undefined) ?? {},
        period: { start: Number(period?.start ?? SECONDS()), end: Number(period?.end ?? SECONDS()) },
        date: SECONDS(),
        livemode: false,
      };
      invoiceItems.set(item.id, item);
      if (invoice) {
        attach(item, invoice);
        recompute(invoice);
      }
      return { status: 200, body: item };
    }
    const finalize = /^\/v1\/invoices\/([^/]+)\/finalize$/.exec(path);
    if (method === 'POST' && finalize) {
      const invoice = invoices.get(finalize[1]!);
      if (!invoice) return stripeError(404, 'invalid_request_error', `No such invoice: '${finalize[1]}'`);
      if (invoice.status !== 'draft') return stripeError(400, 'invalid_request_error', 'This invoice is already finalized, you can\'t re-finalize a non-draft invoice.');
      invoice.status = 'open';
      invoice.number = `FAKE-${String(invoices.size).padStart(4, '0')}`;
      invoice.status_transitions.finalized_at = SECONDS();
      if (form.auto_advance !== undefined) invoice.auto_advance = form.auto_advance === 'true';
      return { status: 200, body: invoice };
    }
    const voiding = /^\/v1\/invoices\/([^/]+)\/void$/.exec(path);
    if (method === 'POST' && voiding) {
      const invoice = invoices.get(voiding[1]!);
      if (!invoice) return stripeError(404, 'invalid_request_error', `No such invoice: '${voiding[1]}'`);
      if (invoice.status !== 'open') return stripeError(400, 'invalid_request_error', `You can only void an open invoice; this one is ${invoice.status}.`);
      invoice.status = 'void';
      invoice.amount_due = 0;
      invoice.amount_remaining = 0;
      return { status: 200, body: invoice };
    }
    const getInvoice = /^\/v1\/invoices\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && getInvoice) {
      const invoice = invoices.get(getInvoice[1]!);
      if (!invoice) return stripeError(404, 'invalid_request_error', `No such invoice: '${getInvoice[1]}'`);
      if (invoice.status !== 'draft') return stripeError(400, 'invalid_request_error', 'You can only delete draft invoices.');
      invoices.delete(invoice.id);
      return { status: 200, body: { id: invoice.id, object: 'invoice', deleted: true } };
    }
    if (method === 'GET' && getInvoice) {
      const invoice = invoices.get(getInvoice[1]!);
      return invoice ? { status: 200, body: invoice } : stripeError(404, 'invalid_request_error', `No such invoice: '${getInvoice[1]}'`);
    }
    const getItem = /^\/v1\/invoiceitems\/([^/]+)$/.exec(path);
    if (method === 'GET' && getItem) {
      const item = invoiceItems.get(getItem[1]!);
      return item ? { status: 200, body: item } : stripeError(404, 'invalid_request_error', `No such invoiceitem: '${getItem[1]}'`);
    }
    if (method === 'GET' && path === '/v1/invoices') {
      return { status: 200, body: { object: 'list', data: [...invoices.values()], has_more: false, url: '/v1/invoices' } };
    }
    return stripeError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  function attach(item: FakeInvoiceItem, invoice: FakeInvoice): void {
    item.invoice = invoice.id;
    invoice.lines.data.push({ id: `il_${item.id}`, object: 'line_item', amount: item.amount, currency: item.currency, description: item.description, metadata: item.metadata, period: item.period });
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const method = request.method ?? 'GET';
      const text = Buffer.concat(chunks).toString('utf8');
      const form = parseStripeForm(method === 'GET' ? url.search.slice(1) : text);
      const keyHeader = request.headers['idempotency-key'];
      const idempotencyKey = typeof keyHeader === 'string' ? keyHeader : null;
      const send = (status: number, body: unknown, replayed = false) => {
        requests.push({ method, path: url.pathname, idempotencyKey, form, status, replayed });
        const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': `req_fake${requests.length}` };
        if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
        if (replayed) headers['idempotent-replayed'] = 'true';
        response.writeHead(status, headers).end(JSON.stringify(body));
      };

      if (request.headers.authorization !== `Bearer ${secretKey}`) {
        return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided.' } });
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
      const { status, body } = handle(method, url.pathname, form);
      // Like Stripe, a response is stored for its key unless it was a server error.
      const snapshot = JSON.parse(JSON.stringify(body)) as unknown;
      if (idempotencyKey && method === 'POST' && status < 500) idempotent.set(idempotencyKey, { signature, status, body: snapshot });
      return send(status, snapshot);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    apiBase: `http://127.0.0.1:${port}`,
    secretKey,
    requests,
    invoices,
    invoiceItems,
    failNext(count, { status = 500, message = 'An unknown error occurred (fake Stripe was told to fail).' } = {}) {
      failures = { count, status, message };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
