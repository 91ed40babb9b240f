import { formList } from './form.js';
import {
  integerParam,
  isAnswer,
  metadataOf,
  noSuch,
  ok,
  stringParam,
  stripeError,
  type Answer,
  type SandboxCustomer,
  type SandboxPrice,
  type SandboxStore,
  type SandboxSubscription,
  type SandboxSubscriptionItem,
  type SubscriptionChange,
} from './objects.js';

const INTERVALS = ['day', 'week', 'month', 'year'] as const;

/**
 * Customers, prices and subscriptions with quantities: what a Stripe account holds when Stripe
 * owns the seats. A change of a subscription's items (a quantity, an item added or removed) and a
 * cancellation answer with the `customer.subscription.*` event Stripe would send.
 */
export function handleSubscriptions(store: SandboxStore, method: string, path: string, form: Record<string, unknown>): Answer | undefined {
  if (method === 'POST' && path === '/v1/customers') return createCustomer(store, form);
  if (method === 'GET' && path === '/v1/customers') return ok(list([...store.customers.values()].reverse(), '/v1/customers'));
  const customer = /^\/v1\/customers\/([^/]+)$/.exec(path);
  if (method === 'GET' && customer) return found(store.customers.get(customer[1]!), 'customer', customer[1]!);
  if (method === 'POST' && customer) {
    const existing = store.customers.get(customer[1]!);
    return existing ? updateCustomer(existing, form) : noSuch('customer', customer[1]!);
  }

  if (method === 'POST' && path === '/v1/prices') return createPrice(store, form);
  const price = /^\/v1\/prices\/([^/]+)$/.exec(path);
  if (method === 'GET' && price) return found(store.prices.get(price[1]!), 'price', price[1]!);

  if (method === 'POST' && path === '/v1/subscriptions') return createSubscription(store, form);
  if (method === 'GET' && path === '/v1/subscriptions') {
    const of = stringParam(form, 'customer');
    if (isAnswer(of)) return of;
    const data = [...store.subscriptions.values()].filter((each) => of === undefined || each.customer === of).reverse();
    return ok(list(data, '/v1/subscriptions'));
  }
  const subscription = /^\/v1\/subscriptions\/([^/]+)$/.exec(path);
  if (subscription) {
    const found = store.subscriptions.get(subscription[1]!);
    if (!found) return noSuch('subscription', subscription[1]!);
    if (method === 'GET') return ok(found);
    if (method === 'POST') return updateSubscription(store, found, form);
    if (method === 'DELETE') return cancelSubscription(store, found);
  }
  const item = /^\/v1\/subscription_items\/([^/]+)$/.exec(path);
  if (item) {
    const owner = [...store.subscriptions.values()].find((each) => each.items.data.some((entry) => entry.id === item[1]));
    if (!owner) return noSuch('subscription_item', item[1]!);
    if (method === 'GET') return ok(owner.items.data.find((entry) => entry.id === item[1])!);
    if (method === 'POST') {
      // Prorations are not modelled (Allot bills the seats), so `proration_behavior` changes nothing.
      const { quantity, metadata, proration_behavior: _proration, expand: _expand, ...rest } = form;
      const unknown = Object.keys(rest);
      if (unknown.length > 0) return stripeError(400, `Received unknown parameter: ${unknown[0]}`, { param: unknown[0]! });
      const answer = updateSubscription(store, owner, { items: { '0': { id: item[1], ...(quantity !== undefined && { quantity }), ...(metadata !== undefined && { metadata }) } } });
      return answer.status === 200 ? { ...answer, body: owner.items.data.find((entry) => entry.id === item[1]) } : answer;
    }
  }
  return undefined;
}

/** A customer, by `POST /v1/customers` or (with an `id` of its choosing) by a test that names its customers. */
export function addCustomer(
  store: SandboxStore,
  fields: { id?: string; name?: string | null; email?: string | null; description?: string | null; metadata?: Record<string, string>; paymentMethod?: string | null },
): SandboxCustomer {
  const customer: SandboxCustomer = {
    id: fields.id ?? store.newId('cus'),
    object: 'customer',
    created: store.now(),
    name: fields.name ?? null,
    email: fields.email ?? null,
    description: fields.description ?? null,
    metadata: fields.metadata ?? {},
    invoice_settings: { default_payment_method: fields.paymentMethod ?? null },
    livemode: false,
  };
  store.customers.set(customer.id, customer);
  return customer;
}

