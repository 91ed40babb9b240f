import { z } from 'zod';
import type { App } from '../../http/types.js';
import type { ServiceContext } from '../../lib/context.js';
import { toNumericText, wireNumber } from '../../lib/money.js';
import { toRfc3339 } from '../../lib/time.js';
import type { ProductFields } from './compute/productState.js';
import * as schemas from './schemas.js';
import * as service from './service.js';

function toCreditTypeItem(type: service.CreditType): z.infer<typeof schemas.creditTypeListItem> {
  return { id: type.id, name: type.name, is_currency: type.isCurrency };
}

function toMetric(row: service.BillableMetric): z.infer<typeof schemas.billableMetric> {
  return {
    id: row.id,
    name: row.name,
    aggregation_type: row.aggregation_type,
    ...(row.aggregation_key !== null && { aggregation_key: row.aggregation_key }),
    ...(row.archived_at && { archived_at: toRfc3339(row.archived_at) }),
    custom_fields: row.custom_fields,
    ...(row.event_type_filter && { event_type_filter: row.event_type_filter }),
    group_keys: row.group_keys,
    property_filters: row.property_filters,
  };
}

function toProductState(fields: ProductFields, meta: { createdAt: Date; createdBy: string; startingAt: Date | null }) {
  return {
    created_at: toRfc3339(meta.createdAt),
    created_by: meta.createdBy,
    name: fields.name,
    ...(fields.billableMetricId && { billable_metric_id: fields.billableMetricId }),
    ...(fields.pricingGroupKey && { pricing_group_key: fields.pricingGroupKey }),
    ...(fields.presentationGroupKey && { presentation_group_key: fields.presentationGroupKey }),
    tags: fields.tags,
    ...(meta.startingAt && { starting_at: toRfc3339(meta.startingAt) }),
  };
}

function toProduct({ row, updates, current }: service.ProductDetail): z.infer<typeof schemas.product> {
  const initial: ProductFields = {
    name: row.name,
    billableMetricId: row.billable_metric_id,
    pricingGroupKey: row.pricing_group_key,
    presentationGroupKey: row.presentation_group_key,
    tags: row.tags,
  };
  return {
    id: row.id,
    type: row.type,
    initial: toProductState(initial, { createdAt: row.created_at, createdBy: row.created_by, startingAt: null }),
    current: toProductState(current, current),
    updates: updates.map((update) => ({
      created_at: toRfc3339(update.created_at),
      created_by: update.created_by,
      starting_at: toRfc3339(update.starting_at),
      ...(update.name !== null && { name: update.name }),
      ...(update.billable_metric_id !== null && { billable_metric_id: update.billable_metric_id }),
      ...(update.pricing_group_key !== null && { pricing_group_key: update.pricing_group_key }),
      ...(update.presentation_group_key !== null && { presentation_group_key: update.presentation_group_key }),
      ...(update.tags !== null && { tags: update.tags }),
    })),
    archived_at: row.archived_at && toRfc3339(row.archived_at),
    custom_fields: row.custom_fields,
  };
}

function toRateCard(card: service.RateCardDetail): z.infer<typeof schemas.rateCard> {
  const named = (id: string) => ({ id, name: card.creditTypeNames.get(id) ?? id });
  return {
    id: card.id,
    created_at: toRfc3339(card.createdAt),
    created_by: card.createdBy,
    name: card.name,
    ...(card.description !== null && { description: card.description }),
    aliases: [],
    credit_type_conversions: card.creditTypeConversions.map((conversion) => ({
      custom_credit_type: named(conversion.customCreditTypeId),
      // The SDK types this one as a string, so it keeps every digit.
      fiat_per_custom_credit: toNumericText(conversion.fiatPerCustomCredit),
    })),
    custom_fields: card.customFields,
    fiat_credit_type: named(card.fiatCreditTypeId),
  };
}

function toRateOut(rate: service.Rate, creditTypeName: string): z.infer<typeof schemas.rateOut> {
  return {
    rate_type: rate.rateType,
    credit_type: { id: rate.creditTypeId, name: creditTypeName },
    ...(service.isSeatRate(rate) && { is_prorated: rate.isProrated }),
    ...(rate.price && { price: wireNumber(rate.price) }),
    ...(rate.pricingGroupValues && { pricing_group_values: rate.pricingGroupValues }),
    ...(rate.quantity && { quantity: wireNumber(rate.quantity) }),
    ...(rate.tiers && { tiers: rate.tiers.map((tier) => ({ ...(tier.size && { size: wireNumber(tier.size) }), price: wireNumber(tier.price) })) }),
  };
}

