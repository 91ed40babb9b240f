import type { CustomerListBillableMetricsResponse } from '@metronome/sdk/resources/v1/customers/customers';
import type { UsageListResponse, UsageListWithGroupsResponse, UsageSearchResponse } from '@metronome/sdk/resources/v1/usage';
import { z } from 'zod';
import type { App } from '../../http/types.js';
import { wireNumber, type Decimal } from '../../lib/money.js';
import { toRfc3339 } from '../../lib/time.js';
import type * as pricing from '../pricing/service.js';
import { listUsage, type UsageAggregate } from './queries.js';
import { listCustomerBillableMetrics } from './queriesCustomerMetrics.js';
import { searchEvents, type SearchedEvent } from './queriesSearch.js';
import { listUsageWithGroups, type GroupedUsageAggregate } from './queriesWithGroups.js';
import * as schemas from './querySchemas.js';

const wireValue = (value: Decimal | null) => (value === null ? null : wireNumber(value));

function toUsageAggregate(aggregate: UsageAggregate): UsageListResponse {
  return {
    customer_id: aggregate.customerId,
    billable_metric_id: aggregate.metric.id,
    billable_metric_name: aggregate.metric.name,
    start_timestamp: toRfc3339(aggregate.window.startingOn),
    end_timestamp: toRfc3339(aggregate.window.endingBefore),
    value: wireValue(aggregate.value),
    ...(aggregate.groups && { groups: Object.fromEntries([...aggregate.groups].map(([value, amount]) => [value, wireValue(amount)])) }),
  };
}

function toGroupedAggregate(aggregate: GroupedUsageAggregate): UsageListWithGroupsResponse {
  const [single] = aggregate.group?.length === 1 ? aggregate.group : [];
  return {
    starting_on: toRfc3339(aggregate.window.startingOn),
    ending_before: toRfc3339(aggregate.window.endingBefore),
    // The older single-key fields are filled for a one-property group, as Metronome does.
    group_key: single ? single[0] : null,
    group_value: single ? single[1] : null,
    value: wireValue(aggregate.value),
    ...(aggregate.group && { group: Object.fromEntries(aggregate.group) }),
  };
}

/** The SDK's metric, with the fields Allot always sends. */
type WireMetric = CustomerListBillableMetricsResponse &
  UsageSearchResponse.UsageSearchResponseItem.MatchedBillableMetric &
  Required<Pick<CustomerListBillableMetricsResponse, 'aggregation_type' | 'custom_fields' | 'group_keys' | 'property_filters'>>;

/** A billable metric as `listBillableMetrics` and `events/search` show it. */
export function toWireMetric(metric: pricing.BillableMetric): WireMetric {
  return {
    id: metric.id,
    name: metric.name,
    aggregation_type: metric.aggregation_type,
    ...(metric.aggregation_key !== null && { aggregation_key: metric.aggregation_key }),
    ...(metric.archived_at && { archived_at: toRfc3339(metric.archived_at) }),
    custom_fields: metric.custom_fields,
    ...(metric.event_type_filter && { event_type_filter: metric.event_type_filter }),
    group_keys: metric.group_keys,
    property_filters: metric.property_filters,
  };
}

type SearchItem = UsageSearchResponse.UsageSearchResponseItem;
/** The SDK's searched event, with the fields Allot always sends (each metric as `WireMetric`, which the SDK's type accepts). */
type WireSearchedEvent = Omit<SearchItem, 'matched_billable_metrics'> &
  Required<Pick<SearchItem, 'properties' | 'processed_at' | 'is_duplicate'>> & { matched_billable_metrics: WireMetric[] };

function toSearchedEvent({ id, event, customer, metrics }: SearchedEvent): WireSearchedEvent {
  return {
    id,
    transaction_id: event.transaction_id,
    // As sent: the customer's id or one of its ingest aliases.
    customer_id: event.customer_ref,
    event_type: event.event_type,
    timestamp: toRfc3339(event.timestamp),
    properties: event.properties,
    processed_at: toRfc3339(event.received_at),
    is_duplicate: false,
    ...(customer && { matched_customer: customer }),
    matched_billable_metrics: metrics.map(toWireMetric),
  };
}

/** Usage queries at the Metronome paths: `v1.usage.list / listWithGroups / search`, `v1.customers.listBillableMetrics`. */
export function registerUsageQueryRoutes(app: App): void {
  const tags = ['usage'];

  app.post(
    '/v1/usage',
    { schema: { tags, querystring: schemas.usageListQuery, body: schemas.usageListBody, response: { 200: schemas.page(schemas.usageAggregate) } } },
    async (request) => {
      const { body, query } = request;
      const page = await listUsage(request.context, {
        tenantId: request.auth.tenantId,
        query: {
          startingOn: body.starting_on,
          endingBefore: body.ending_before,
          windowSize: body.window_size,
          customerIds: body.customer_ids,
          billableMetrics: body.billable_metrics,
          limit: query.limit,
          nextPage: query.next_page,
        },
      });
      return { data: page.aggregates.map(toUsageAggregate), next_page: page.nextPage };
    },
  );

  app.post(
    '/v1/usage/groups',
    { schema: { tags, querystring: schemas.usageGroupsQuery, body: schemas.usageGroupsBody, response: { 200: schemas.page(schemas.groupedUsageAggregate) } } },
    async (request) => {
      const { body, query } = request;
      const page = await listUsageWithGroups(request.context, {
        tenantId: request.auth.tenantId,
        query: {
          customerId: body.customer_id,
          billableMetricId: body.billable_metric_id,
          windowSize: body.window_size,
          startingOn: body.starting_on,
          endingBefore: body.ending_before,
          currentPeriod: body.current_period,
          groupBy: body.group_by,
          groupKey: body.group_key,
          groupFilters: body.group_filters,
          limit: query.limit,
          nextPage: query.next_page,
        },
      });
      return { data: page.aggregates.map(toGroupedAggregate), next_page: page.nextPage };
    },
  );

  app.post(
    '/v1/events/search',
    { schema: { tags, body: schemas.searchEventsBody, response: { 200: z.array(schemas.searchedEvent) } } },
    async (request) => {
      const found = await searchEvents(request.context, { tenantId: request.auth.tenantId, transactionIds: request.body.transactionIds });
      return found.map(toSearchedEvent);
    },
  );

  app.get(
    '/v1/customers/:customer_id/billable-metrics',
    {
      schema: {
        tags: ['billable metrics'],
        params: schemas.customerIdParams,
        querystring: schemas.customerMetricsQuery,
        response: { 200: schemas.page(schemas.billableMetric) },
      },
    },
    async (request) => {
      const { query } = request;
      const page = await listCustomerBillableMetrics(request.context, {
        tenantId: request.auth.tenantId,
        customerId: request.params.customer_id,
        query: { includeArchived: query.include_archived ?? false, onCurrentPlan: query.on_current_plan ?? false, limit: query.limit, nextPage: query.next_page },
      });
      return { data: page.metrics.map(toWireMetric), next_page: page.nextPage };
    },
  );
}
