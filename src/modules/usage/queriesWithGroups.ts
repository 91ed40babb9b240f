import type { ServiceContext } from '../../lib/context.js';
import { Invalid, NotFound } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import { Decimal } from '../../lib/money.js';
import * as contracts from '../contracts/service.js';
import * as customers from '../customers/service.js';
import * as pricing from '../pricing/service.js';
import { checkRange, describeGroupKeys, emptyValue, type BillableMetric } from './queries.js';
import { compileMetric } from './compute/matchMetric.js';
import { compareTexts, decodePosition, encodePosition } from './queriesCursor.js';
import { windowGrid, type UsageWindow, type WindowGrid, type WindowSize } from './queriesWindows.js';
import * as repo from './queryRepo.js';

export interface GroupedUsageQuery {
  customerId: string;
  billableMetricId: string;
  windowSize: WindowSize;
  startingOn?: Date | undefined;
  endingBefore?: Date | undefined;
  currentPeriod?: boolean | undefined;
  groupBy?: { key: string; values?: string[] | undefined } | undefined;
  groupKey?: string[] | undefined;
  groupFilters?: Record<string, string[]> | undefined;
  limit: number;
  nextPage?: string | undefined;
}

/** One item of `v1.usage.listWithGroups`: the usage of one window, for one group when grouped. */
export interface GroupedUsageAggregate {
  window: UsageWindow;
  /** The group's value of each key, in the order of `group_key` as asked; null when not grouped. */
  group: [key: string, value: string][] | null;
  value: Decimal | null;
}

interface Grouping {
  /** The properties as asked, and as the rollups store them (`group_key`, names sorted by the ingest). */
  asked: string[];
  stored: string[];
  filters: repo.GroupValueFilter[];
}

/** Grouped queries read windows in growing batches until a page is full, so a page costs about what it shows. */
const FIRST_BATCH = 1;
const LARGEST_BATCH = 256;

/**
 * `v1.usage.listWithGroups`: one customer's usage of one metric per window, from the rollups,
 * over `[startingOn, endingBefore)` or the customer's current billing period. Not grouped, every
 * window has an item. Grouped by a group key of the metric (`group_key`, or the older single-key
 * `group_by`), each window has an item per group value with usage in it, optionally only values
 * in `group_filters` / `group_by.values`; items follow window order, then group values.
 */
export async function listUsageWithGroups(
  ctx: ServiceContext,
  { tenantId, query }: { tenantId: string; query: GroupedUsageQuery },
): Promise<{ aggregates: GroupedUsageAggregate[]; nextPage: string | null }> {
  const customerId = await checkedCustomer(ctx, tenantId, query.customerId);
  const metric = isUuid(query.billableMetricId) ? await pricing.findBillableMetric(ctx, { tenantId, billableMetricId: query.billableMetricId }) : undefined;
  if (!metric) throw new Invalid('billable_metric_id', `no billable metric with id ${query.billableMetricId}`);
  const grouping = groupingOf(metric, query);
  const range = await rangeOf(ctx, tenantId, customerId, query);
  const grid = windowGrid({ ...range, size: query.windowSize });
  const selection = { metricId: metric.id, aggregation: metric.aggregation_type, customerIds: [customerId] };

  if (!grouping) {
    const cursor = query.nextPage ? decodePosition(query.nextPage, isWindowPosition) : null;
    const first = cursor ? Math.max(0, grid.indexOf(new Date(cursor[0])) + 1) : 0;
    const end = Math.min(grid.count, first + query.limit);
    const windows = Array.from({ length: Math.max(0, end - first) }, (_, i) => grid.at(first + i));
    const found = new Map<number, Decimal | null>();
    for (const row of await repo.windowValues(ctx.db, tenantId, { ...selection, groupKey: [], windows })) {
      found.set(row.window_index, row.value === null ? null : new Decimal(row.value));
    }
    const aggregates = windows.map((window, i) => ({ window, group: null, value: found.has(i) ? found.get(i)! : emptyValue(metric.aggregation_type) }));
    const last = windows[windows.length - 1];
    return { aggregates, nextPage: end < grid.count && last ? encodePosition([last.startingOn.toISOString()]) : null };
  }

  const cursor = query.nextPage ? decodePosition(query.nextPage, isGroupPosition) : null;
  const after = cursor ? { index: grid.indexOf(new Date(cursor[0])), values: cursor[1] } : null;
  const items: { index: number; values: string[]; value: Decimal | null }[] = [];
  let next = after ? Math.max(0, after.index) : 0;
  for (let batch = FIRST_BATCH; next < grid.count && items.length <= query.limit; batch = Math.min(batch * 2, LARGEST_BATCH)) {
    const indexes = Array.from({ length: Math.min(batch, grid.count - next) }, (_, i) => next + i);
    const rows = await repo.windowValues(ctx.db, tenantId, {
      ...selection,
      groupKey: grouping.stored,
      filters: grouping.filters,
      windows: indexes.map((index) => grid.at(index)),
    });
    const found = rows
      .map((row) => ({ index: indexes[row.window_index]!, values: row.group_values, value: row.value === null ? null : new Decimal(row.value) }))
      .filter((item) => !after || item.index > after.index || (item.index === after.index && compareTexts(item.values, after.values) > 0))
      .sort((a, b) => a.index - b.index || compareTexts(a.values, b.values));
    items.push(...found);
    next += indexes.length;
  }
  const page = items.slice(0, query.limit);
  const last = page[page.length - 1];
  const aggregates = page.map(({ index, values, value }) => ({
    window: grid.at(index),
    group: grouping.asked.map((key): [string, string] => [key, values[grouping.stored.indexOf(key)] ?? '']),
    value,
  }));
  return { aggregates, nextPage: items.length > query.limit && last ? encodePosition([grid.at(last.index).startingOn.toISOString(), last.values]) : null };
}

