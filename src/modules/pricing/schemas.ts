import { z } from 'zod';
import { decimalInput } from '../../lib/money.js';
import { pageQuery } from '../../lib/pagination.js';
import { text, textProblem, truncate } from '../../lib/text.js';
import { hourInstant, instant } from '../../lib/time.js';

/** Names are cut at 160 characters, as customer names are. */
const name = text()
  .trim()
  .min(1, 'must not be empty')
  .transform((value) => truncate(value, 160));
const property = text().min(1, 'must not be empty').max(256, 'must be at most 256 characters');
const nonEmptyValues = z.array(text()).min(1, 'must not be empty when present');
const tags = z.array(text().min(1, 'must not be empty').max(256, 'must be at most 256 characters')).max(100, 'at most 100 tags');
const groupKey = z.array(property).min(1, 'must name at least one property').max(10, 'at most 10 properties');

/** Up to 100 string → string fields; keys 1–256 characters, values up to 4,096. */
const customFields = z.record(z.string(), text().max(4096, 'must be at most 4096 characters')).superRefine((fields, context) => {
  const keys = Object.keys(fields);
  if (keys.length > 100) context.addIssue({ code: 'custom', message: 'at most 100 fields' });
  for (const key of keys) {
    const problem = key.length === 0 || key.length > 256 ? 'keys must be 1 to 256 characters' : textProblem(key);
    if (problem) context.addIssue({ code: 'custom', path: [key], message: problem });
  }
});

/** A field of the Metronome API that Allot does not implement: present at all, it is a 400 saying why. */
const unsupported = (why: string) =>
  z
    .unknown()
    .refine((value) => value === undefined, why)
    .optional()
    .describe(`Not supported by Allot: ${why}`);

/** A field Allot accepts only when it says "nothing" (null), as the SDK may send it. */
const onlyNull = (why: string) =>
  z
    .unknown()
    .refine((value) => value === null || value === undefined, why)
    .optional()
    .describe(`Only null is accepted: ${why}`);

/** An enum of which Allot implements `supported`; the rest of Metronome's values are refused by name. */
function partlySupported<const S extends string>(supported: readonly S[], others: readonly string[]) {
  return z
    .enum([...supported, ...others] as [string, ...string[]])
    .refine((value) => (supported as readonly string[]).includes(value), { message: `is not supported by Allot (supported: ${supported.join(', ')})` })
    .transform((value) => value as S);
}

// ---- pricing units

export const createCreditTypeBody = z.strictObject({ name });
export const creditTypeListItem = z.object({ id: z.string(), name: z.string(), is_currency: z.boolean() });

// ---- billable metrics

export const AGGREGATION_TYPES = ['COUNT', 'SUM', 'MAX', 'UNIQUE', 'LATEST'] as const;
/** Metronome documents its aggregation types in capitals and also shows them in lower case (`count`); both are taken. */
const aggregationType = z
  .string()
  .transform((value) => value.toUpperCase())
  .pipe(z.enum(AGGREGATION_TYPES, { message: `must be one of ${AGGREGATION_TYPES.join(', ')}` }));

const eventTypeFilter = z.strictObject({ in_values: nonEmptyValues.optional(), not_in_values: nonEmptyValues.optional() });
const propertyFilter = z.strictObject({
  name: property,
  exists: z.boolean().optional(),
  in_values: nonEmptyValues.optional(),
  not_in_values: nonEmptyValues.optional(),
});

export const createBillableMetricBody = z.strictObject({
  name,
  aggregation_type: aggregationType.optional(),
  aggregation_key: property.optional(),
  event_type_filter: eventTypeFilter.optional(),
  property_filters: z.array(propertyFilter).max(100, 'at most 100 filters').optional(),
  group_keys: z.array(groupKey).max(20, 'at most 20 group keys').optional(),
  custom_fields: customFields.optional(),
  sql: unsupported('SQL billable metrics are not supported; use aggregation_type with property_filters'),
});
export const billableMetricIdParams = z.object({ billable_metric_id: z.string() });
export const listBillableMetricsQuery = pageQuery.extend({
  include_archived: z.enum(['true', 'false']).transform((value) => value === 'true').optional(),
});
export const archiveBillableMetricBody = z.strictObject({ id: z.string().min(1) });