/** The pricing catalog, at the Metronome paths, plus Allot's endpoint for custom pricing units. */
export function registerPricingRoutes(app: App, { rollUpStoredEvents }: { rollUpStoredEvents: service.RollUpStoredEvents }): void {
  const dataId = { 200: schemas.idData };

  // ---- pricing units
  app.post(
    '/v1/allot/credit-types/create',
    { schema: { tags: ['pricing units'], body: schemas.createCreditTypeBody, response: dataId } },
    async (request) => {
      const created = await service.createCreditType(request.context, { tenantId: request.auth.tenantId, name: request.body.name });
      return { data: { id: created.id } };
    },
  );
  app.get(
    '/v1/credit-types/list',
    {
      schema: {
        tags: ['pricing units'],
        querystring: schemas.pageOnlyQuery,
        response: { 200: z.object({ data: z.array(schemas.creditTypeListItem), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await service.listCreditTypes(request.context, {
        tenantId: request.auth.tenantId,
        query: { limit: request.query.limit, nextPage: request.query.next_page },
      });
      return { data: page.creditTypes.map(toCreditTypeItem), next_page: page.nextPage };
    },
  );

  // ---- billable metrics
  const metricTags = ['billable metrics'];
  app.post('/v1/billable-metrics/create', { schema: { tags: metricTags, body: schemas.createBillableMetricBody, response: dataId } }, async (request) => {
    const created = await service.createBillableMetric(request.context, { tenantId: request.auth.tenantId, metric: request.body, rollUpStoredEvents });
    return { data: { id: created.id } };
  });
  app.get(
    '/v1/billable-metrics/:billable_metric_id',
    { schema: { tags: metricTags, params: schemas.billableMetricIdParams, response: { 200: z.object({ data: schemas.billableMetric }) } } },
    async (request) => {
      const metric = await service.getBillableMetric(request.context, {
        tenantId: request.auth.tenantId,
        billableMetricId: request.params.billable_metric_id,
      });
      return { data: toMetric(metric) };
    },
  );
  app.get(
    '/v1/billable-metrics',
    {
      schema: {
        tags: metricTags,
        querystring: schemas.listBillableMetricsQuery,
        response: { 200: z.object({ data: z.array(schemas.billableMetric), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await service.listBillableMetrics(request.context, {
        tenantId: request.auth.tenantId,
        query: { limit: request.query.limit, nextPage: request.query.next_page, includeArchived: request.query.include_archived },
      });
      return { data: page.metrics.map(toMetric), next_page: page.nextPage };
    },
  );
  app.post('/v1/billable-metrics/archive', { schema: { tags: metricTags, body: schemas.archiveBillableMetricBody, response: dataId } }, async (request) => {
    await service.archiveBillableMetric(request.context, { tenantId: request.auth.tenantId, billableMetricId: request.body.id });
    return { data: { id: request.body.id } };
  });

  // ---- products
  const productTags = ['products'];
  const productData = { 200: z.object({ data: schemas.product }) };
  app.post('/v1/contract-pricing/products/create', { schema: { tags: productTags, body: schemas.createProductBody, response: dataId } }, async (request) => {
    const created = await service.createProduct(request.context, {
      tenantId: request.auth.tenantId,
      createdBy: request.auth.apiKeyId,
      product: request.body,
    });
    return { data: { id: created.row.id } };
  });
  app.post('/v1/contract-pricing/products/get', { schema: { tags: productTags, body: schemas.getProductBody, response: productData } }, async (request) => {
    const found = await service.getProduct(request.context, { tenantId: request.auth.tenantId, productId: request.body.id });
    return { data: toProduct(found) };
  });
  app.post(
    '/v1/contract-pricing/products/list',
    {
      schema: {
        tags: productTags,
        querystring: schemas.pageOnlyQuery,
        body: schemas.listProductsBody,
        response: { 200: z.object({ data: z.array(schemas.product), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await service.listProducts(request.context, {
        tenantId: request.auth.tenantId,
        query: { limit: request.query.limit, nextPage: request.query.next_page, archiveFilter: request.body?.archive_filter },
      });
      return { data: page.products.map(toProduct), next_page: page.nextPage };
    },
  );
  app.post('/v1/contract-pricing/products/update', { schema: { tags: productTags, body: schemas.updateProductBody, response: dataId } }, async (request) => {
    const { product_id, starting_at, name, billable_metric_id, pricing_group_key, presentation_group_key, tags } = request.body;
    await service.updateProduct(request.context, {
      tenantId: request.auth.tenantId,
      createdBy: request.auth.apiKeyId,
      productId: product_id,
      startingAt: starting_at,
      changes: { name, billable_metric_id, pricing_group_key, presentation_group_key, tags },
    });
    return { data: { id: product_id } };
  });
  app.post('/v1/contract-pricing/products/archive', { schema: { tags: productTags, body: schemas.archiveProductBody, response: dataId } }, async (request) => {
    await service.archiveProduct(request.context, { tenantId: request.auth.tenantId, productId: request.body.product_id });
    return { data: { id: request.body.product_id } };
  });

  // ---- rate cards
  const cardTags = ['rate cards'];
  app.post('/v1/contract-pricing/rate-cards/create', { schema: { tags: cardTags, body: schemas.createRateCardBody, response: dataId } }, async (request) => {
    const created = await service.createRateCard(request.context, {
      tenantId: request.auth.tenantId,
      createdBy: request.auth.apiKeyId,
      rateCard: request.body,
    });
    return { data: { id: created.id } };
  });
  app.post(
    '/v1/contract-pricing/rate-cards/get',
    { schema: { tags: cardTags, body: schemas.getRateCardBody, response: { 200: z.object({ data: schemas.rateCard }) } } },
    async (request) => {
      const card = await service.getRateCard(request.context, { tenantId: request.auth.tenantId, rateCardId: request.body.id });
      return { data: toRateCard(card) };
    },
  );
  // The SDK lists rate cards with a POST whose JSON body is empty: an empty body means no filters.
  app.post(
    '/v1/contract-pricing/rate-cards/list',
    {
      schema: {
        tags: cardTags,
        querystring: schemas.pageOnlyQuery,
        body: schemas.listRateCardsBody,
        response: { 200: z.object({ data: z.array(schemas.rateCard), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await service.listRateCards(request.context, {
        tenantId: request.auth.tenantId,
        query: { limit: request.query.limit, nextPage: request.query.next_page },
      });
      return { data: page.rateCards.map(toRateCard), next_page: page.nextPage };
    },
  );
  app.post('/v1/contract-pricing/rate-cards/update', { schema: { tags: cardTags, body: schemas.updateRateCardBody, response: dataId } }, async (request) => {
    const { rate_card_id, name, description, add_credit_type_conversions } = request.body;
    await service.updateRateCard(request.context, {
      tenantId: request.auth.tenantId,
      rateCardId: rate_card_id,
      changes: { name, description, add_credit_type_conversions },
    });
    return { data: { id: rate_card_id } };
  });

  // ---- rates
  const creditTypeNames = async (request: { context: ServiceContext; auth: { tenantId: string } }, ids: string[]) =>
    service.findCreditTypes(request.context, { tenantId: request.auth.tenantId, creditTypeIds: [...new Set(ids)] });

  app.post(
    '/v1/contract-pricing/rate-cards/addRate',
    { schema: { tags: cardTags, body: schemas.addRateBody, response: { 200: z.object({ data: schemas.rateOut }) } } },
    async (request) => {
      const { rate_card_id, ...rate } = request.body;
      const [added] = await service.addRates(request.context, {
        tenantId: request.auth.tenantId,
        rateCardId: rate_card_id,
        rates: [rate],
        fieldPrefix: () => '',
      });
      const names = await creditTypeNames(request, [added!.creditTypeId]);
      return { data: toRateOut(added!, names.get(added!.creditTypeId)?.name ?? added!.creditTypeId) };
    },
  );
  app.post('/v1/contract-pricing/rate-cards/addRates', { schema: { tags: cardTags, body: schemas.addRatesBody, response: dataId } }, async (request) => {
    await service.addRates(request.context, {
      tenantId: request.auth.tenantId,
      rateCardId: request.body.rate_card_id,
      rates: request.body.rates,
      fieldPrefix: (index) => `rates.${index}.`,
    });
    return { data: { id: request.body.rate_card_id } };
  });
  app.post(
    '/v1/contract-pricing/rate-cards/getRates',
    {
      schema: {
        tags: cardTags,
        querystring: schemas.pageOnlyQuery,
        body: schemas.getRatesBody,
        response: { 200: z.object({ data: z.array(schemas.rateListItem), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await service.listRates(request.context, {
        tenantId: request.auth.tenantId,
        rateCardId: request.body.rate_card_id,
        at: request.body.at,
        selectors: request.body.selectors ?? [],
        query: { limit: request.query.limit, nextPage: request.query.next_page },
      });
      const names = await creditTypeNames(
        request,
        page.rates.map(({ rate }) => rate.creditTypeId),
      );
      return {
        data: page.rates.map(({ rate, product }) => ({
          entitled: rate.entitled,
          product_custom_fields: product.customFields,
          product_id: product.id,
          product_name: product.name,
          product_tags: product.tags,
          rate: toRateOut(rate, names.get(rate.creditTypeId)?.name ?? rate.creditTypeId),
          starting_at: toRfc3339(rate.startingAt),
          ...(rate.billingFrequency && { billing_frequency: rate.billingFrequency }),
          ...(rate.endingBefore && { ending_before: toRfc3339(rate.endingBefore) }),
          ...(rate.pricingGroupValues && { pricing_group_values: rate.pricingGroupValues }),
        })),
        next_page: page.nextPage,
      };
    },
  );
}
