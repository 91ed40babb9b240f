import { randomBytes } from 'node:crypto';

/**
 * The Stripe objects the sandbox keeps, with the fields Allot and the walk-through read, named
 * and shaped as Stripe's API returns them (amounts in integer cents, times in Unix seconds).
 */

export type Metadata = Record<string, string>;

export interface SandboxCustomer {
  id: string;
  object: 'customer';
  created: number;
  name: string | null;
  email: string | null;
  description: string | null;
  metadata: Metadata;
  /** The payment method invoices are charged to: a test one that declines (`pm_card_chargeDeclined`, …) makes every payment fail. */
  invoice_settings: { default_payment_method: string | null };
  livemode: false;
}

/**
 * Stripe's test payment methods whose charges fail, and the error each gives (code, decline code,
 * message), as Stripe's documentation lists them. Any other payment method (or none) pays.
 */
export const DECLINING_PAYMENT_METHODS: Readonly<Record<string, { code: string; decline_code?: string; message: string }>> = {
  pm_card_chargeDeclined: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  pm_card_chargeCustomerFail: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  pm_card_chargeDeclinedInsufficientFunds: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  pm_card_chargeDeclinedExpiredCard: { code: 'expired_card', message: 'Your card has expired.' },
};

export interface SandboxPrice {
  id: string;
  object: 'price';
  active: boolean;
  created: number;
  currency: string;
  product: string;
  nickname: string | null;
  type: 'recurring';
  billing_scheme: 'per_unit';
  unit_amount: number;
  unit_amount_decimal: string;
  recurring: { interval: 'day' | 'week' | 'month' | 'year'; interval_count: number; usage_type: 'licensed' };
  metadata: Metadata;
  livemode: false;
}

export interface SandboxSubscriptionItem {
  id: string;
  object: 'subscription_item';
  created: number;
  subscription: string;
  price: SandboxPrice;
  quantity: number;
  current_period_start: number;
  current_period_end: number;
  metadata: Metadata;
}

export interface SandboxSubscription {
  id: string;
  object: 'subscription';
  customer: string;
  status: 'active' | 'canceled';
  collection_method: 'charge_automatically' | 'send_invoice';
  currency: string;
  created: number;
  start_date: number;
  billing_cycle_anchor: number;
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  ended_at: number | null;
  description: string | null;
  items: { object: 'list'; data: SandboxSubscriptionItem[]; has_more: false; total_count: number; url: string };
  latest_invoice: string | null;
  metadata: Metadata;
  livemode: false;
}

export interface SandboxInvoiceItem {
  id: string;
  object: 'invoiceitem';
  customer: string;
  amount: number;
  currency: string;
  description: string | null;
  invoice: string | null;
  metadata: Metadata;
  period: { start: number; end: number };
  date: number;
  livemode: false;
}

export interface SandboxInvoiceLine {
  id: string;
  object: 'line_item';
  amount: number;
  currency: string;
  description: string | null;
  metadata: Metadata;
  period: { start: number; end: number };
}

export interface SandboxInvoice {
  id: string;
  object: 'invoice';
  customer: string;
  collection_method: string;
  days_until_due: number | null;
  due_date: number | null;
  currency: string;
  status: 'draft' | 'open' | 'paid' | 'void';
  auto_advance: boolean;
  description: string | null;
  metadata: Metadata;
  number: string | null;
  subtotal: number;
  total: number;
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  attempted: boolean;
  attempt_count: number;
  created: number;
  status_transitions: { finalized_at: number | null; paid_at: number | null; voided_at: number | null; marked_uncollectible_at: null };
  lines: { object: 'list'; data: SandboxInvoiceLine[]; has_more: false; total_count: number; url: string };
  livemode: false;
}

/** Everything the sandbox holds, in memory: a restart starts empty. */
export interface SandboxStore {
  customers: Map<string, SandboxCustomer>;
  prices: Map<string, SandboxPrice>;
  subscriptions: Map<string, SandboxSubscription>;
  invoices: Map<string, SandboxInvoice>;
  invoiceItems: Map<string, SandboxInvoiceItem>;
  /** The wall clock in Unix seconds, as Stripe stamps `created`. */
  now(): number;
  /** A new id with Stripe's prefix (`cus_`, `sub_`, `si_`, `in_`, …) and 14 random letters and digits. */
  newId(prefix: string): string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function createStore(): SandboxStore {
  return {
    customers: new Map(),
    prices: new Map(),
    subscriptions: new Map(),
    invoices: new Map(),
    invoiceItems: new Map(),
    now: () => Math.floor(Date.now() / 1000),
    newId(prefix) {
      const bytes = randomBytes(14);
      return `${prefix}_${[...bytes].map((byte) => ALPHABET[byte % ALPHABET.length]).join('')}`;
    },
  };
}

/** What a request gets: a status and a JSON body, plus the subscription events it caused. */
export interface Answer {
  status: number;
  body: unknown;
  events?: SubscriptionChange[];
}

/** A subscription event to send, with what changed (Stripe's `data.previous_attributes`). */
export interface SubscriptionChange {
  type: 'customer.subscription.updated' | 'customer.subscription.deleted';
  subscription: SandboxSubscription;
  previousAttributes: Record<string, unknown>;
}

/** Stripe's error body: `{error: {type, message, param?, code?}}`. */
export function stripeError(status: number, message: string, { param, code, type = 'invalid_request_error' }: { param?: string; code?: string; type?: string } = {}): Answer {
  return { status, body: { error: { type, message, ...(param !== undefined && { param }), ...(code !== undefined && { code }) } } };
}

export const ok = (body: unknown, events?: SubscriptionChange[]): Answer => ({ status: 200, body, ...(events && { events }) });

export const noSuch = (resource: string, id: string, param?: string): Answer =>
  stripeError(param ? 400 : 404, `No such ${resource}: '${id}'`, { code: 'resource_missing', ...(param !== undefined && { param }) });

/** Reads an optional string parameter; anything but a string (a nested object) is a 400 naming it. */
export function stringParam(form: Record<string, unknown>, name: string): string | undefined | Answer {
  const value = form[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return stripeError(400, `Invalid string: ${name}`, { param: name });
  return value;
}

/** Reads an integer parameter within bounds (Stripe's `Invalid integer` otherwise). */
export function integerParam(value: unknown, name: string, { min = -Infinity, max = Infinity }: { min?: number; max?: number } = {}): number | Answer {
  if (typeof value !== 'string' || !/^-?\d{1,15}$/.test(value)) return stripeError(400, `Invalid integer: ${name}`, { param: name });
  const number = Number(value);
  if (number < min || number > max) return stripeError(400, `Invalid integer: ${name} must be between ${min} and ${max}`, { param: name });
  return number;
}

export const isAnswer = (value: unknown): value is Answer =>
  value !== null && typeof value === 'object' && 'status' in value && 'body' in value;

export function metadataOf(value: unknown): Metadata {
  if (value === null || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, entry]) => [key, String(entry)]));
}
