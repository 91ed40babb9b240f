import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { expect400, rejection } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';


describe.each(ENGINES)('the pricing catalog through the SDK on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let metricId: string;
  let usageProductId: string;
  let seatProductId: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-03-01T00:00:00Z' });
    client = server.client();
    metricId = (
      await client.v1.billableMetrics.create({
        name: 'Tokens',
        aggregation_type: 'SUM',
        aggregation_key: 'tokens',
        event_type_filter: { in_values: ['completion'] },
        property_filters: [
          { name: 'tokens', exists: true },
          { name: 'user_id', exists: true },
          { name: 'team', exists: true },
          { name: 'model', exists: true, in_values: ['small', 'large'] },
        ],
        group_keys: [['user_id'], ['team'], ['model']],
      })
    ).data.id;
    usageProductId = (
      await client.v1.contracts.products.create({ name: 'Tokens', type: 'USAGE', billable_metric_id: metricId, pricing_group_key: ['model'], tags: ['ai'] })
    ).data.id;
    seatProductId = (await client.v1.contracts.products.create({ name: 'Seats', type: 'SUBSCRIPTION' })).data.id;
  });
  afterAll(() => server.stop());

  describe('pricing units', () => {
    it('lists USD (cents) first, then custom units, across pages', async () => {
      const tenant = server.client(await server.keyFor(`units-${engine}`));
      const first = await tenant.v1.pricingUnits.list();
      expect(first.data).toEqual([{ id: USD, name: 'USD (cents)', is_currency: true }]);

      const ids: string[] = [];
      for (const name of ['AI credits', 'GPU hours', 'Tokens']) {
        const response = await fetch(`${server.baseURL}/v1/allot/credit-types/create`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tenant.bearerToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name }),
        });
        expect(response.status).toBe(200);
        ids.push(((await response.json()) as { data: { id: string } }).data.id);
      }
      const walked: Array<{ id?: string; is_currency?: boolean }> = [];
      for await (const unit of tenant.v1.pricingUnits.list({ limit: 2 })) walked.push(unit);
      expect(walked.map((unit) => unit.id)).toEqual([USD, ...ids]);
      expect(walked.map((unit) => unit.is_currency)).toEqual([true, false, false, false]);
      const page = await tenant.v1.pricingUnits.list({ limit: 2 });
      expect(page.data).toHaveLength(2);
      expect(page.next_page).toBeTruthy();
    });

    it('refuses a repeated name with a 409 and an empty name with a 400', async () => {
      const post = (name: string) =>
        fetch(`${server.baseURL}/v1/allot/credit-types/create`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name }),
        });
      expect((await post('Repeat credits')).status).toBe(200);
      expect((await post('Repeat credits')).status).toBe(409);
      expect((await post('USD (cents)')).status).toBe(409);
      const empty = await post('  ');
      expect(empty.status).toBe(400);
      expect(((await empty.json()) as { message: string }).message).toContain('name:');
    });
  });

  describe('billable metrics', () => {
    it('creates, retrieves, lists and archives a metric', async () => {
      const created = await client.v1.billableMetrics.create({
        name: 'Requests',
        aggregation_type: 'COUNT',
        property_filters: [{ name: 'user_id', exists: true }, { name: 'region', not_in_values: ['test'] }],
        group_keys: [['user_id']],
        custom_fields: { owner: 'platform' },
      });
      const fetched = await client.v1.billableMetrics.retrieve({ billable_metric_id: created.data.id });
      expect(fetched.data).toEqual({
        id: created.data.id,
        name: 'Requests',
        aggregation_type: 'COUNT',
        property_filters: [{ name: 'user_id', exists: true }, { name: 'region', not_in_values: ['test'] }],
        group_keys: [['user_id']],
        custom_fields: { owner: 'platform' },
      });

      const live = await client.v1.billableMetrics.list();
      expect(live.data.map((metric) => metric.id)).toContain(created.data.id);
      await expect(client.v1.billableMetrics.archive({ id: created.data.id })).resolves.toEqual({ data: { id: created.data.id } });
      expect((await client.v1.billableMetrics.list()).data.map((metric) => metric.id)).not.toContain(created.data.id);
      const all = await client.v1.billableMetrics.list({ include_archived: true });
      expect(all.data.find((metric) => metric.id === created.data.id)?.archived_at).toBe('2024-03-01T00:00:00.000Z');

      // An archived metric cannot be given to a new product.
      await expect400(client.v1.contracts.products.create({ name: 'Late', type: 'USAGE', billable_metric_id: created.data.id }), 'billable_metric_id');
    });

    it('takes lower-case aggregation types', async () => {
      const created = await client.v1.billableMetrics.create({ name: 'Peak', aggregation_type: 'max' as 'MAX', aggregation_key: 'gb', property_filters: [{ name: 'gb', exists: true }] });
      expect((await client.v1.billableMetrics.retrieve({ billable_metric_id: created.data.id })).data.aggregation_type).toBe('MAX');
    });

    it('refuses definitions it cannot meter, naming the field', async () => {
      await expect400(client.v1.billableMetrics.create({ name: 'No key', aggregation_type: 'SUM' }), 'aggregation_key');
      await expect400(
        client.v1.billableMetrics.create({ name: 'Key not filtered', aggregation_type: 'SUM', aggregation_key: 'tokens', property_filters: [{ name: 'tokens' }] }),
        'aggregation_key',
      );
      await expect400(
        client.v1.billableMetrics.create({ name: 'Count with key', aggregation_type: 'COUNT', aggregation_key: 'x', property_filters: [{ name: 'x', exists: true }] }),
        'aggregation_key',
      );
      await expect400(client.v1.billableMetrics.create({ name: 'Bad group', aggregation_type: 'COUNT', group_keys: [['user_id']] }), 'group_keys.0.0');
      await expect400(client.v1.billableMetrics.create({ name: 'SQL', sql: 'select 1' }), 'sql');
      await expect400(client.v1.billableMetrics.create({ name: 'Odd', aggregation_type: 'AVG' as 'SUM', aggregation_key: 'x' }), 'aggregation_type');
      await expect400(client.v1.billableMetrics.create({ name: 'Empty', aggregation_type: 'COUNT', event_type_filter: { in_values: [] } }), 'event_type_filter.in_values');
    });

    it('keeps tenants apart: another tenant’s metric is a 404', async () => {
      const other = server.client(await server.keyFor(`metrics-${engine}`));
      expect((await rejection(other.v1.billableMetrics.retrieve({ billable_metric_id: metricId }))).status).toBe(404);
      expect((await rejection(client.v1.billableMetrics.retrieve({ billable_metric_id: 'not-a-uuid' }))).status).toBe(404);
      await expect400(other.v1.contracts.products.create({ name: 'Borrowed', type: 'USAGE', billable_metric_id: metricId }), 'billable_metric_id');
    });
  });

  describe('products', () => {
    it('creates and retrieves products of each supported type', async () => {
      const fetched = await client.v1.contracts.products.retrieve({ id: usageProductId });
      expect(fetched.data).toMatchObject({
        id: usageProductId,
        type: 'USAGE',
        archived_at: null,
        updates: [],
        initial: { name: 'Tokens', billable_metric_id: metricId, pricing_group_key: ['model'], tags: ['ai'], created_at: '2024-03-01T00:00:00.000Z' },
        current: { name: 'Tokens', billable_metric_id: metricId, pricing_group_key: ['model'], tags: ['ai'] },
      });
      const fixed = await client.v1.contracts.products.create({ name: 'Onboarding', type: 'FIXED', custom_fields: { sku: 'ONB-1' } });
      const fixedProduct = await client.v1.contracts.products.retrieve({ id: fixed.data.id });
      expect(fixedProduct.data.type).toBe('FIXED');
      expect(fixedProduct.data.custom_fields).toEqual({ sku: 'ONB-1' });
      expect(fixedProduct.data.current.billable_metric_id).toBeUndefined();
    });

    it('refuses what it does not support or cannot check, naming the field', async () => {
      await expect400(client.v1.contracts.products.create({ name: 'Bundle', type: 'COMPOSITE' }), 'type');
      await expect400(client.v1.contracts.products.create({ name: 'Service', type: 'PRO_SERVICE' }), 'type');
      await expect400(client.v1.contracts.products.create({ name: 'No metric', type: 'USAGE' }), 'billable_metric_id');
      await expect400(
        client.v1.contracts.products.create({ name: 'Unknown metric', type: 'USAGE', billable_metric_id: '0190f1e2-0000-7000-8000-000000000001' }),
        'billable_metric_id',
      );
      await expect400(client.v1.contracts.products.create({ name: 'Seats', type: 'SUBSCRIPTION', billable_metric_id: metricId }), 'billable_metric_id');
      // A pricing group key must be one of the metric's group keys: region is not.
      await expect400(
        client.v1.contracts.products.create({ name: 'By region', type: 'USAGE', billable_metric_id: metricId, pricing_group_key: ['region'] }),
        'pricing_group_key',
      );
      // Together, pricing and presentation keys must form one compound group key: [model, team] is not one.
      await expect400(
        client.v1.contracts.products.create({
          name: 'Two keys',
          type: 'USAGE',
          billable_metric_id: metricId,
          pricing_group_key: ['model'],
          presentation_group_key: ['team'],
        }),
        'pricing_group_key',
      );
      await expect400(client.v1.contracts.products.create({ name: 'Refund', type: 'FIXED', is_refundable: false }), 'is_refundable');
      await expect400(
        client.v1.contracts.products.create({ name: 'Convert', type: 'USAGE', billable_metric_id: metricId, quantity_conversion: { conversion_factor: 2, operation: 'MULTIPLY' } }),
        'quantity_conversion',
      );
    });

    it('schedules updates: current follows the clock, initial and updates keep the history', async () => {
      const created = await client.v1.contracts.products.create({ name: 'API calls', type: 'USAGE', billable_metric_id: metricId, tags: ['v1'] });
      const id = created.data.id;
      await client.v1.contracts.products.update({ product_id: id, starting_at: '2024-02-01T00:00:00Z', name: 'API calls (renamed)' });
      await client.v1.contracts.products.update({ product_id: id, starting_at: '2024-04-01T00:00:00Z', tags: ['v2'], pricing_group_key: ['team'] });
      const fetched = await client.v1.contracts.products.retrieve({ id });
      expect(fetched.data.initial).toMatchObject({ name: 'API calls', tags: ['v1'] });
      expect(fetched.data.current).toMatchObject({ name: 'API calls (renamed)', tags: ['v1'], starting_at: '2024-02-01T00:00:00.000Z' });
      expect(fetched.data.current.pricing_group_key).toBeUndefined();
      expect(fetched.data.updates).toEqual([
        expect.objectContaining({ starting_at: '2024-02-01T00:00:00.000Z', name: 'API calls (renamed)' }),
        expect.objectContaining({ starting_at: '2024-04-01T00:00:00.000Z', tags: ['v2'], pricing_group_key: ['team'] }),
      ]);
      expect(fetched.data.updates[0]).not.toHaveProperty('tags');

      await expect400(client.v1.contracts.products.update({ product_id: id, starting_at: '2024-04-01T00:30:00Z', name: 'x' }), 'starting_at');
      await expect400(client.v1.contracts.products.update({ product_id: id, starting_at: '2024-04-01T00:00:00Z', pricing_group_key: ['region'] }), 'pricing_group_key');
      expect((await rejection(client.v1.contracts.products.update({ product_id: '0190f1e2-0000-7000-8000-000000000009', starting_at: '2024-04-01T00:00:00Z', name: 'x' }))).status).toBe(404);
    });

    it('archives a product, lists by archive_filter, and walks pages', async () => {
      const tenant = server.client(await server.keyFor(`products-${engine}`));
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await tenant.v1.contracts.products.create({ name: `Fixed ${i}`, type: 'FIXED' })).data.id);
      await tenant.v1.contracts.products.archive({ product_id: ids[1]! });

      const walked: string[] = [];
      for await (const product of tenant.v1.contracts.products.list({ limit: 2 })) walked.push(product.id);
      expect(walked).toEqual([ids[0], ids[2], ids[3], ids[4]]);
      const archived = await tenant.v1.contracts.products.list({ archive_filter: 'ARCHIVED' });
      expect(archived.data.map((product) => [product.id, product.archived_at])).toEqual([[ids[1], '2024-03-01T00:00:00.000Z']]);
      expect((await tenant.v1.contracts.products.list({ archive_filter: 'ALL' })).data).toHaveLength(5);
      await expect400(tenant.v1.contracts.products.update({ product_id: ids[1]!, starting_at: '2024-04-01T00:00:00Z', name: 'Back' }), 'product_id');
      expect((await rejection(client.v1.contracts.products.retrieve({ id: ids[0]! }))).status).toBe(404);
    });
  });

  describe('rate cards and rates', () => {
    let aiCreditsId: string;
    let rateCardId: string;

    beforeAll(async () => {
      const response = await fetch(`${server.baseURL}/v1/allot/credit-types/create`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'AI credits' }),
      });
      aiCreditsId = ((await response.json()) as { data: { id: string } }).data.id;
      rateCardId = (
        await client.v1.contracts.rateCards.create({
          name: 'List prices',
          description: 'Self-serve',
          credit_type_conversions: [{ custom_credit_type_id: aiCreditsId, fiat_per_custom_credit: 100 }],
        })
      ).data.id;
    });

    it('creates, retrieves, updates and lists rate cards', async () => {
      const fetched = await client.v1.contracts.rateCards.retrieve({ id: rateCardId });
      expect(fetched.data).toMatchObject({
        id: rateCardId,
        name: 'List prices',
        description: 'Self-serve',
        fiat_credit_type: { id: USD, name: 'USD (cents)' },
        credit_type_conversions: [{ custom_credit_type: { id: aiCreditsId, name: 'AI credits' }, fiat_per_custom_credit: '100' }],
        created_at: '2024-03-01T00:00:00.000Z',
      });

      const second = await client.v1.contracts.rateCards.create({ name: 'Enterprise' });
      const gpu = await fetch(`${server.baseURL}/v1/allot/credit-types/create`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'GPU minutes' }),
      });
      const gpuId = ((await gpu.json()) as { data: { id: string } }).data.id;
      await client.v1.contracts.rateCards.update({
        rate_card_id: second.data.id,
        name: 'Enterprise 2024',
        add_credit_type_conversions: [{ custom_credit_type_id: gpuId, fiat_per_custom_credit: 0.25 }],
      });
      const updated = await client.v1.contracts.rateCards.retrieve({ id: second.data.id });
      expect(updated.data.name).toBe('Enterprise 2024');
      expect(updated.data.credit_type_conversions).toEqual([{ custom_credit_type: { id: gpuId, name: 'GPU minutes' }, fiat_per_custom_credit: '0.25' }]);
      // An existing conversion cannot be modified.
      await expect400(
        client.v1.contracts.rateCards.update({ rate_card_id: second.data.id, add_credit_type_conversions: [{ custom_credit_type_id: gpuId, fiat_per_custom_credit: 1 }] }),
        'add_credit_type_conversions.0.custom_credit_type_id',
      );

      const walked: string[] = [];
      for await (const card of client.v1.contracts.rateCards.list({ limit: 1 })) walked.push(card.id);
      expect(walked).toEqual([rateCardId, second.data.id]);
      // The empty body the SDK sends is accepted; malformed JSON is still a 400.
      const malformed = await fetch(`${server.baseURL}/v1/contract-pricing/rate-cards/list`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        body: '{"oops"',
      });
      expect(malformed.status).toBe(400);
    });

    it('refuses bad rate cards, naming the field', async () => {
      await expect400(client.v1.contracts.rateCards.create({ name: 'Aliased', aliases: [{ name: 'paygo' }] }), 'aliases');
      await expect400(client.v1.contracts.rateCards.create({ name: 'Custom fiat', fiat_credit_type_id: aiCreditsId }), 'fiat_credit_type_id');
      await expect400(
        client.v1.contracts.rateCards.create({ name: 'USD conversion', credit_type_conversions: [{ custom_credit_type_id: USD, fiat_per_custom_credit: 1 }] }),
        'credit_type_conversions.0.custom_credit_type_id',
      );
      await expect400(
        client.v1.contracts.rateCards.create({ name: 'Zero', credit_type_conversions: [{ custom_credit_type_id: aiCreditsId, fiat_per_custom_credit: 0 }] }),
        'credit_type_conversions.0.fiat_per_custom_credit',
      );
      const other = server.client(await server.keyFor(`cards-${engine}`));
      expect((await rejection(other.v1.contracts.rateCards.retrieve({ id: rateCardId }))).status).toBe(404);
      expect((await rejection(other.v1.contracts.rateCards.update({ rate_card_id: rateCardId, name: 'Mine' }))).status).toBe(404);
      expect(
        (await rejection(other.v1.contracts.rateCards.rates.add({ rate_card_id: rateCardId, product_id: usageProductId, entitled: true, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:00:00Z' })))
          .status,
      ).toBe(404);
    });

    it('adds flat, tiered and subscription rates and lists the ones in force', async () => {
      const flat = await client.v1.contracts.rateCards.rates.add({
        rate_card_id: rateCardId,
        product_id: usageProductId,
        entitled: true,
        rate_type: 'FLAT',
        price: 0.015,
        starting_at: '2024-01-01T00:00:00Z',
        pricing_group_values: { model: 'small' },
      });
      expect(flat.data).toEqual({ rate_type: 'FLAT', credit_type: { id: USD, name: 'USD (cents)' }, price: 0.015, pricing_group_values: { model: 'small' } });

      await client.v1.contracts.rateCards.rates.addMany({
        rate_card_id: rateCardId,
        rates: [
          {
            product_id: usageProductId,
            entitled: true,
            rate_type: 'TIERED',
            tiers: [{ size: 5, price: 20 }, { size: 5, price: 10 }, { size: 5, price: 5 }, { price: 1 }],
            credit_type_id: aiCreditsId,
            starting_at: '2024-01-01T00:00:00Z',
            pricing_group_values: { model: 'large' },
          },
          { product_id: seatProductId, entitled: true, rate_type: 'SUBSCRIPTION', price: 2500, billing_frequency: 'MONTHLY', starting_at: '2024-01-01T00:00:00Z' },
          // Metronome's subscription guide adds a seat price as a FLAT rate with a billing frequency: the same meaning.
          { product_id: seatProductId, entitled: true, rate_type: 'FLAT', price: 24000, billing_frequency: 'ANNUAL', starting_at: '2024-01-01T00:00:00Z' },
          // From April, small costs more; the March listing must not see it yet.
          { product_id: usageProductId, entitled: true, rate_type: 'FLAT', price: '0.02' as unknown as number, starting_at: '2024-04-01T00:00:00Z', pricing_group_values: { model: 'small' } },
        ],
      });

      const march = await client.v1.contracts.rateCards.rates.list({ rate_card_id: rateCardId, at: '2024-03-15T00:00:00Z' });
      const byKey = (rows: typeof march.data) =>
        Object.fromEntries(rows.map((row) => [`${row.product_name}/${row.pricing_group_values?.model ?? row.billing_frequency}`, row.rate]));
      expect(byKey(march.data)).toEqual({
        'Tokens/small': { rate_type: 'FLAT', credit_type: { id: USD, name: 'USD (cents)' }, price: 0.015, pricing_group_values: { model: 'small' } },
        'Tokens/large': {
          rate_type: 'TIERED',
          credit_type: { id: aiCreditsId, name: 'AI credits' },
          tiers: [{ size: 5, price: 20 }, { size: 5, price: 10 }, { size: 5, price: 5 }, { price: 1 }],
          pricing_group_values: { model: 'large' },
        },
        'Seats/MONTHLY': { rate_type: 'SUBSCRIPTION', credit_type: { id: USD, name: 'USD (cents)' }, price: 2500, is_prorated: true },
        'Seats/ANNUAL': { rate_type: 'FLAT', credit_type: { id: USD, name: 'USD (cents)' }, price: 24000, is_prorated: true },
      });
      expect(march.data.find((row) => row.product_id === usageProductId)).toMatchObject({ product_tags: ['ai'], entitled: true, starting_at: '2024-01-01T00:00:00.000Z' });

      const april = await client.v1.contracts.rateCards.rates.list({ rate_card_id: rateCardId, at: '2024-04-01T00:00:00Z' });
      expect(byKey(april.data)['Tokens/small']?.price).toBe(0.02);

      // Selectors: any selector may match; within one, every condition must.
      const seats = await client.v1.contracts.rateCards.rates.list({
        rate_card_id: rateCardId,
        at: '2024-03-15T00:00:00Z',
        selectors: [{ billing_frequency: 'MONTHLY' }],
      });
      expect(seats.data.map((row) => row.product_id)).toEqual([seatProductId]);
      const large = await client.v1.contracts.rateCards.rates.list({
        rate_card_id: rateCardId,
        at: '2024-03-15T00:00:00Z',
        selectors: [{ product_tags: ['ai'], partial_pricing_group_values: { model: 'large' } }],
      });
      expect(large.data.map((row) => row.pricing_group_values)).toEqual([{ model: 'large' }]);

      // Pages of one rate each, walked by the SDK.
      const walked: string[] = [];
      for await (const row of client.v1.contracts.rateCards.rates.list({ rate_card_id: rateCardId, at: '2024-03-15T00:00:00Z', limit: 1 })) walked.push(row.product_name);
      expect(walked).toHaveLength(4);
      // Before any rate starts there is nothing in force.
      expect((await client.v1.contracts.rateCards.rates.list({ rate_card_id: rateCardId, at: '2023-12-31T23:00:00Z' })).data).toEqual([]);
    });

    it('refuses bad rates, naming the field', async () => {
      const base = { rate_card_id: rateCardId, product_id: usageProductId, entitled: true, starting_at: '2024-01-01T00:00:00Z' } as const;
      const add = client.v1.contracts.rateCards.rates.add.bind(client.v1.contracts.rateCards.rates);
      await expect400(add({ ...base, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:30:00Z' }), 'starting_at');
      await expect400(add({ ...base, rate_type: 'FLAT', price: 1, ending_before: '2023-12-01T00:00:00Z' }), 'ending_before');
      await expect400(add({ ...base, rate_type: 'TIERED' }), 'tiers');
      await expect400(add({ ...base, rate_type: 'TIERED', tiers: [{ size: 5, price: 2 }, { size: 5, price: 1 }] }), 'tiers.1.size');
      await expect400(add({ ...base, rate_type: 'TIERED', tiers: [{ price: 2 }, { price: 1 }] }), 'tiers.0.size');
      await expect400(add({ ...base, rate_type: 'TIERED', tiers: [{ size: 0, price: 2 }, { price: 1 }] }), 'tiers.0.size');
      await expect400(add({ ...base, rate_type: 'FLAT' }), 'price');
      await expect400(add({ ...base, rate_type: 'FLAT', price: -1 }), 'price');
      await expect400(add({ ...base, rate_type: 'PERCENTAGE', price: 0.1 }), 'rate_type');
      await expect400(add({ ...base, rate_type: 'SUBSCRIPTION', price: 1, billing_frequency: 'MONTHLY' }), 'rate_type');
      await expect400(add({ ...base, rate_type: 'FLAT', price: 1, billing_frequency: 'MONTHLY' }), 'billing_frequency');
      await expect400(add({ ...base, product_id: seatProductId, rate_type: 'FLAT', price: 1 }), 'billing_frequency');
      await expect400(add({ ...base, product_id: seatProductId, rate_type: 'TIERED', tiers: [{ price: 1 }], billing_frequency: 'MONTHLY' }), 'rate_type');
      await expect400(add({ ...base, product_id: seatProductId, rate_type: 'SUBSCRIPTION', price: 1 }), 'billing_frequency');
      await expect400(add({ ...base, product_id: seatProductId, rate_type: 'SUBSCRIPTION', price: 1, billing_frequency: 'MONTHLY', is_prorated: false }), 'is_prorated');
      await expect400(add({ ...base, product_id: '0190f1e2-0000-7000-8000-000000000003', rate_type: 'FLAT', price: 1 }), 'product_id');
      await expect400(add({ ...base, rate_type: 'FLAT', price: 1, pricing_group_values: { region: 'EU' } }), 'pricing_group_values');
      await expect400(add({ ...base, rate_type: 'FLAT', price: 1, credit_type_id: '0190f1e2-0000-7000-8000-000000000004' }), 'credit_type_id');
      await expect400(add({ ...base, rate_type: 'FLAT', price: 1, commit_rate: { rate_type: 'FLAT', price: 1 } }), 'commit_rate');

      // A custom unit needs a conversion on the card.
      const bare = (await client.v1.contracts.rateCards.create({ name: 'No conversions' })).data.id;
      await expect400(add({ ...base, rate_card_id: bare, rate_type: 'FLAT', price: 1, credit_type_id: aiCreditsId }), 'credit_type_id');

      // addRates is all or none, and names the rate at fault.
      await expect400(
        client.v1.contracts.rateCards.rates.addMany({
          rate_card_id: bare,
          rates: [
            { product_id: usageProductId, entitled: true, rate_type: 'FLAT', price: 1, starting_at: '2024-01-01T00:00:00Z' },
            { product_id: usageProductId, entitled: true, rate_type: 'FLAT', starting_at: '2024-01-01T00:00:00Z' },
          ],
        }),
        'rates.1.price',
      );
      expect((await client.v1.contracts.rateCards.rates.list({ rate_card_id: bare, at: '2024-02-01T00:00:00Z' })).data).toEqual([]);
    });

    it('keeps prices exact: a decimal string is stored and read back digit for digit', async () => {
      const card = (await client.v1.contracts.rateCards.create({ name: 'Exact' })).data.id;
      await client.v1.contracts.rateCards.rates.add({
        rate_card_id: card,
        product_id: usageProductId,
        entitled: true,
        rate_type: 'FLAT',
        price: '0.1' as unknown as number,
        starting_at: '2024-01-01T00:00:00Z',
      });
      const rows = await server.database.db.query<{ price: string }>('SELECT price::text AS price FROM rates WHERE rate_card_id = $1', [card]);
      expect(rows).toEqual([{ price: '0.1' }]);
    });
  });
});
