import type { ServiceContext } from '../../lib/context.js';
import { Invalid } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import { Decimal } from '../../lib/money.js';
import * as customers from '../customers/service.js';
import * as pricing from '../pricing/service.js';
import { compareText, decodePosition, encodePosition } from './queriesCursor.js';
import { windowGrid, type UsageWindow, type WindowGrid, type WindowSize } from './queriesWindows.js';
import * as repo from './queryRepo.js';

export type BillableMetric = pricing.BillableMetric;

/** At most this many group values per window when `group_by.values` is not given (Metronome's limit). */
export const MAX_GROUP_VALUES = 200;

export interface UsageListQuery {
  startingOn: Date;
  endingBefore: Date;
  windowSize: WindowSize;
  customerIds?: string[] | undefined;
  billableMetrics?: { id: string; group_by?: { key: string; values?: string[] | undefined } | undefined }[] | undefined;
  limit: number;
  nextPage?: string | undefined;
}

/** One item of `v1.usage.list`: a customer's usage of a metric in one window. */
export interface UsageAggregate {
  customerId: string;
  metric: BillableMetric;
  window: UsageWindow;
  value: Decimal | null;
  /** Per value of the `group_by` key, when one was asked for; null where the value had no usage. */
  groups: Map<string, Decimal | null> | null;
}

interface MetricQuery {
  metric: BillableMetric;
  groupBy: { key: string; values: string[] | null } | null;
}

/**
 * What a window with no usage is worth: nothing counted, summed or distinct is 0; a window
 * without events has no maximum and no latest value.
 */
export function emptyValue(aggregation: repo.Aggregation): Decimal | null {
  return aggregation === 'MAX' || aggregation === 'LATEST' ? null : new Decimal(0);
}

export function checkRange({ startingOn, endingBefore }: { startingOn: Date; endingBefore: Date }): void {
  if (endingBefore <= startingOn) throw new Invalid('ending_before', 'must be after starting_on');
}

/**
 * `v1.usage.list`: every customer's usage of every metric, per window, from the rollups. Items
 * are ordered by customer id, then metric id, then window, and paged `limit` at a time.
 * Without `customerIds`, the tenant's live customers; without `billableMetrics`, its live
 * metrics. With `group_by`, each item also carries the value per value of that key, which must
 * be a single-property group key of the metric.
 */
export async function listUsage(
  ctx: ServiceContext,
  { tenantId, query }: { tenantId: string; query: UsageListQuery },
): Promise<{ aggregates: UsageAggregate[]; nextPage: string | null }> {
  checkRange(query);
  const grid = windowGrid({ startingOn: query.startingOn, endingBefore: query.endingBefore, size: query.windowSize });
  const metrics = await metricQueries(ctx, tenantId, query.billableMetrics);
  const explicitCustomers = query.customerIds ? await checkedCustomerIds(ctx, tenantId, query.customerIds) : null;
  const cursor = query.nextPage ? decodePosition(query.nextPage, isListPosition) : null;
  if (metrics.length === 0) return { aggregates: [], nextPage: null };

  const items: { customerId: string; metric: MetricQuery; index: number }[] = [];
  collect: for await (const customerId of customersFrom(ctx, tenantId, explicitCustomers, cursor?.[0] ?? null)) {
    for (const metric of metrics) {
      const order = cursor ? compareText(customerId, cursor[0]) || compareText(metric.metric.id, cursor[1]) : 1;
      if (order < 0) continue;
      const first = order === 0 ? Math.max(0, grid.indexOf(new Date(cursor![2])) + 1) : 0;
      for (let index = first; index < grid.count; index += 1) {
        items.push({ customerId, metric, index });
        if (items.length > query.limit) break collect;
      }
    }
  }
  const page = items.slice(0, query.limit);
  const last = page[page.length - 1];
  const nextPage = items.length > query.limit && last ? encodePosition([last.customerId, last.metric.metric.id, grid.at(last.index).startingOn.toISOString()]) : null;

  const values = new Map<string, Decimal | null>();
  const groups = new Map<string, Map<string, Decimal | null>>();
  const key = (customerId: string, metricId: string, index: number) => `${customerId} ${metricId} ${index}`;
  for (const metric of metrics) {
    const own = page.filter((item) => item.metric === metric);
    if (own.length === 0) continue;
    const indexes = [...new Set(own.map((item) => item.index))].sort((a, b) => a - b);
    const selection = {
      metricId: metric.metric.id,
      aggregation: metric.metric.aggregation_type,
      customerIds: [...new Set(own.map((item) => item.customerId))],
      windows: indexes.map((index) => grid.at(index)),
    };
    for (const row of await repo.windowValues(ctx.db, tenantId, { ...selection, groupKey: [] })) {
      values.set(key(row.customer_id, metric.metric.id, indexes[row.window_index]!), row.value === null ? null : new Decimal(row.value));
    }
    if (!metric.groupBy) continue;
    const filters = metric.groupBy.values ? [{ position: 1, values: metric.groupBy.values }] : [];
    for (const row of await repo.windowValues(ctx.db, tenantId, { ...selection, groupKey: [metric.groupBy.key], filters })) {
      const itemKey = key(row.customer_id, metric.metric.id, indexes[row.window_index]!);
      const found = groups.get(itemKey) ?? new Map<string, Decimal | null>();
      found.set(row.group_values[0] ?? '', row.value === null ? null : new Decimal(row.value));
      groups.set(itemKey, found);
    }
  }

  const aggregates = page.map(({ customerId, metric, index }): UsageAggregate => {
    const itemKey = key(customerId, metric.metric.id, index);
    const value = values.has(itemKey) ? values.get(itemKey)! : emptyValue(metric.metric.aggregation_type);
    return { customerId, metric: metric.metric, window: grid.at(index), value, groups: metric.groupBy && groupsOf(metric.groupBy, groups.get(itemKey)) };
  });
  return { aggregates, nextPage };
}

