import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { coreCalls, knownGaps, methods } from './matrix.js';
import { MATRIX_PATH, renderMatrix } from './render.js';
import { fieldsNeedingEntries, sdkMethods, sdkVersion, type SdkMethod } from './sdkSurface.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sdk = sdkMethods();
const sdkByName = new Map(sdk.map((method) => [method.name, method]));

describe('the Metronome compatibility matrix', () => {
  it('has an entry for every method of the SDK, and for no other', () => {
    expect(sdk.length).toBeGreaterThan(100);
    expect(sdk.filter((method) => method.verb !== null).every((method) => method.path!.startsWith('/v'))).toBe(true);
    expect(sdk.map((method) => method.name).filter((name) => !(name in methods)), 'SDK methods missing from matrix.ts').toEqual([]);
    expect(Object.keys(methods).filter((name) => !sdkByName.has(name)), 'methods in matrix.ts the SDK lacks').toEqual([]);
  });

  it('has an entry for every request field of the core calls, and for no other', () => {
    for (const [name, call] of Object.entries(coreCalls)) {
      expect(sdkByName.has(name), `${name} is an SDK method`).toBe(true);
      const refused = Object.entries(call.fields).filter(([, entry]) => entry.status === 'refused').map(([field]) => field);
      const needed = fieldsNeedingEntries(call.params, refused);
      expect(needed.length, `${call.params} has fields`).toBeGreaterThan(0);
      expect(needed.filter((field) => !(field in call.fields)), `fields of ${name} missing from matrix.ts`).toEqual([]);
      expect(Object.keys(call.fields).filter((field) => !needed.includes(field)), `fields of ${name} in matrix.ts the SDK lacks (or under a refused field)`).toEqual([]);
    }
  });

  it('marks a field ignored only when it is a known gap', () => {
    const ignored = Object.entries(coreCalls).flatMap(([name, call]) =>
      Object.entries(call.fields)
        .filter(([, entry]) => entry.status === 'ignored')
        .map(([field]) => `${name}: ${field}`),
    );
    expect(ignored.sort()).toEqual([...knownGaps].sort());
  });

  it('gives a note to every partial or ignored entry', () => {
    const silent = [
      ...Object.entries(methods).filter(([, entry]) => entry.status === 'partial' && !entry.note).map(([name]) => name),
      ...Object.entries(coreCalls).flatMap(([name, call]) =>
        Object.entries(call.fields)
          .filter(([, entry]) => (entry.status === 'partial' || entry.status === 'ignored') && !entry.note)
          .map(([field]) => `${name}: ${field}`),
      ),
    ];
    expect(silent).toEqual([]);
  });

  it(`is what ${MATRIX_PATH} says (npm run compat writes it)`, () => {
    expect(readFileSync(path.join(root, MATRIX_PATH), 'utf8')).toBe(renderMatrix({ sdk, version: sdkVersion() }));
  });
});

const START = '2024-01-01T00:00:00Z';
const NEXT_MONTH = '2024-02-01T00:00:00Z';
/** How Allot words a refusal: an unknown key, or a Metronome field it names as not supported. */
const UNSUPPORTED = /^is not a field Allot supports$|not supported/;
const ANOTHER_ID = '0190a5c0-0000-7000-8000-000000000000';

