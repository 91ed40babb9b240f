import type Stripe from 'stripe';
import type { SandboxStore, SandboxSubscription, SubscriptionChange } from './objects.js';

let stripePackage: Promise<typeof Stripe> | undefined;
const loadStripe = () => (stripePackage ??= import('stripe').then((module) => module.default));

/** An event as Stripe's `GET /v1/events/{id}` shows it and as its webhooks carry it. */
export interface SandboxEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: SandboxSubscription; previous_attributes: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: SubscriptionChange['type'];
}

/** One attempt to deliver an event: what Allot answered (`status` null when it could not be reached). */
export interface WebhookDelivery {
  eventId: string;
  type: SubscriptionChange['type'];
  subscriptionId: string;
  attempt: number;
  url: string;
  status: number | null;
  /** Allot's answer (its body, up to 1,000 characters), or why it could not be reached. */
  response: string;
  at: Date;
}

export async function buildEvent(store: SandboxStore, change: SubscriptionChange, request: { id: string; idempotencyKey: string | null }): Promise<SandboxEvent> {
  const StripeClient = await loadStripe();
  return {
    id: store.newId('evt'),
    object: 'event',
    api_version: StripeClient.API_VERSION,
    created: store.now(),
    data: { object: change.subscription, previous_attributes: change.previousAttributes },
    livemode: false,
    pending_webhooks: 1,
    request: { id: request.id, idempotency_key: request.idempotencyKey },
    type: change.type,
  };
}

/**
 * POSTs one event to `url`, signed as Stripe signs: `Stripe-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>" keyed with the webhook secret>` (the official package computes it).
 * Any 2xx is a success, as for Stripe.
 */
export async function deliverEvent({
  event,
  url,
  secret,
  attempt,
  timeoutMs,
}: {
  event: SandboxEvent;
  url: string;
  secret: string;
  attempt: number;
  timeoutMs: number;
}): Promise<WebhookDelivery> {
  const StripeClient = await loadStripe();
  const payload = JSON.stringify(event, null, 2);
  const header = StripeClient.webhooks.generateTestHeaderString({ payload, secret });
  const delivery = { eventId: event.id, type: event.type, subscriptionId: event.data.object.id, attempt, url, at: new Date() };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { ...delivery, status: response.status, response: (await response.text()).slice(0, 1000) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { ...delivery, status: null, response: cause ? `${cause} (${(error as Error).message})` : (error as Error).message };
  }
}

export const delivered = (delivery: WebhookDelivery) => delivery.status !== null && delivery.status >= 200 && delivery.status < 300;