function isListPosition(value: unknown[]): value is [string, string, string] {
  return value.length === 3 && isUuid(String(value[0])) && isUuid(String(value[1])) && typeof value[2] === 'string' && !Number.isNaN(Date.parse(value[2]));
}

/**
 * The groups of one item: with `values`, each of them (null where it had no usage), in the
 * order asked; without, the values with usage, in code-unit order, at most MAX_GROUP_VALUES.
 */
function groupsOf(groupBy: { values: string[] | null }, found: Map<string, Decimal | null> | undefined): Map<string, Decimal | null> {
  if (groupBy.values) return new Map(groupBy.values.map((value) => [value, found?.get(value) ?? null]));
  const values = [...(found?.keys() ?? [])].sort(compareText).slice(0, MAX_GROUP_VALUES);
  return new Map(values.map((value) => [value, found!.get(value)!]));
}

/** The metrics asked for, checked and in id order; or all of the tenant's live metrics. */
async function metricQueries(ctx: ServiceContext, tenantId: string, asked: UsageListQuery['billableMetrics']): Promise<MetricQuery[]> {
  if (!asked) return (await liveMetrics(ctx, tenantId)).map((metric) => ({ metric, groupBy: null }));
  if (asked.length === 0) throw new Invalid('billable_metrics', 'must not be empty; leave it out for every billable metric');
  const found = await pricing.findBillableMetrics(ctx, { tenantId, ids: asked.map((entry) => entry.id.toLowerCase()) });
  const seen = new Set<string>();
  const queries = asked.map((entry, index): MetricQuery => {
    const metric = found.get(entry.id.toLowerCase());
    if (!metric) throw new Invalid(`billable_metrics.${index}.id`, `no billable metric with id ${entry.id}`);
    if (seen.has(metric.id)) throw new Invalid(`billable_metrics.${index}.id`, `billable metric ${entry.id} is listed twice`);
    seen.add(metric.id);
    if (!entry.group_by) return { metric, groupBy: null };
    const { key, values } = entry.group_by;
    if (!metric.group_keys.some((groupKey) => groupKey.length === 1 && groupKey[0] === key)) {
      throw new Invalid(`billable_metrics.${index}.group_by.key`, `"${key}" is not a group key of billable metric ${metric.name}; ${describeGroupKeys(metric)}`);
    }
    return { metric, groupBy: { key, values: values ? [...new Set(values)] : null } };
  });
  return queries.sort((a, b) => compareText(a.metric.id, b.metric.id));
}

/** Every live (not archived) billable metric of the tenant, in id order. */
export async function liveMetrics(ctx: ServiceContext, tenantId: string): Promise<BillableMetric[]> {
  const all: BillableMetric[] = [];
  let nextPage: string | undefined;
  do {
    const page = await pricing.listBillableMetrics(ctx, { tenantId, query: { limit: 100, nextPage } });
    all.push(...page.metrics);
    nextPage = page.nextPage ?? undefined;
  } while (nextPage);
  return all;
}

export function describeGroupKeys(metric: BillableMetric): string {
  return metric.group_keys.length === 0 ? 'it has none' : `its group keys are ${metric.group_keys.map((key) => JSON.stringify(key)).join(', ')}`;
}

/** The customer ids asked for, each a customer of the tenant (archived ones too), deduplicated and in id order. */
async function checkedCustomerIds(ctx: ServiceContext, tenantId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) throw new Invalid('customer_ids', 'must not be empty; leave it out for every customer');
  const wanted = ids.map((id, index) => {
    if (!isUuid(id)) throw new Invalid(`customer_ids.${index}`, `no customer with id ${id}`);
    return id.toLowerCase();
  });
  const distinct = [...new Set(wanted)];
  const found = new Set<string>();
  for (const onlyArchived of [false, true]) {
    const page = await customers.listCustomers(ctx, { tenantId, query: { limit: 100, customerIds: distinct, onlyArchived } });
    for (const customer of page.customers) found.add(customer.id);
  }
  wanted.forEach((id, index) => {
    if (!found.has(id)) throw new Invalid(`customer_ids.${index}`, `no customer with id ${ids[index]}`);
  });
  return distinct.sort(compareText);
}

/** Customer ids in order from `from` (inclusive): those asked for, or else the tenant's live customers, read 100 at a time. */
async function* customersFrom(ctx: ServiceContext, tenantId: string, explicit: string[] | null, from: string | null): AsyncGenerator<string> {
  if (explicit) {
    yield* explicit.filter((id) => from === null || compareText(id, from) >= 0);
    return;
  }
  // The cursor's customer was listed when the cursor was made; its remaining windows come first.
  if (from) yield from;
  yield* customers.liveCustomerIds(ctx, { tenantId, afterId: from });
}

export type { UsageWindow, WindowGrid, WindowSize };