export const billableMetric = z.object({
  id: z.string(),
  name: z.string(),
  aggregation_type: z.enum(AGGREGATION_TYPES),
  aggregation_key: z.string().optional(),
  archived_at: z.string().optional(),
  custom_fields: z.record(z.string(), z.string()),
  event_type_filter: z.object({ in_values: z.array(z.string()).optional(), not_in_values: z.array(z.string()).optional() }).optional(),
  group_keys: z.array(z.array(z.string())),
  property_filters: z.array(
    z.object({
      name: z.string(),
      exists: z.boolean().optional(),
      in_values: z.array(z.string()).optional(),
      not_in_values: z.array(z.string()).optional(),
    }),
  ),
});

// ---- products

const productType = partlySupported(['USAGE', 'SUBSCRIPTION', 'FIXED'], ['COMPOSITE', 'PROFESSIONAL_SERVICE', 'PRO_SERVICE']);
const notForProducts = {
  composite_product_ids: unsupported('COMPOSITE products are not supported'),
  composite_tags: unsupported('COMPOSITE products are not supported'),
  exclude_free_usage: unsupported('COMPOSITE products are not supported'),
  is_refundable: unsupported('refundability is not supported'),
  netsuite_internal_item_id: unsupported('NetSuite is not supported'),
  netsuite_overage_item_id: unsupported('NetSuite is not supported'),
  quantity_conversion: onlyNull('quantity conversion is not supported'),
  quantity_rounding: onlyNull('quantity rounding is not supported'),
  sql_breakdown_granularity: unsupported('SQL billable metrics are not supported'),
};

export const createProductBody = z.strictObject({
  name,
  type: productType,
  billable_metric_id: z.string().optional(),
  pricing_group_key: groupKey.optional(),
  presentation_group_key: groupKey.optional(),
  tags: tags.optional(),
  custom_fields: customFields.optional(),
  ...notForProducts,
});
export const getProductBody = z.strictObject({ id: z.string().min(1) });
export const archiveProductBody = z.strictObject({ product_id: z.string().min(1) });
export const updateProductBody = z.strictObject({
  product_id: z.string().min(1),
  starting_at: hourInstant,
  name: name.optional(),
  billable_metric_id: z.string().optional(),
  pricing_group_key: groupKey.optional(),
  presentation_group_key: groupKey.optional(),
  tags: tags.optional(),
  ...notForProducts,
});
export const listProductsBody = z.strictObject({ archive_filter: z.enum(['ARCHIVED', 'NOT_ARCHIVED', 'ALL']).optional() }).optional();

const productState = z.object({
  created_at: z.string(),
  created_by: z.string(),
  name: z.string(),
  billable_metric_id: z.string().optional(),
  pricing_group_key: z.array(z.string()).optional(),
  presentation_group_key: z.array(z.string()).optional(),
  tags: z.array(z.string()),
  starting_at: z.string().optional(),
});
const productUpdate = z.object({
  created_at: z.string(),
  created_by: z.string(),
  starting_at: z.string(),
  name: z.string().optional(),
  billable_metric_id: z.string().optional(),
  pricing_group_key: z.array(z.string()).optional(),
  presentation_group_key: z.array(z.string()).optional(),
  tags: z.array(z.string()).optional(),
});
export const product = z.object({
  id: z.string(),
  type: z.enum(['USAGE', 'SUBSCRIPTION', 'FIXED']),
  initial: productState,
  current: productState,
  updates: z.array(productUpdate),
  archived_at: z.string().nullable(),
  custom_fields: z.record(z.string(), z.string()),
});

// ---- rate cards

const creditTypeConversion = z.strictObject({ custom_credit_type_id: z.string(), fiat_per_custom_credit: decimalInput });
const aliasesUnsupported = unsupported('rate card aliases are not supported; refer to rate cards by id');