function createCustomer(store: SandboxStore, form: Record<string, unknown>): Answer {
  const fields: Record<string, string | undefined> = {};
  for (const name of ['name', 'email', 'description']) {
    const value = stringParam(form, name);
    if (isAnswer(value)) return value;
    fields[name] = value;
  }
  const paymentMethod = defaultPaymentMethod(form);
  if (isAnswer(paymentMethod)) return paymentMethod;
  return ok(addCustomer(store, { ...fields, metadata: metadataOf(form.metadata), paymentMethod: paymentMethod ?? null }));
}

/** `invoice_settings[default_payment_method]`, when given: a string, or a 400 naming it. */
function defaultPaymentMethod(form: Record<string, unknown>): string | undefined | Answer {
  const settings = form.invoice_settings;
  if (settings === undefined) return undefined;
  const value = typeof settings === 'object' && settings !== null ? (settings as Record<string, unknown>).default_payment_method : undefined;
  if (typeof value !== 'string') return stripeError(400, 'Invalid string: invoice_settings[default_payment_method]', { param: 'invoice_settings[default_payment_method]' });
  return value;
}

/** `POST /v1/customers/:id`: name, email, description, metadata and the default payment method (an empty string clears it). */
function updateCustomer(customer: SandboxCustomer, form: Record<string, unknown>): Answer {
  const { name, email, description, metadata, invoice_settings: _settings, ...rest } = form;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return stripeError(400, `Received unknown parameter: ${unknown[0]}`, { param: unknown[0]! });
  const paymentMethod = defaultPaymentMethod(form);
  if (isAnswer(paymentMethod)) return paymentMethod;
  for (const [field, value] of [['name', name], ['email', email], ['description', description]] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'string') return stripeError(400, `Invalid string: ${field}`, { param: field });
    customer[field] = value === '' ? null : value;
  }
  if (metadata !== undefined) customer.metadata = { ...customer.metadata, ...metadataOf(metadata) };
  if (paymentMethod !== undefined) customer.invoice_settings.default_payment_method = paymentMethod === '' ? null : paymentMethod;
  return ok(customer);
}

function createPrice(store: SandboxStore, form: Record<string, unknown>): Answer {
  if (typeof form.currency !== 'string' || !/^[a-z]{3}$/.test(form.currency)) return stripeError(400, 'Missing required param: currency (a three-letter ISO code in lowercase, e.g. usd).', { param: 'currency' });
  const unitAmount = integerParam(form.unit_amount, 'unit_amount', { min: 0 });
  if (isAnswer(unitAmount)) return unitAmount;
  const recurring = (form.recurring ?? {}) as { interval?: unknown; interval_count?: unknown };
  if (!INTERVALS.includes(recurring.interval as (typeof INTERVALS)[number])) {
    return stripeError(400, 'Missing required param: recurring[interval] (day, week, month or year): the sandbox keeps recurring prices only.', { param: 'recurring[interval]' });
  }
  const intervalCount = recurring.interval_count === undefined ? 1 : integerParam(recurring.interval_count, 'recurring[interval_count]', { min: 1, max: 36 });
  if (isAnswer(intervalCount)) return intervalCount;
  const productData = (form.product_data ?? {}) as { name?: unknown };
  let product: string;
  if (typeof form.product === 'string') product = form.product;
  else if (typeof productData.name === 'string' && productData.name !== '') product = store.newId('prod');
  else return stripeError(400, 'Missing required param: product (or product_data[name]).', { param: 'product' });
  const created: SandboxPrice = {
    id: store.newId('price'),
    object: 'price',
    active: true,
    created: store.now(),
    currency: form.currency,
    product,
    nickname: typeof form.nickname === 'string' ? form.nickname : null,
    type: 'recurring',
    billing_scheme: 'per_unit',
    unit_amount: unitAmount,
    unit_amount_decimal: String(unitAmount),
    recurring: { interval: recurring.interval as SandboxPrice['recurring']['interval'], interval_count: intervalCount, usage_type: 'licensed' },
    metadata: metadataOf(form.metadata),
    livemode: false,
  };
  store.prices.set(created.id, created);
  return ok(created);
}

