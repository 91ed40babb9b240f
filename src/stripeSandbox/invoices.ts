import {
  DECLINING_PAYMENT_METHODS,
  integerParam,
  isAnswer,
  metadataOf,
  noSuch,
  ok,
  stringParam,
  stripeError,
  type Answer,
  type SandboxInvoice,
  type SandboxInvoiceItem,
  type SandboxStore,
} from './objects.js';

/**
 * Invoices and invoice items, as the invoice push uses them: a draft invoice, items attached to
 * it, finalisation, payment, voiding, deletion of a draft, and their GETs.
 */
export function handleInvoices(store: SandboxStore, method: string, path: string, form: Record<string, unknown>): Answer | undefined {
  if (method === 'POST' && path === '/v1/invoices') return createInvoice(store, form);
  if (method === 'GET' && path === '/v1/invoices') {
    const customer = stringParam(form, 'customer');
    if (isAnswer(customer)) return customer;
    const data = [...store.invoices.values()].filter((invoice) => customer === undefined || invoice.customer === customer).reverse();
    return ok({ object: 'list', data, has_more: false, url: '/v1/invoices' });
  }
  if (method === 'POST' && path === '/v1/invoiceitems') return createInvoiceItem(store, form);

  const action = /^\/v1\/invoices\/([^/]+)\/(finalize|pay|void)$/.exec(path);
  if (method === 'POST' && action) {
    const invoice = store.invoices.get(action[1]!);
    if (!invoice) return noSuch('invoice', action[1]!);
    if (action[2] === 'finalize') return finalize(store, invoice, form);
    if (action[2] === 'pay') return pay(store, invoice, form);
    return voidInvoice(store, invoice);
  }
  const one = /^\/v1\/invoices\/([^/]+)$/.exec(path);
  if (one && (method === 'GET' || method === 'DELETE')) {
    const invoice = store.invoices.get(one[1]!);
    if (!invoice) return noSuch('invoice', one[1]!);
    if (method === 'GET') return ok(invoice);
    if (invoice.status !== 'draft') return stripeError(400, 'You can only delete draft invoices.');
    store.invoices.delete(invoice.id);
    return ok({ id: invoice.id, object: 'invoice', deleted: true });
  }
  const item = /^\/v1\/invoiceitems\/([^/]+)$/.exec(path);
  if (method === 'GET' && item) {
    const found = store.invoiceItems.get(item[1]!);
    return found ? ok(found) : noSuch('invoiceitem', item[1]!);
  }
  return undefined;
}