function isWindowPosition(value: unknown[]): value is [string] {
  return value.length === 1 && typeof value[0] === 'string' && !Number.isNaN(Date.parse(value[0]));
}

function isGroupPosition(value: unknown[]): value is [string, string[]] {
  return (
    value.length === 2 &&
    typeof value[0] === 'string' &&
    !Number.isNaN(Date.parse(value[0])) &&
    Array.isArray(value[1]) &&
    value[1].every((item) => typeof item === 'string')
  );
}

/** The customer's id as stored; an unknown id is a 400 naming `customer_id` (it is a field of the body). */
async function checkedCustomer(ctx: ServiceContext, tenantId: string, customerId: string): Promise<string> {
  try {
    return (await customers.getCustomer(ctx, { tenantId, customerId })).id;
  } catch (error) {
    if (error instanceof NotFound) throw new Invalid('customer_id', `no customer with id ${customerId}`);
    throw error;
  }
}

/**
 * The group key asked for, which must be one of the metric's group keys exactly (as a set of
 * properties, as Metronome requires: no part of a compound key), with its filters.
 */
function groupingOf(metric: BillableMetric, query: GroupedUsageQuery): Grouping | null {
  if (query.groupBy && query.groupKey) throw new Invalid('group_by', 'cannot be used together with group_key');
  if (query.groupFilters && !query.groupKey) throw new Invalid('group_filters', 'needs group_key');
  const [asked, field, filters] = query.groupBy
    ? [[query.groupBy.key], 'group_by.key', query.groupBy.values ? { [query.groupBy.key]: query.groupBy.values } : {}]
    : query.groupKey
      ? [query.groupKey, 'group_key', query.groupFilters ?? {}]
      : [null, '', {}];
  if (!asked) return null;
  if (new Set(asked).size !== asked.length) throw new Invalid(field, 'names a property twice');
  // The rollups store a group key as the ingest orders its names, so the key is taken from there.
  const groupKey = compileMetric(metric).groupKeys.find(({ names }) => names.length === asked.length && asked.every((property) => names.includes(property)));
  if (!groupKey) throw new Invalid(field, `${JSON.stringify(asked)} is not a group key of billable metric ${metric.name}; ${describeGroupKeys(metric)}`);
  const stored = [...groupKey.names];
  const checked: repo.GroupValueFilter[] = [];
  for (const [key, values] of Object.entries(filters)) {
    const position = stored.indexOf(key);
    if (position < 0) throw new Invalid(query.groupBy ? 'group_by.values' : `group_filters.${key}`, `"${key}" is not in group_key`);
    // An empty list keeps every value of that property.
    if (values.length > 0) checked.push({ position: position + 1, values });
  }
  return { asked, stored, filters: checked };
}

/** The query's range: as given, or with `current_period` the usage statement period of the customer's contract in force now. */
async function rangeOf(ctx: ServiceContext, tenantId: string, customerId: string, query: GroupedUsageQuery): Promise<UsageWindow> {
  if (!query.currentPeriod) {
    if (!query.startingOn) throw new Invalid('starting_on', 'is required unless current_period is true');
    if (!query.endingBefore) throw new Invalid('ending_before', 'is required unless current_period is true');
    const range = { startingOn: query.startingOn, endingBefore: query.endingBefore };
    checkRange(range);
    return range;
  }
  if (query.startingOn || query.endingBefore) {
    throw new Invalid('current_period', 'cannot be used with starting_on or ending_before: the current period sets both');
  }
  const now = ctx.clock.now();
  // A customer may have several contracts in force; the oldest one's statements are its billing period.
  const [contract] = await contracts.listContractRows(ctx, { tenantId, customerId, includeArchived: false, coveringDate: now });
  const period = contract && contracts.statementPeriodAt(contract, now);
  if (!period) {
    throw new Invalid('current_period', `customer ${customerId} has no contract in force at ${now.toISOString()}, so it has no current billing period; give starting_on and ending_before instead`);
  }
  return { startingOn: period.startingAt, endingBefore: period.endingBefore };
}

export type { WindowGrid };
