import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.js';
import { text } from '../../lib/text.js';
import { hourInstant } from '../../lib/time.js';
import * as pricingSchemas from '../pricing/schemas.js';

const WINDOW_SIZES = ['HOUR', 'DAY', 'NONE'] as const;

/** Metronome takes `hour`, `Hour` and `HOUR` alike. */
const windowSize = z
  .string()
  .transform((value) => value.toUpperCase())
  .pipe(z.enum(WINDOW_SIZES, { message: `must be one of ${WINDOW_SIZES.join(', ')} (any case)` }));

/** Usage is kept per hour, so a query's range is whole hours. */
const rangeEnd = hourInstant.describe('RFC 3339 instant on the hour, e.g. 2024-04-01T00:00:00Z (usage is kept per hour)');
const property = text().min(1, 'must not be empty');
const groupValues = z.array(text()).min(1, 'must not be empty; leave it out for every value').max(200, 'at most 200 values');

/** `POST /v1/usage?next_page=…` (`v1.usage.list`); `limit` is Allot's addition to Metronome's cursor. */
export const usageListQuery = pageQuery;
export const usageListBody = z.strictObject({
  starting_on: rangeEnd,
  ending_before: rangeEnd,
  window_size: windowSize,
  customer_ids: z.array(z.string()).max(100, 'at most 100 customer ids').optional(),
  billable_metrics: z
    .array(
      z.strictObject({
        id: z.string(),
        group_by: z.strictObject({ key: property, values: groupValues.optional() }).optional(),
      }),
    )
    .max(100, 'at most 100 billable metrics')
    .optional(),
});

/** `POST /v1/usage/groups?limit=…&next_page=…` (`v1.usage.listWithGroups`). */
export const usageGroupsQuery = pageQuery;
export const usageGroupsBody = z.strictObject({
  billable_metric_id: z.string(),
  customer_id: z.string(),
  window_size: windowSize,
  starting_on: rangeEnd.optional(),
  ending_before: rangeEnd.optional(),
  current_period: z.boolean().optional(),
  group_by: z.strictObject({ key: property, values: groupValues.optional() }).optional().describe('Deprecated by Metronome in favour of group_key and group_filters'),
  group_key: z.array(property).min(1, 'must name at least one property').max(10, 'at most 10 properties').optional(),
  group_filters: z.record(z.string(), z.array(text()).max(200, 'at most 200 values')).optional(),
});

/** `POST /v1/events/search` (`v1.usage.search`). */
export const searchEventsBody = z.strictObject({
  transactionIds: z.array(text().min(1, 'must not be empty')).min(1, 'must name at least one transaction id').max(100, 'at most 100 transaction ids'),
});

/** `GET /v1/customers/{customer_id}/billable-metrics` (`v1.customers.listBillableMetrics`). */
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');
export const customerIdParams = z.strictObject({ customer_id: z.string() });
export const customerMetricsQuery = pageQuery.extend({ include_archived: flag.optional(), on_current_plan: flag.optional() });

// ---- responses

export const usageAggregate = z.object({
  customer_id: z.string(),
  billable_metric_id: z.string(),
  billable_metric_name: z.string(),
  start_timestamp: z.string(),
  end_timestamp: z.string(),
  value: z.number().nullable(),
  groups: z.record(z.string(), z.number().nullable()).optional(),
});

export const groupedUsageAggregate = z.object({
  starting_on: z.string(),
  ending_before: z.string(),
  group_key: z.string().nullable(),
  group_value: z.string().nullable(),
  value: z.number().nullable(),
  group: z.record(z.string(), z.string()).optional(),
});

/** A billable metric as the pricing module shows it. */
export const billableMetric = pricingSchemas.billableMetric;

export const searchedEvent = z.object({
  id: z.string(),
  transaction_id: z.string(),
  customer_id: z.string(),
  event_type: z.string(),
  timestamp: z.string(),
  properties: z.record(z.string(), z.unknown()),
  processed_at: z.string(),
  is_duplicate: z.boolean(),
  matched_customer: z.object({ id: z.string().optional(), name: z.string().optional() }).optional(),
  matched_billable_metrics: z.array(billableMetric),
});

export const page = <Item extends z.ZodType>(item: Item) => z.object({ data: z.array(item), next_page: z.string().nullable() });
