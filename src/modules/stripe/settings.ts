/**
 * How Allot talks to Stripe. `ServerOptions.stripe` and the `ALLOT_STRIPE_*` variables set them;
 * without a secret key the invoice push worker does not run, and without a webhook secret the
 * webhook route refuses every request.
 */
export interface StripeSettings {
  /** `sk_…`: the key of the Stripe account invoices are pushed to (`ALLOT_STRIPE_SECRET_KEY`). */
  secretKey: string | undefined;
  /** `whsec_…`: verifies `Stripe-Signature` on `POST /v1/allot/stripe/webhook` (`ALLOT_STRIPE_WEBHOOK_SECRET`). */
  webhookSecret: string | undefined;
  /** Where the Stripe API is (`ALLOT_STRIPE_API_BASE`): Stripe itself, or a local stand-in in tests. */
  apiBase: string;
  /** How often the push worker looks for finalised invoices when nothing nudged it. */
  pollIntervalMs: number;
  /** Attempts an invoice gets before its push is failed for good. */
  maxAttempts: number;
  /** The un-jittered wait after the first failed attempt; it doubles after each further one. */
  retryBaseMs: number;
  /** The longest wait between two attempts. */
  retryMaxMs: number;
  /** How long one Stripe request may take. */
  timeoutMs: number;
  /** `days_until_due` of a `send_invoice` invoice when the configuration does not say. */
  daysUntilDue: number;
}

export const DEFAULT_STRIPE_API_BASE = 'https://api.stripe.com';

export const DEFAULT_STRIPE_SETTINGS: StripeSettings = {
  secretKey: undefined,
  webhookSecret: undefined,
  apiBase: DEFAULT_STRIPE_API_BASE,
  pollIntervalMs: 5_000,
  maxAttempts: 8,
  retryBaseMs: 30_000,
  retryMaxMs: 60 * 60_000,
  timeoutMs: 30_000,
  daysUntilDue: 30,
};
