import type Metronome from '@metronome/sdk';
import type { UsageListParams, UsageListResponse, UsageListWithGroupsParams, UsageListWithGroupsResponse } from '@metronome/sdk/resources/v1/usage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { expect400, rejection } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Usage queries through the SDK, on events ingested through the SDK, with a clock fixed at
 * 2024-04-10T12:00Z. Every metric counts `call` events with `status: ok` and groups by user and
 * by team; one event has `status: error` and must count nowhere.
 *
 * Customer Acme (alias `acme`), events kept (e1…e6b) and the one refused by the filter (e4):
 *
 * | event | time (April) | user | team | tokens | model | status |
 * |---|---|---|---|---|---|---|
 * | e1 | 1st 10:05 | u1 | red | 10 | m1 | ok |
 * | e2 | 1st 10:40 | u2 | red | 5 | m2 | ok |
 * | e3 | 1st 11:15 | u1 | red | 20 | m1 | ok |
 * | e4 | 1st 11:50 | u3 | blue | 7 | m3 | error |
 * | e5 | 2nd 09:00 | u3 | blue | 3 | m1 | ok |
 * | e6a | 2nd 09:30 | u2 | red | 8 | m2 | ok |
 * | e6b | 2nd 09:30 | u2 | red | 6 | m2 | ok |
 *
 * e6a and e6b share a timestamp: LATEST takes the greater transaction id (`acme-e6b`, 6), though
 * it is ingested first. Totals: COUNT 6, SUM 52, MAX 20, UNIQUE 2 (m3 only came with e4), LATEST 6.
 * Customer Beta (by id): 100, "0.1" and "0.2" tokens on April 1st, 10:00–10:25, user u9, team green.
 */

const CLOCK = '2024-04-10T12:00:00Z';
const APRIL_1 = '2024-04-01T00:00:00Z';
const APRIL_4 = '2024-04-04T00:00:00Z';
const UNKNOWN = '0192f6a0-0000-7000-8000-000000000000';
const at = (iso: string) => new Date(iso).toISOString();

type Aggregation = 'COUNT' | 'SUM' | 'MAX' | 'UNIQUE' | 'LATEST';
const AGGREGATIONS: Aggregation[] = ['COUNT', 'SUM', 'MAX', 'UNIQUE', 'LATEST'];

/** Acme's expected values: per day (April 1st, 2nd, 3rd), per hour (April 1st 10:00, 11:00, 12:00), over all, per user, per team. */
const EXPECTED: Record<
  Aggregation,
  { days: (number | null)[]; hours: (number | null)[]; total: number; users: Record<string, number>; teams: Record<string, number> }
> = {
  COUNT: { days: [3, 3, 0], hours: [2, 1, 0], total: 6, users: { u1: 2, u2: 3, u3: 1 }, teams: { blue: 1, red: 5 } },
  SUM: { days: [35, 17, 0], hours: [15, 20, 0], total: 52, users: { u1: 30, u2: 19, u3: 3 }, teams: { blue: 3, red: 49 } },
  MAX: { days: [20, 8, null], hours: [10, 20, null], total: 20, users: { u1: 20, u2: 8, u3: 3 }, teams: { blue: 3, red: 20 } },
  UNIQUE: { days: [2, 2, 0], hours: [2, 1, 0], total: 2, users: { u1: 1, u2: 1, u3: 1 }, teams: { blue: 1, red: 2 } },
  LATEST: { days: [20, 6, null], hours: [5, 20, null], total: 6, users: { u1: 20, u2: 6, u3: 3 }, teams: { blue: 3, red: 6 } },
};