function createInvoice(store: SandboxStore, form: Record<string, unknown>): Answer {
  const customer = stringParam(form, 'customer');
  if (isAnswer(customer)) return customer;
  if (customer === undefined) return stripeError(400, 'Missing required param: customer.', { param: 'customer' });
  if (!store.customers.has(customer)) return noSuch('customer', customer, 'customer');
  const collection = form.collection_method ?? 'charge_automatically';
  if (collection !== 'charge_automatically' && collection !== 'send_invoice') {
    return stripeError(400, 'Invalid collection_method: must be one of charge_automatically or send_invoice', { param: 'collection_method' });
  }
  let daysUntilDue: number | null = null;
  if (form.days_until_due !== undefined) {
    const days = integerParam(form.days_until_due, 'days_until_due', { min: 0, max: 730 });
    if (isAnswer(days)) return days;
    daysUntilDue = days;
  }
  if (collection === 'send_invoice' && daysUntilDue === null) return stripeError(400, 'Missing required param: days_until_due.', { param: 'days_until_due' });
  const id = store.newId('in');
  const invoice: SandboxInvoice = {
    id,
    object: 'invoice',
    customer,
    collection_method: collection,
    days_until_due: daysUntilDue,
    due_date: null,
    currency: typeof form.currency === 'string' ? form.currency : 'usd',
    status: 'draft',
    auto_advance: form.auto_advance === 'true',
    description: typeof form.description === 'string' ? form.description : null,
    metadata: metadataOf(form.metadata),
    number: null,
    subtotal: 0,
    total: 0,
    amount_due: 0,
    amount_paid: 0,
    amount_remaining: 0,
    attempted: false,
    attempt_count: 0,
    created: store.now(),
    status_transitions: { finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null },
    lines: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/invoices/${id}/lines` },
    livemode: false,
  };
  // Without `pending_invoice_items_behavior: exclude`, Stripe sweeps the customer's pending items in.
  if (form.pending_invoice_items_behavior !== 'exclude') {
    for (const item of store.invoiceItems.values()) if (item.customer === customer && item.invoice === null) attach(item, invoice);
  }
  store.invoices.set(id, invoice);
  return ok(invoice);
}

function createInvoiceItem(store: SandboxStore, form: Record<string, unknown>): Answer {
  const customer = stringParam(form, 'customer');
  if (isAnswer(customer)) return customer;
  if (customer === undefined) return stripeError(400, 'Missing required param: customer.', { param: 'customer' });
  if (!store.customers.has(customer)) return noSuch('customer', customer, 'customer');
  const amount = integerParam(form.amount, 'amount');
  if (isAnswer(amount)) return amount;
  const invoiceId = stringParam(form, 'invoice');
  if (isAnswer(invoiceId)) return invoiceId;
  const invoice = invoiceId === undefined ? undefined : store.invoices.get(invoiceId);
  if (invoiceId !== undefined && !invoice) return noSuch('invoice', invoiceId, 'invoice');
  if (invoice && invoice.status !== 'draft') return stripeError(400, `Invoice ${invoice.id} is not a draft; items cannot be added to it.`, { param: 'invoice' });
  if (invoice && invoice.customer !== customer) return stripeError(400, `Invoice ${invoice.id} belongs to another customer.`, { param: 'invoice' });
  const period = (form.period ?? {}) as { start?: unknown; end?: unknown };
  const now = store.now();
  const start = period.start === undefined ? now : integerParam(period.start, 'period[start]', { min: 0 });
  if (isAnswer(start)) return start;
  const end = period.end === undefined ? now : integerParam(period.end, 'period[end]', { min: 0 });
  if (isAnswer(end)) return end;
  const item: SandboxInvoiceItem = {
    id: store.newId('ii'),
    object: 'invoiceitem',
    customer,
    amount,
    currency: typeof form.currency === 'string' ? form.currency : 'usd',
    description: typeof form.description === 'string' ? form.description : null,
    invoice: null,
    metadata: metadataOf(form.metadata),
    period: { start, end },
    date: now,
    livemode: false,
  };
  store.invoiceItems.set(item.id, item);
  if (invoice) attach(item, invoice);
  return ok(item);
}

function finalize(store: SandboxStore, invoice: SandboxInvoice, form: Record<string, unknown>): Answer {
  if (invoice.status !== 'draft') return stripeError(400, "This invoice is already finalized, you can't re-finalize a non-draft invoice.");
  const now = store.now();
  invoice.status = 'open';
  invoice.number = `SANDBOX-${String([...store.invoices.values()].filter((each) => each.number !== null).length + 1).padStart(4, '0')}`;
  invoice.status_transitions.finalized_at = now;
  if (invoice.days_until_due !== null) invoice.due_date = now + invoice.days_until_due * 86_400;
  if (form.auto_advance !== undefined) invoice.auto_advance = form.auto_advance === 'true';
  // Stripe closes an invoice of 0 at once: there is nothing to collect.
  if (invoice.amount_due === 0) markPaid(invoice, now);
  return ok(invoice);
}

/**
 * Pays an open invoice in full, as though the customer's payment method (or, with
 * `paid_out_of_band`, money received elsewhere) covered it: the sandbox has no cards. A customer
 * whose default payment method is one of Stripe's declining test methods (`pm_card_chargeDeclined`,
 * …) is declined as Stripe declines: a 402 `card_error` with its code and decline code, the
 * invoice left open with the attempt counted. `paid_out_of_band=true` always pays.
 */
function pay(store: SandboxStore, invoice: SandboxInvoice, form: Record<string, unknown>): Answer {
  if (invoice.status === 'paid') return stripeError(400, 'Invoice is already paid', { code: 'invoice_already_paid' });
  if (invoice.status !== 'open') return stripeError(400, `You can only pay an open invoice; this one is ${invoice.status}.`, { code: 'invoice_not_open' });
  const method = store.customers.get(invoice.customer)?.invoice_settings.default_payment_method;
  const decline = method ? DECLINING_PAYMENT_METHODS[method] : undefined;
  if (decline && form.paid_out_of_band !== 'true' && invoice.amount_due > 0) {
    invoice.attempted = true;
    invoice.attempt_count += 1;
    return {
      status: 402,
      body: { error: { type: 'card_error', code: decline.code, ...(decline.decline_code && { decline_code: decline.decline_code }), message: decline.message, payment_method: { id: method } } },
    };
  }
  markPaid(invoice, store.now());
  return ok(invoice);
}

function voidInvoice(store: SandboxStore, invoice: SandboxInvoice): Answer {
  if (invoice.status !== 'open') return stripeError(400, `You can only void an open invoice; this one is ${invoice.status}.`);
  invoice.status = 'void';
  invoice.amount_due = 0;
  invoice.amount_remaining = 0;
  invoice.status_transitions.voided_at = store.now();
  return ok(invoice);
}

function markPaid(invoice: SandboxInvoice, now: number): void {
  invoice.status = 'paid';
  invoice.attempted = true;
  invoice.attempt_count += invoice.amount_due > 0 ? 1 : 0;
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.status_transitions.paid_at = now;
}

function attach(item: SandboxInvoiceItem, invoice: SandboxInvoice): void {
  item.invoice = invoice.id;
  invoice.lines.data.push({ id: `il_${item.id.slice(3)}`, object: 'line_item', amount: item.amount, currency: item.currency, description: item.description, metadata: item.metadata, period: item.period });
  invoice.lines.total_count = invoice.lines.data.length;
  const total = invoice.lines.data.reduce((sum, line) => sum + line.amount, 0);
  invoice.subtotal = total;
  invoice.total = total;
  invoice.amount_due = Math.max(0, total);
  invoice.amount_remaining = Math.max(0, total);
}
