import { serverUrlOf } from '../config.js';
import { SANDBOX_DEFAULT_PORT, SANDBOX_SECRET_KEY, SANDBOX_WEBHOOK_SECRET, startStripeSandbox, type StripeRequest, type StripeSandbox } from './server.js';
import type { WebhookDelivery } from './webhooks.js';

export interface StripeSandboxFlags {
  port?: string;
  host?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  secretKey?: string;
}

/**
 * `allot stripe-sandbox`: starts the sandbox and prints what to give Allot and how to change a
 * subscription's quantity; then one line per request and per webhook delivery. Flags win over the
 * environment: `ALLOT_STRIPE_SANDBOX_PORT`, `ALLOT_STRIPE_SANDBOX_WEBHOOK_URL` (else Allot's
 * webhook at `ALLOT_URL` or `PORT`, as `allot demo` finds the server), `ALLOT_STRIPE_WEBHOOK_SECRET`
 * and `ALLOT_STRIPE_SECRET_KEY` (the same variables Allot reads, so one environment serves both).
 */
export async function stripeSandboxCommand(flags: StripeSandboxFlags, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<StripeSandbox> {
  const portText = flags.port ?? (env.ALLOT_STRIPE_SANDBOX_PORT || String(SANDBOX_DEFAULT_PORT));
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) throw new Error(`--port: must be a port number from 0 to 65535, got "${portText}"`);
  const webhookUrl = flags.webhookUrl ?? (env.ALLOT_STRIPE_SANDBOX_WEBHOOK_URL || `${serverUrlOf(env)}/v1/allot/stripe/webhook`);
  try {
    const parsed = new URL(webhookUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new Error(`--webhook-url: must be an http or https URL, e.g. http://127.0.0.1:8080/v1/allot/stripe/webhook, got "${webhookUrl}"`);
  }
  const webhookSecret = flags.webhookSecret ?? (env.ALLOT_STRIPE_WEBHOOK_SECRET || SANDBOX_WEBHOOK_SECRET);
  const secretKey = flags.secretKey ?? (env.ALLOT_STRIPE_SECRET_KEY || SANDBOX_SECRET_KEY);

  const host = flags.host ?? '127.0.0.1';
  const port = Number(portText);
  const sandbox = await startStripeSandbox({
    port,
    host,
    secretKey,
    webhookUrl,
    webhookSecret,
    onRequest: (request, body) => print(describeRequest(request, body)),
    onDelivery: (delivery) => print(describeDelivery(delivery)),
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE') throw error;
    throw new Error(
      `Port ${port} on ${host} is in use (EADDRINUSE): stop what listens there (another sandbox? Ctrl-C in its terminal), ` +
        `or start on another port with --port ${port + 1} and give Allot ALLOT_STRIPE_API_BASE=http://127.0.0.1:${port + 1}.`,
    );
  });
  const base = sandbox.apiBase;
  print(
    [
      `Stripe sandbox listening on ${base} (in memory: a restart starts empty)`,
      `Secret key: ${secretKey}`,
      `Webhooks: customer.subscription.updated and .deleted are POSTed to ${webhookUrl}, signed with ${webhookSecret}`,
      '',
      'Start Allot against it (in another terminal):',
      `  ALLOT_STRIPE_API_BASE=${base} ALLOT_STRIPE_SECRET_KEY=${secretKey} ALLOT_STRIPE_WEBHOOK_SECRET=${webhookSecret} npm start`,
      '',
      "Change a subscription's quantity (Allot gets a signed customer.subscription.updated):",
      `  curl ${base}/v1/subscriptions/sub_… -u ${secretKey}: -d "items[0][id]=si_…" -d "items[0][quantity]=110"`,
      'See the invoices Allot pushed, and pay one:',
      `  curl -G ${base}/v1/invoices -u ${secretKey}:`,
      `  curl -X POST ${base}/v1/invoices/in_…/pay -u ${secretKey}:`,
      '',
    ].join('\n'),
  );
  return sandbox;
}

function describeRequest(request: StripeRequest, body: unknown): string {
  const id = body !== null && typeof body === 'object' && 'id' in body ? ` ${String((body as { id: unknown }).id)}` : '';
  const error = body !== null && typeof body === 'object' && 'error' in body ? ` (${(body as { error: { message?: string } }).error.message ?? 'error'})` : '';
  return `${request.method} ${request.path} → ${request.status}${id}${error}${request.replayed ? ' (replayed: same Idempotency-Key)' : ''}`;
}

function describeDelivery(delivery: WebhookDelivery): string {
  const answer = delivery.status === null ? `not delivered: ${delivery.response}` : `Allot answered ${delivery.status} ${delivery.response}`;
  return `webhook ${delivery.type} ${delivery.eventId} (${delivery.subscriptionId}), attempt ${delivery.attempt}: ${answer}`;
}