export const createRateCardBody = z.strictObject({
  name,
  description: text().max(4096, 'must be at most 4096 characters').optional(),
  fiat_credit_type_id: z.string().optional(),
  credit_type_conversions: z.array(creditTypeConversion).max(100, 'at most 100 conversions').optional(),
  custom_fields: customFields.optional(),
  aliases: aliasesUnsupported,
});
export const getRateCardBody = z.strictObject({ id: z.string().min(1) });
export const updateRateCardBody = z.strictObject({
  rate_card_id: z.string().min(1),
  name: name.optional(),
  description: text().max(4096, 'must be at most 4096 characters').optional(),
  add_credit_type_conversions: z.array(creditTypeConversion).max(100, 'at most 100 conversions').optional(),
  aliases: aliasesUnsupported,
});
/** The SDK sends no body, or an empty one, to list rate cards; it has no filters. */
export const listRateCardsBody = z.strictObject({}).nullish();

const creditTypeData = z.object({ id: z.string(), name: z.string() });
export const rateCard = z.object({
  id: z.string(),
  created_at: z.string(),
  created_by: z.string(),
  name: z.string(),
  description: z.string().optional(),
  aliases: z.array(z.object({ name: z.string() })),
  credit_type_conversions: z.array(z.object({ custom_credit_type: creditTypeData, fiat_per_custom_credit: z.string() })),
  custom_fields: z.record(z.string(), z.string()),
  fiat_credit_type: creditTypeData,
});

// ---- rates

export const BILLING_FREQUENCIES = ['MONTHLY', 'QUARTERLY', 'ANNUAL', 'WEEKLY'] as const;
const rateType = partlySupported(['FLAT', 'SUBSCRIPTION', 'TIERED'], ['PERCENTAGE', 'TIERED_PERCENTAGE', 'CUSTOM']);
const pricingGroupValues = z.record(property, text().max(1024, 'must be at most 1024 characters'));

const rateFields = {
  product_id: z.string(),
  entitled: z.boolean(),
  rate_type: rateType,
  starting_at: hourInstant,
  ending_before: hourInstant.optional(),
  billing_frequency: z.enum(BILLING_FREQUENCIES).optional(),
  credit_type_id: z.string().optional(),
  is_prorated: z.boolean().optional(),
  price: decimalInput.optional(),
  quantity: decimalInput.optional(),
  tiers: z.array(z.strictObject({ size: decimalInput.optional(), price: decimalInput })).max(100, 'at most 100 tiers').optional(),
  pricing_group_values: pricingGroupValues.optional(),
  commit_rate: unsupported('commit rates are not supported'),
  custom_rate: unsupported('CUSTOM rates are not supported'),
};
export const addRateBody = z.strictObject({ rate_card_id: z.string().min(1), ...rateFields });
export const addRatesBody = z.strictObject({
  rate_card_id: z.string().min(1),
  rates: z.array(z.strictObject(rateFields)).min(1, 'must hold at least one rate').max(100, 'at most 100 rates a request'),
});

const selector = z.strictObject({
  product_id: z.string().optional(),
  product_tags: z.array(text()).optional(),
  pricing_group_values: z.record(z.string(), z.string()).optional(),
  partial_pricing_group_values: z.record(z.string(), z.string()).optional(),
  billing_frequency: z.enum(BILLING_FREQUENCIES).optional(),
});
export const getRatesBody = z.strictObject({
  rate_card_id: z.string().min(1),
  at: instant,
  selectors: z.array(selector).max(100, 'at most 100 selectors').optional(),
});
export const pageOnlyQuery = pageQuery;

const tierOut = z.object({ size: z.number().optional(), price: z.number() });
export const rateOut = z.object({
  rate_type: z.enum(['FLAT', 'SUBSCRIPTION', 'TIERED']),
  credit_type: creditTypeData,
  is_prorated: z.boolean().optional(),
  price: z.number().optional(),
  pricing_group_values: z.record(z.string(), z.string()).optional(),
  quantity: z.number().optional(),
  tiers: z.array(tierOut).optional(),
});
export const rateListItem = z.object({
  entitled: z.boolean(),
  product_custom_fields: z.record(z.string(), z.string()),
  product_id: z.string(),
  product_name: z.string(),
  product_tags: z.array(z.string()),
  rate: rateOut,
  starting_at: z.string(),
  billing_frequency: z.enum(BILLING_FREQUENCIES).optional(),
  ending_before: z.string().optional(),
  pricing_group_values: z.record(z.string(), z.string()).optional(),
});

export const idData = z.object({ data: z.object({ id: z.string() }) });
