import type Stripe from 'stripe';
import type { StripeSettings } from './settings.js';

// The package is large: it is loaded on first use, so that processes that never talk to Stripe
// (the CLI's `migrate`, `keys`) do not pay for it at start-up.
let stripePackage: Promise<typeof Stripe> | undefined;
const loadStripe = () => (stripePackage ??= import('stripe').then((module) => module.default));

/**
 * The official Stripe client, pointed at `apiBase` (split into protocol, host and port). It makes
 * no retries of its own: the push worker is the one retry loop, with its own backoff, and every
 * call carries an idempotency key, so a retry never creates a second object.
 */
export async function stripeClient(settings: Pick<StripeSettings, 'secretKey' | 'apiBase' | 'timeoutMs'>): Promise<Stripe> {
  if (!settings.secretKey) throw new Error('No Stripe secret key is configured (ALLOT_STRIPE_SECRET_KEY)');
  const base = new URL(settings.apiBase);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  const StripeClient = await loadStripe();
  return new StripeClient(settings.secretKey, {
    host: base.hostname,
    port: base.port || (protocol === 'http' ? 80 : 443),
    protocol,
    maxNetworkRetries: 0,
    timeout: settings.timeoutMs,
    telemetry: false,
    appInfo: { name: 'Allot' },
  });
}

/** Verifies a webhook's `Stripe-Signature` over the raw body and returns the event; throws when it does not verify. */
export async function verifiedStripeEvent({ rawBody, signature, secret }: { rawBody: Buffer; signature: string; secret: string }): Promise<Stripe.Event> {
  const StripeClient = await loadStripe();
  return StripeClient.webhooks.constructEvent(rawBody, signature, secret);
}