describe('the matrix against a running server', () => {
  let server: TestServer;
  let catalog: SeatCatalog;
  let customer: string;
  let contract: string;
  let subscription: string;
  let usageProduct: string;

  const send = async (method: SdkMethod, params: Record<string, unknown>): Promise<{ status: number; body: { message?: string; errors?: { field: string; message: string }[] } }> => {
    const rest = { ...params };
    const url = new URL(
      server.baseURL +
        method.path!.replace(/\{(\w+)\}/g, (_, name: string) => {
          const value = rest[name] ?? (name === 'billing_provider_type' ? 'stripe' : ANOTHER_ID);
          delete rest[name];
          return encodeURIComponent(String(value));
        }),
    );
    const init: RequestInit = { method: method.verb!, headers: { authorization: `Bearer ${server.key}` } };
    if (method.verb === 'GET' || method.verb === 'DELETE') {
      for (const [key, value] of Object.entries(rest)) url.searchParams.set(key, String(value));
    } else {
      init.headers = { ...init.headers, 'content-type': 'application/json' };
      init.body = JSON.stringify(method.name === 'v1.usage.ingest' ? rest.usage : rest);
    }
    const response = await fetch(url, init);
    const text = await response.text();
    return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : {} };
  };

  const subscriptionInput = (temporaryId: string, startingAt?: string) => ({
    temporary_id: temporaryId,
    collection_schedule: 'ADVANCE',
    initial_quantity: 2,
    proration: { is_prorated: true, invoice_behavior: 'BILL_ON_NEXT_COLLECTION_DATE' },
    subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
    billing_cycle_config: { invoice_placement: 'ON_USAGE_INVOICE' },
    ...(startingAt && { starting_at: startingAt }),
  });
  const recurringInput = (subscriptionId: string, startingAt: string) => ({
    product_id: catalog.poolProduct,
    access_amount: { credit_type_id: catalog.aiCredits, unit_price: 50 },
    commit_duration: { value: 1, unit: 'PERIODS' },
    priority: 1,
    starting_at: startingAt,
    subscription_config: { subscription_id: subscriptionId, allocation: 'POOLED', apply_seat_increase_config: { is_prorated: true } },
  });
  const oneOffInput = (startingAt: string, endingBefore: string) => ({
    product_id: catalog.poolProduct,
    priority: 1,
    access_schedule: { schedule_items: [{ amount: 100, starting_at: startingAt, ending_before: endingBefore }] },
  });

  const overrideInput = (startingAt: string) => ({
    starting_at: startingAt,
    type: 'OVERWRITE',
    override_specifiers: [{ product_id: usageProduct }],
    overwrite_rate: { rate_type: 'FLAT', price: 2 },
  });

  /** A valid request of each core call with refused fields, to which one refused field is added. */
  const validRequests: Record<string, () => Record<string, unknown>> = {
    'v1.contracts.create': () => ({
      customer_id: customer,
      starting_at: START,
      rate_card_id: catalog.rateCard,
      usage_statement_schedule: { frequency: 'MONTHLY' },
      subscriptions: [subscriptionInput('seats')],
      recurring_credits: [recurringInput('seats', START)],
      recurring_commits: [recurringInput('seats', START)],
      credits: [oneOffInput(START, NEXT_MONTH)],
      commits: [{ ...oneOffInput(START, NEXT_MONTH), type: 'PREPAID' }],
      overrides: [overrideInput(START)],
    }),
    'v2.contracts.edit': () => ({
      customer_id: customer,
      contract_id: contract,
      add_subscriptions: [subscriptionInput('more', NEXT_MONTH)],
      add_recurring_credits: [recurringInput('more', NEXT_MONTH)],
      add_recurring_commits: [recurringInput('more', NEXT_MONTH)],
      add_credits: [oneOffInput(NEXT_MONTH, '2024-03-01T00:00:00Z')],
      add_commits: [{ ...oneOffInput(NEXT_MONTH, '2024-03-01T00:00:00Z'), type: 'PREPAID' }],
      add_overrides: [overrideInput(NEXT_MONTH)],
      update_subscriptions: [{ subscription_id: subscription, quantity_updates: [{ starting_at: NEXT_MONTH, quantity: 3 }] }],
    }),
    'v1.contracts.rateCards.create': () => ({ name: 'Probe card' }),
    'v1.contracts.rateCards.rates.add': () => ({ rate_card_id: catalog.rateCard, product_id: usageProduct, entitled: true, rate_type: 'FLAT', price: 1, starting_at: START }),
    'v1.billableMetrics.create': () => ({ name: 'Probe metric', aggregation_type: 'COUNT' }),
    'v1.alerts.create': () => ({ alert_type: 'low_remaining_contract_credit_and_commit_balance_reached', name: 'Probe alert', threshold: 10, customer_id: customer }),
    'v1.customers.invoices.list': () => ({ customer_id: customer }),
    'v1.customers.create': () => ({ name: 'Probe customer' }),
    'v1.customers.setBillingConfigurations': () => ({
      data: [
        {
          customer_id: customer,
          billing_provider: 'stripe',
          delivery_method: 'direct_to_billing_provider',
          configuration: { stripe_customer_id: 'cus_probe', stripe_collection_method: 'charge_automatically' },
        },
      ],
    }),
  };

  beforeAll(async () => {
    server = await startTestServer({ engine: 'pglite', clockStart: START });
    const client = server.client();
    catalog = await seatCatalog(server);
    const metric = (await client.v1.billableMetrics.create({ name: 'Requests', aggregation_type: 'COUNT', event_type_filter: { in_values: ['request'] } })).data.id;
    usageProduct = (await client.v1.contracts.products.create({ name: 'Requests', type: 'USAGE', billable_metric_id: metric })).data.id;
    customer = (await client.v1.customers.create({ name: 'Probe' })).data.id;
    contract = (
      await client.v1.contracts.create({
        customer_id: customer,
        starting_at: START,
        rate_card_id: catalog.rateCard,
        subscriptions: [subscriptionInput('seats') as never],
      })
    ).data.id;
    subscription = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract })).data.subscriptions![0]!.id!;
  });
  afterAll(() => server?.stop());

  it('serves the methods marked supported or partial, and none marked not built', async () => {
    const response = await fetch(`${server.baseURL}/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = new Set(Object.entries(document.paths).flatMap(([route, operations]) => Object.keys(operations).map((verb) => `${verb.toUpperCase()} ${route.replace(/\{\w+\}/g, '{}')}`)));
    const routeOf = (method: SdkMethod) => `${method.verb} ${method.path!.replace(/\{\w+\}/g, '{}')}`;
    const served = sdk.filter((method) => method.verb && (methods[method.name]?.status === 'supported' || methods[method.name]?.status === 'partial'));
    const notBuilt = sdk.filter((method) => methods[method.name]?.status === 'not built');
    expect(served.filter((method) => !routes.has(routeOf(method))).map((method) => method.name), 'marked served, no route').toEqual([]);
    expect(notBuilt.filter((method) => routes.has(routeOf(method))).map((method) => method.name), 'marked not built, but routed').toEqual([]);
  });

  it('answers each method marked not built with the status the matrix gives', async () => {
    const answers: Record<string, number> = {};
    const expected: Record<string, number> = {};
    for (const method of sdk) {
      const entry = methods[method.name];
      if (entry?.status !== 'not built') continue;
      expected[method.name] = entry.answers ?? 404;
      answers[method.name] = (await send(method, {})).status;
    }
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(answers).toEqual(expected);
  });

  it('accepts the valid request each refused field is added to', async () => {
    for (const [name, request] of Object.entries(validRequests)) {
      const answer = await send(sdkByName.get(name)!, request());
      expect(answer.status, `${name}: ${JSON.stringify(answer.body)}`).toBe(200);
    }
  });

  it('answers a 400 naming each field marked refused', async () => {
    const wrong: string[] = [];
    let probed = 0;
    for (const [name, call] of Object.entries(coreCalls)) {
      const refused = Object.entries(call.fields).filter(([, entry]) => entry.status === 'refused');
      if (refused.length === 0) continue;
      const valid = validRequests[name];
      expect(valid, `a valid request of ${name} to add refused fields to`).toBeDefined();
      for (const [field] of refused) {
        const request = valid!();
        setField(request, field, 'probe');
        const answer = await send(sdkByName.get(name)!, request);
        const named = field.replaceAll('[]', '.0');
        probed++;
        // The field's own error says it is unsupported: a 400 about its value ("no customer probe") would not show that.
        const error = answer.body.errors?.find((candidate) => candidate.field === named);
        if (answer.status !== 400 || !error || !UNSUPPORTED.test(error.message) || !answer.body.message?.includes(named)) {
          wrong.push(`${name}: ${field} answered ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }
    }
    expect(probed).toBeGreaterThan(50);
    expect(wrong).toEqual([]);
  });
});

/** Sets `commits[].amount` in `request`: the first item of each array on the way, objects made as needed. */
function setField(request: Record<string, unknown>, field: string, value: unknown): void {
  const parts = field.split('.');
  let node: Record<string, unknown> = request;
  for (const [index, part] of parts.entries()) {
    const isArray = part.endsWith('[]');
    const key = isArray ? part.slice(0, -2) : part;
    if (index === parts.length - 1 && !isArray) {
      node[key] = value;
      return;
    }
    if (isArray) {
      const items = (node[key] ??= [{}]) as Record<string, unknown>[];
      node = items[0] ??= {};
    } else {
      node = (node[key] ??= {}) as Record<string, unknown>;
    }
  }
}