function createSubscription(store: SandboxStore, form: Record<string, unknown>): Answer {
  const customer = stringParam(form, 'customer');
  if (isAnswer(customer)) return customer;
  if (customer === undefined) return stripeError(400, 'Missing required param: customer.', { param: 'customer' });
  if (!store.customers.has(customer)) return noSuch('customer', customer, 'customer');
  const entries = formList(form.items);
  if (entries.length === 0) return stripeError(400, 'Missing required param: items.', { param: 'items' });
  const collection = form.collection_method ?? 'charge_automatically';
  if (collection !== 'charge_automatically' && collection !== 'send_invoice') {
    return stripeError(400, 'Invalid collection_method: must be one of charge_automatically or send_invoice', { param: 'collection_method' });
  }
  const now = store.now();
  const id = store.newId('sub');
  const items: SandboxSubscriptionItem[] = [];
  for (const [index, entry] of entries.entries()) {
    const made = newItem(store, { subscriptionId: id, entry, param: `items[${index}]`, start: now, others: items });
    if (isAnswer(made)) return made;
    items.push(made);
  }
  const subscription: SandboxSubscription = {
    id,
    object: 'subscription',
    customer,
    status: 'active',
    collection_method: collection,
    currency: items[0]!.price.currency,
    created: now,
    start_date: now,
    billing_cycle_anchor: now,
    cancel_at_period_end: false,
    canceled_at: null,
    ended_at: null,
    description: typeof form.description === 'string' ? form.description : null,
    items: { object: 'list', data: items, has_more: false, total_count: items.length, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    metadata: metadataOf(form.metadata),
    livemode: false,
  };
  store.subscriptions.set(id, subscription);
  return ok(subscription);
}

/**
 * Stripe's update: `items[N][id]` with `quantity`, `price` or `deleted=true` changes that item,
 * `items[N][price]` without an id adds one; items not named are kept. Any change answers with a
 * `customer.subscription.updated` event whose `previous_attributes` hold the items before.
 */
function updateSubscription(store: SandboxStore, subscription: SandboxSubscription, form: Record<string, unknown>): Answer {
  if (subscription.status === 'canceled') return stripeError(400, 'A canceled subscription can only update its cancellation_details and metadata.');
  if (form.quantity !== undefined) {
    return stripeError(400, 'Received unknown parameter: quantity. Set an item\'s quantity: items[0][id]=si_…&items[0][quantity]=110 (or POST /v1/subscription_items/si_… with quantity).', { param: 'quantity' });
  }
  const before = structuredClone(subscription.items);
  const items = subscription.items.data.map((item) => ({ ...item }));
  const now = store.now();
  for (const [index, entry] of formList(form.items).entries()) {
    const param = `items[${index}]`;
    if (typeof entry.id !== 'string') {
      const made = newItem(store, { subscriptionId: subscription.id, entry, param, start: now, others: items });
      if (isAnswer(made)) return made;
      items.push(made);
      continue;
    }
    const position = items.findIndex((item) => item.id === entry.id);
    if (position < 0) return stripeError(400, `No such subscription_item on ${subscription.id}: '${entry.id}'`, { param: `${param}[id]`, code: 'resource_missing' });
    if (entry.deleted === 'true') {
      items.splice(position, 1);
      continue;
    }
    const item = items[position]!;
    if (entry.price !== undefined) {
      const price = typeof entry.price === 'string' ? store.prices.get(entry.price) : undefined;
      if (!price) return noSuch('price', String(entry.price), `${param}[price]`);
      item.price = price;
    }
    if (entry.quantity !== undefined) {
      const quantity = integerParam(entry.quantity, `${param}[quantity]`, { min: 0, max: 1_000_000_000 });
      if (isAnswer(quantity)) return quantity;
      item.quantity = quantity;
    }
    if (entry.metadata !== undefined) item.metadata = { ...item.metadata, ...metadataOf(entry.metadata) };
  }
  if (items.length === 0) return stripeError(400, 'A subscription must keep at least one item: cancel it instead (DELETE /v1/subscriptions/sub_…).', { param: 'items' });
  const prices = items.map((item) => item.price.id);
  if (new Set(prices).size !== prices.length) return stripeError(400, 'Cannot add multiple subscription items with the same price.', { param: 'items' });

  const previousAttributes: Record<string, unknown> = {};
  if (JSON.stringify(items) !== JSON.stringify(before.data)) {
    previousAttributes.items = before;
    subscription.items = { ...subscription.items, data: items, total_count: items.length };
  }
  if (form.metadata !== undefined) {
    const metadata = { ...subscription.metadata, ...metadataOf(form.metadata) };
    if (JSON.stringify(metadata) !== JSON.stringify(subscription.metadata)) {
      previousAttributes.metadata = subscription.metadata;
      subscription.metadata = metadata;
    }
  }
  if (typeof form.description === 'string' && form.description !== subscription.description) {
    previousAttributes.description = subscription.description;
    subscription.description = form.description;
  }
  const changed = Object.keys(previousAttributes).length > 0;
  return ok(subscription, changed ? [{ type: 'customer.subscription.updated', subscription: structuredClone(subscription), previousAttributes }] : []);
}

/** `DELETE /v1/subscriptions/:id`: canceled at once, answered with `customer.subscription.deleted`. */
function cancelSubscription(store: SandboxStore, subscription: SandboxSubscription): Answer {
  if (subscription.status === 'canceled') return stripeError(400, `No active subscription: ${subscription.id} is already canceled.`);
  const now = store.now();
  subscription.status = 'canceled';
  subscription.canceled_at = now;
  subscription.ended_at = now;
  return ok(subscription, [{ type: 'customer.subscription.deleted', subscription: structuredClone(subscription), previousAttributes: {} }]);
}

function newItem(
  store: SandboxStore,
  { subscriptionId, entry, param, start, others }: { subscriptionId: string; entry: Record<string, unknown>; param: string; start: number; others: SandboxSubscriptionItem[] },
): SandboxSubscriptionItem | Answer {
  if (typeof entry.price !== 'string') return stripeError(400, `Missing required param: ${param}[price].`, { param: `${param}[price]` });
  const price = store.prices.get(entry.price);
  if (!price) return noSuch('price', entry.price, `${param}[price]`);
  if (others.some((other) => other.price.id === price.id)) return stripeError(400, 'Cannot add multiple subscription items with the same price.', { param: `${param}[price]` });
  const quantity = entry.quantity === undefined ? 1 : integerParam(entry.quantity, `${param}[quantity]`, { min: 0, max: 1_000_000_000 });
  if (isAnswer(quantity)) return quantity;
  return {
    id: store.newId('si'),
    object: 'subscription_item',
    created: start,
    subscription: subscriptionId,
    price,
    quantity,
    current_period_start: start,
    current_period_end: periodEnd(start, price.recurring),
    metadata: metadataOf(entry.metadata),
  };
}

/** The end of the first period that starts at `start`, one price interval later (calendar months and years, in UTC). */
function periodEnd(start: number, { interval, interval_count }: SandboxPrice['recurring']): number {
  const date = new Date(start * 1000);
  if (interval === 'day') date.setUTCDate(date.getUTCDate() + interval_count);
  if (interval === 'week') date.setUTCDate(date.getUTCDate() + 7 * interval_count);
  if (interval === 'month') date.setUTCMonth(date.getUTCMonth() + interval_count);
  if (interval === 'year') date.setUTCFullYear(date.getUTCFullYear() + interval_count);
  return Math.floor(date.getTime() / 1000);
}

function found<T>(value: T | undefined, resource: string, id: string): Answer {
  return value ? ok(value) : noSuch(resource, id);
}

function list(data: unknown[], url: string) {
  return { object: 'list', data, has_more: false, url };
}