describe.each(ENGINES)('usage queries through the SDK on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  const metrics = {} as Record<Aggregation, string>;
  let archivedMetric: string;
  let acme: string;
  let beta: string;
  let dormant: string;

  async function list(params: UsageListParams, limit?: number): Promise<UsageListResponse[]> {
    const items: UsageListResponse[] = [];
    for await (const item of client.v1.usage.list(params, limit === undefined ? {} : { query: { limit } })) items.push(item);
    return items;
  }

  async function listWithGroups(params: UsageListWithGroupsParams): Promise<UsageListWithGroupsResponse[]> {
    const items: UsageListWithGroupsResponse[] = [];
    for await (const item of client.v1.usage.listWithGroups(params)) items.push(item);
    return items;
  }

  const call = (transactionId: string, customer: string, timestamp: string, properties: Record<string, unknown>) => ({
    transaction_id: transactionId,
    customer_id: customer,
    event_type: 'call',
    timestamp,
    properties: { status: 'ok', ...properties },
  });

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: CLOCK });
    client = server.client();
    const filters = [
      { name: 'status', exists: true, in_values: ['ok'] },
      { name: 'user_id', exists: true },
      { name: 'team', exists: true },
      { name: 'model', exists: true },
    ];
    // `model` is only part of a compound key, never a group key by itself.
    const groupKeys = [['user_id'], ['team'], ['model', 'team']];
    for (const aggregation of AGGREGATIONS) {
      const key = aggregation === 'COUNT' ? undefined : aggregation === 'UNIQUE' ? 'model' : 'tokens';
      metrics[aggregation] = (
        await client.v1.billableMetrics.create({
          name: `Calls ${aggregation}`,
          event_type_filter: { in_values: ['call'] },
          aggregation_type: aggregation,
          ...(key && { aggregation_key: key }),
          property_filters: key === 'tokens' ? [...filters, { name: key, exists: true }] : filters,
          group_keys: groupKeys,
        })
      ).data.id;
    }
    archivedMetric = (await client.v1.billableMetrics.create({ name: 'Old calls', event_type_filter: { in_values: ['call'] }, aggregation_type: 'COUNT' })).data.id;

    acme = (await client.v1.customers.create({ name: 'Acme', ingest_aliases: ['acme'] })).data.id;
    beta = (await client.v1.customers.create({ name: 'Beta' })).data.id;
    dormant = (await client.v1.customers.create({ name: 'Dormant' })).data.id;
    await client.v1.customers.archive({ id: dormant });

    const acmeEvent = (name: string, timestamp: string, user: string, team: string, tokens: number, model: string, status = 'ok') =>
      call(`acme-${name}`, 'acme', timestamp, { user_id: user, team, tokens, model, status });
    await client.v1.usage.ingest({
      usage: [
        acmeEvent('e1', '2024-04-01T10:05:00Z', 'u1', 'red', 10, 'm1'),
        acmeEvent('e2', '2024-04-01T10:40:00Z', 'u2', 'red', 5, 'm2'),
        acmeEvent('e3', '2024-04-01T11:15:00Z', 'u1', 'red', 20, 'm1'),
        acmeEvent('e4', '2024-04-01T11:50:00Z', 'u3', 'blue', 7, 'm3', 'error'),
        acmeEvent('e5', '2024-04-02T09:00:00Z', 'u3', 'blue', 3, 'm1'),
      ],
    });
    // The later transaction id first: LATEST must not depend on arrival order.
    await client.v1.usage.ingest({ usage: [acmeEvent('e6b', '2024-04-02T09:30:00Z', 'u2', 'red', 6, 'm2')] });
    await client.v1.usage.ingest({ usage: [acmeEvent('e6a', '2024-04-02T09:30:00Z', 'u2', 'red', 8, 'm2')] });
    // A repeat of e1 with other properties is acknowledged and ignored.
    await client.v1.usage.ingest({ usage: [acmeEvent('e1', '2024-04-01T10:05:00Z', 'u1', 'red', 999, 'm9')] });
    await client.v1.usage.ingest({
      usage: [
        call('beta-1', beta, '2024-04-01T10:00:00Z', { user_id: 'u9', team: 'green', tokens: 100, model: 'm1' }),
        call('beta-2', beta, '2024-04-01T10:20:00Z', { user_id: 'u9', team: 'green', tokens: '0.1', model: 'm1' }),
        call('beta-3', beta, '2024-04-01T10:25:00Z', { user_id: 'u9', team: 'green', tokens: '0.2', model: 'm1' }),
        call('nobody-1', 'nobody', '2024-04-01T10:30:00Z', { user_id: 'u0', team: 'grey', tokens: 1, model: 'm1' }),
      ],
    });
    await client.v1.billableMetrics.archive({ id: archivedMetric });
  });
  afterAll(() => server.stop());

  describe('v1.usage.list', () => {
    it.each(AGGREGATIONS)('gives %s per UTC day, with 0 or null for a day without usage', async (aggregation) => {
      const items = await list({ starting_on: APRIL_1, ending_before: APRIL_4, window_size: 'DAY', customer_ids: [acme], billable_metrics: [{ id: metrics[aggregation] }] });
      expect(items).toEqual(
        EXPECTED[aggregation].days.map((value, day) => ({
          customer_id: acme,
          billable_metric_id: metrics[aggregation],
          billable_metric_name: `Calls ${aggregation}`,
          start_timestamp: at(`2024-04-0${day + 1}T00:00:00Z`),
          end_timestamp: at(`2024-04-0${day + 2}T00:00:00Z`),
          value,
        })),
      );
    });

    it.each(AGGREGATIONS)('gives %s per hour; the event failing the filter (11:50) counts nowhere', async (aggregation) => {
      const items = await list({
        starting_on: '2024-04-01T10:00:00Z',
        ending_before: '2024-04-01T13:00:00Z',
        window_size: 'hour',
        customer_ids: [acme],
        billable_metrics: [{ id: metrics[aggregation] }],
      } as unknown as UsageListParams);
      expect(items.map((item) => [item.start_timestamp, item.end_timestamp, item.value])).toEqual([
        [at('2024-04-01T10:00:00Z'), at('2024-04-01T11:00:00Z'), EXPECTED[aggregation].hours[0]],
        [at('2024-04-01T11:00:00Z'), at('2024-04-01T12:00:00Z'), EXPECTED[aggregation].hours[1]],
        [at('2024-04-01T12:00:00Z'), at('2024-04-01T13:00:00Z'), EXPECTED[aggregation].hours[2]],
      ]);
    });

    it.each(AGGREGATIONS)('gives %s over the whole range with NONE, per user and per team', async (aggregation) => {
      const expected = EXPECTED[aggregation];
      for (const [key, groups] of [['user_id', expected.users], ['team', expected.teams]] as const) {
        const items = await list({
          starting_on: APRIL_1,
          ending_before: APRIL_4,
          window_size: 'NONE',
          customer_ids: [acme],
          billable_metrics: [{ id: metrics[aggregation], group_by: { key } }],
        });
        expect(items).toHaveLength(1);
        expect(items[0]).toMatchObject({ start_timestamp: at(APRIL_1), end_timestamp: at(APRIL_4), value: expected.total });
        expect(items[0]!.groups).toEqual(groups);
      }
    });

    it('shows the values asked for in group_by.values, null where a value has no usage', async () => {
      const items = await list({
        starting_on: APRIL_1,
        ending_before: '2024-04-03T00:00:00Z',
        window_size: 'DAY',
        customer_ids: [acme],
        billable_metrics: [{ id: metrics.SUM, group_by: { key: 'user_id', values: ['u1', 'u3', 'u4'] } }],
      });
      expect(items.map((item) => item.groups)).toEqual([
        { u1: 30, u3: null, u4: null },
        { u1: null, u3: 3, u4: null },
      ]);
    });

    it('cuts DAY windows at the ends of a range that starts and ends within a day', async () => {
      const items = await list({
        starting_on: '2024-04-01T11:00:00Z',
        ending_before: '2024-04-02T09:00:00Z',
        window_size: 'DAY',
        customer_ids: [acme],
        billable_metrics: [{ id: metrics.COUNT }],
      });
      expect(items.map((item) => [item.start_timestamp, item.end_timestamp, item.value])).toEqual([
        [at('2024-04-01T11:00:00Z'), at('2024-04-02T00:00:00Z'), 1],
        [at('2024-04-02T00:00:00Z'), at('2024-04-02T09:00:00Z'), 0],
      ]);
    });

    it('sums decimals exactly: 100 + 0.1 + 0.2 = 100.3', async () => {
      const [item] = await list({ starting_on: APRIL_1, ending_before: APRIL_4, window_size: 'NONE', customer_ids: [beta], billable_metrics: [{ id: metrics.SUM }] });
      expect(item!.value).toBe(100.3);
    });

    it('lists every live customer and every live metric when neither is given, customer by customer, page by page', async () => {
      const params = { starting_on: APRIL_1, ending_before: APRIL_4, window_size: 'NONE' } as const;
      const items = await list(params, 3);
      const live = Object.values(metrics).sort();
      const customers = [acme, beta].sort();
      expect(items.map((item) => [item.customer_id, item.billable_metric_id])).toEqual(customers.flatMap((customer) => live.map((metric) => [customer, metric])));
      const sum = (customer: string) => items.find((item) => item.customer_id === customer && item.billable_metric_id === metrics.SUM)!.value;
      expect([sum(acme), sum(beta)]).toEqual([52, 100.3]);
      const first = await client.v1.usage.list(params, { query: { limit: 3 } });
      expect(first.data).toHaveLength(3);
      expect(first.next_page).toBeTruthy();
    });

    it('pages through the windows of one series without repeating or skipping one', async () => {
      const items = await list({ starting_on: APRIL_1, ending_before: '2024-04-03T00:00:00Z', window_size: 'HOUR', customer_ids: [acme], billable_metrics: [{ id: metrics.COUNT }] }, 7);
      expect(items).toHaveLength(48);
      expect(items.map((item) => item.start_timestamp)).toEqual(Array.from({ length: 48 }, (_, hour) => new Date(Date.parse(APRIL_1) + hour * 3_600_000).toISOString()));
      expect(items.reduce((total, item) => total + item.value!, 0)).toBe(6);
    });

    it('lists an archived customer or metric when asked for by id', async () => {
      const items = await list({ starting_on: APRIL_1, ending_before: APRIL_4, window_size: 'NONE', customer_ids: [dormant, acme], billable_metrics: [{ id: archivedMetric }] });
      // The archived metric has no status filter: it counted all 7 of Acme's events before it was archived.
      const counts: Record<string, number> = { [acme]: 7, [dormant]: 0 };
      expect(items.map((item) => [item.customer_id, item.value])).toEqual([acme, dormant].sort().map((customer) => [customer, counts[customer]]));
    });

    it('refuses an unaligned range, an empty range, an unknown metric or customer and a key that is not a group key, naming the field', async () => {
      const base = { starting_on: APRIL_1, ending_before: APRIL_4, window_size: 'DAY' } as const;
      await expect400(client.v1.usage.list({ ...base, starting_on: '2024-04-01T00:30:00Z' }), 'starting_on');
      await expect400(client.v1.usage.list({ ...base, window_size: 'HOUR', ending_before: '2024-04-03T23:59:59Z' }), 'ending_before');
      await expect400(client.v1.usage.list({ ...base, ending_before: APRIL_1 }), 'ending_before');
      await expect400(client.v1.usage.list({ ...base, window_size: 'WEEK' as 'DAY' }), 'window_size');
      await expect400(client.v1.usage.list({ ...base, billable_metrics: [{ id: metrics.SUM }, { id: UNKNOWN }] }), 'billable_metrics.1.id');
      await expect400(client.v1.usage.list({ ...base, customer_ids: [acme, UNKNOWN] }), 'customer_ids.1');
      await expect400(client.v1.usage.list({ ...base, billable_metrics: [{ id: metrics.SUM, group_by: { key: 'region' } }] }), 'billable_metrics.0.group_by.key');
      // A property of a compound group key only is not a group key by itself.
      const error = await rejection(client.v1.usage.list({ ...base, billable_metrics: [{ id: metrics.SUM, group_by: { key: 'model' } }] }));
      expect(error.message).toContain('billable_metrics.0.group_by.key: "model" is not a group key of billable metric Calls SUM');
      await expect400(client.v1.usage.list({ ...base, next_page: 'garbage' }), 'next_page');
    });
  });

  describe('v1.usage.listWithGroups', () => {
    const range = { starting_on: APRIL_1, ending_before: '2024-04-03T00:00:00Z' } as const;

    it('gives one item per window when not grouped', async () => {
      const items = await listWithGroups({ customer_id: acme, billable_metric_id: metrics.SUM, window_size: 'DAY', ...range });
      expect(items).toEqual([
        { starting_on: at(APRIL_1), ending_before: at('2024-04-02T00:00:00Z'), group_key: null, group_value: null, value: 35 },
        { starting_on: at('2024-04-02T00:00:00Z'), ending_before: at('2024-04-03T00:00:00Z'), group_key: null, group_value: null, value: 17 },
      ]);
      const hours = await listWithGroups({ customer_id: acme, billable_metric_id: metrics.COUNT, window_size: 'HOUR', ...range, limit: 5 });
      expect(hours.map((item) => item.starting_on)).toEqual(Array.from({ length: 48 }, (_, hour) => new Date(Date.parse(APRIL_1) + hour * 3_600_000).toISOString()));
      expect(hours.filter((item) => item.value !== 0).map((item) => [item.starting_on, item.value])).toEqual([
        [at('2024-04-01T10:00:00Z'), 2],
        [at('2024-04-01T11:00:00Z'), 1],
        [at('2024-04-02T09:00:00Z'), 3],
      ]);
    });

    it.each(AGGREGATIONS)('gives %s per team and day, in window then group order, paged one item at a time', async (aggregation) => {
      const items = await listWithGroups({ customer_id: acme, billable_metric_id: metrics[aggregation], window_size: 'DAY', ...range, group_key: ['team'], limit: 1 });
      const perDay: Record<Aggregation, [number, number, number]> = {
        COUNT: [3, 1, 2],
        SUM: [35, 3, 14],
        MAX: [20, 3, 8],
        UNIQUE: [2, 1, 1],
        LATEST: [20, 3, 6],
      };
      const [redDay1, blueDay2, redDay2] = perDay[aggregation];
      expect(items.map((item) => [item.starting_on, item.group, item.group_key, item.group_value, item.value])).toEqual([
        [at(APRIL_1), { team: 'red' }, 'team', 'red', redDay1],
        [at('2024-04-02T00:00:00Z'), { team: 'blue' }, 'team', 'blue', blueDay2],
        [at('2024-04-02T00:00:00Z'), { team: 'red' }, 'team', 'red', redDay2],
      ]);
    });

    it('groups by a compound key in any order, filtered by group_filters', async () => {
      const items = await listWithGroups({
        customer_id: acme,
        billable_metric_id: metrics.COUNT,
        window_size: 'NONE',
        ...range,
        group_key: ['team', 'model'],
        group_filters: { team: ['red'], model: [] },
      });
      expect(items.map((item) => [item.group, item.group_key, item.value])).toEqual([
        [{ team: 'red', model: 'm1' }, null, 2],
        [{ team: 'red', model: 'm2' }, null, 3],
      ]);
    });

    it('takes the older group_by with values', async () => {
      const items = await listWithGroups({ customer_id: acme, billable_metric_id: metrics.MAX, window_size: 'NONE', ...range, group_by: { key: 'user_id', values: ['u2', 'u3'] } });
      expect(items.map((item) => [item.group_key, item.group_value, item.value])).toEqual([
        ['user_id', 'u2', 8],
        ['user_id', 'u3', 3],
      ]);
    });

    it('uses the current usage statement period of the contract in force with current_period', async () => {
      const rateCard = (await client.v1.contracts.rateCards.create({ name: 'Period card' })).data.id;
      const customer = (await client.v1.customers.create({ name: 'Contracted', ingest_aliases: ['contracted'] })).data.id;
      await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-03-15T00:00:00Z', rate_card_id: rateCard });
      await client.v1.usage.ingest({
        usage: [
          call('contracted-march', 'contracted', '2024-03-31T23:00:00Z', { user_id: 'u1', team: 'red', tokens: 1000, model: 'm1' }),
          call('contracted-april', 'contracted', '2024-04-09T08:00:00Z', { user_id: 'u1', team: 'red', tokens: 40, model: 'm1' }),
        ],
      });
      const items = await listWithGroups({ customer_id: customer, billable_metric_id: metrics.SUM, window_size: 'NONE', current_period: true });
      expect(items).toEqual([{ starting_on: at('2024-04-01T00:00:00Z'), ending_before: at('2024-05-01T00:00:00Z'), group_key: null, group_value: null, value: 40 }]);
      const days = await listWithGroups({ customer_id: customer, billable_metric_id: metrics.SUM, window_size: 'DAY', current_period: true, group_key: ['user_id'] });
      expect(days.map((item) => [item.starting_on, item.value])).toEqual([[at('2024-04-09T00:00:00Z'), 40]]);
    });

    it('refuses what it cannot answer, naming the field', async () => {
      const base = { customer_id: acme, billable_metric_id: metrics.SUM, window_size: 'DAY' as const, ...range };
      await expect400(client.v1.usage.listWithGroups({ ...base, billable_metric_id: UNKNOWN }), 'billable_metric_id');
      await expect400(client.v1.usage.listWithGroups({ ...base, customer_id: UNKNOWN }), 'customer_id');
      await expect400(client.v1.usage.listWithGroups({ ...base, group_key: ['model'] }), 'group_key');
      await expect400(client.v1.usage.listWithGroups({ ...base, group_key: ['model', 'team', 'user_id'] }), 'group_key');
      await expect400(client.v1.usage.listWithGroups({ ...base, group_key: ['team'], group_filters: { user_id: ['u1'] } }), 'group_filters.user_id');
      await expect400(client.v1.usage.listWithGroups({ ...base, group_key: ['team'], group_by: { key: 'team' } }), 'group_by');
      await expect400(client.v1.usage.listWithGroups({ ...base, starting_on: '2024-04-01T00:00:01Z' }), 'starting_on');
      await expect400(client.v1.usage.listWithGroups({ customer_id: acme, billable_metric_id: metrics.SUM, window_size: 'DAY', ending_before: APRIL_4 }), 'starting_on');
      await expect400(client.v1.usage.listWithGroups({ ...base, current_period: true }), 'current_period');
      await expect400(client.v1.usage.listWithGroups({ ...base, group_key: ['team'], next_page: 'garbage' }), 'next_page');
      const error = await rejection(client.v1.usage.listWithGroups({ customer_id: acme, billable_metric_id: metrics.SUM, window_size: 'DAY', current_period: true }));
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/current_period: customer .* has no contract in force at 2024-04-10T12:00:00.000Z/);
    });
  });

  describe('v1.usage.search', () => {
    it('finds stored events by transaction id: a repeat keeps the first, an unknown customer is shown unmatched', async () => {
      const found = await client.v1.usage.search({ transactionIds: ['nobody-1', 'acme-e1', 'missing', 'acme-e4', 'acme-e1'] });
      expect(found.map((event) => event.transaction_id)).toEqual(['nobody-1', 'acme-e1', 'acme-e4']);
      const [nobody, e1, e4] = found;
      expect(e1).toMatchObject({
        transaction_id: 'acme-e1',
        customer_id: 'acme',
        event_type: 'call',
        timestamp: at('2024-04-01T10:05:00Z'),
        properties: { status: 'ok', user_id: 'u1', team: 'red', tokens: 10, model: 'm1' },
        processed_at: at(CLOCK),
        is_duplicate: false,
        matched_customer: { id: acme, name: 'Acme' },
      });
      expect(e1!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(e1!.matched_billable_metrics!.map((metric) => metric.id)).toEqual(Object.values(metrics).sort());
      expect(e1!.matched_billable_metrics!.find((metric) => metric.id === metrics.SUM)).toMatchObject({ name: 'Calls SUM', aggregation_type: 'SUM', aggregation_key: 'tokens' });
      // The event that fails the status filter matches no metric.
      expect(e4!.matched_billable_metrics).toEqual([]);
      expect(nobody).toMatchObject({ customer_id: 'nobody', is_duplicate: false });
      expect(nobody!.matched_customer).toBeUndefined();
      // Searching again gives the same ids.
      const [again] = await client.v1.usage.search({ transactionIds: ['acme-e1'] });
      expect(again!.id).toBe(e1!.id);
    });

    it('refuses an empty list of transaction ids', async () => {
      await expect400(client.v1.usage.search({ transactionIds: [] }), 'transactionIds');
    });
  });

  describe('v1.customers.listBillableMetrics', () => {
    it("lists the metrics of the USAGE products on the rate cards of the customer's contracts", async () => {
      const product = async (name: string, metric?: string) =>
        (await client.v1.contracts.products.create({ name, type: metric ? 'USAGE' : 'FIXED', ...(metric && { billable_metric_id: metric }) })).data.id;
      const rateCard = (await client.v1.contracts.rateCards.create({ name: 'Usage card' })).data.id;
      const rate = async (productId: string, startingAt: string) =>
        client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: productId, entitled: true, rate_type: 'FLAT', price: 1, starting_at: startingAt });
      await rate(await product('Tokens', metrics.SUM), '2024-01-01T00:00:00Z');
      await rate(await product('Requests', metrics.COUNT), '2024-01-01T00:00:00Z');
      await rate(await product('Peak', metrics.MAX), '2024-06-01T00:00:00Z');
      await rate(await product('Credits'), '2024-01-01T00:00:00Z');
      // A metric archived after its product was priced: hidden unless include_archived.
      const soonArchived = (await client.v1.billableMetrics.create({ name: 'Soon archived', aggregation_type: 'COUNT' })).data.id;
      await rate(await product('Legacy', soonArchived), '2024-01-01T00:00:00Z');
      await client.v1.billableMetrics.archive({ id: soonArchived });
      const customer = (await client.v1.customers.create({ name: 'Priced' })).data.id;
      await client.v1.contracts.create({ customer_id: customer, starting_at: '2024-04-01T00:00:00Z', rate_card_id: rateCard });

      const ids = async (params: { include_archived?: boolean; on_current_plan?: boolean; limit?: number } = {}) => {
        const found: string[] = [];
        for await (const metric of client.v1.customers.listBillableMetrics({ customer_id: customer, ...params })) found.push(metric.id);
        return found;
      };
      expect(await ids({ limit: 1 })).toEqual([metrics.SUM, metrics.COUNT, metrics.MAX].sort());
      expect(await ids({ on_current_plan: true })).toEqual([metrics.SUM, metrics.COUNT].sort());
      expect(await ids({ include_archived: true })).toEqual([metrics.SUM, metrics.COUNT, metrics.MAX, soonArchived].sort());

      const [first] = (await client.v1.customers.listBillableMetrics({ customer_id: customer, on_current_plan: true })).data;
      expect(first).toMatchObject({ id: [metrics.SUM, metrics.COUNT].sort()[0], event_type_filter: { in_values: ['call'] } });
      // Without a contract, a customer has no billable metrics.
      expect((await client.v1.customers.listBillableMetrics({ customer_id: beta })).data).toEqual([]);
    });

    it('answers an unknown customer with a 404', async () => {
      const error = await rejection(client.v1.customers.listBillableMetrics({ customer_id: UNKNOWN }));
      expect(error.status).toBe(404);
    });
  });
});
