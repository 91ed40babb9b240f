import { announceCatalogChange, inTransaction, memoized, type ServiceContext } from '../../lib/context.js';
import { NotFound } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { fetchPage } from '../../lib/pagination.js';
import type { Queryable } from '../../lib/db/database.js';
import { metricProblems } from './compute/metricRules.js';
import { throwAll } from './creditTypeService.js';
import * as repo from './repo.js';

export * from './creditTypeService.js';
export * from './productService.js';
export * from './rateCardService.js';

export type BillableMetric = repo.MetricRow;

// ---- billable metrics

export interface NewBillableMetric {
  name: string;
  aggregation_type?: BillableMetric['aggregation_type'] | undefined;
  aggregation_key?: string | undefined;
  event_type_filter?: { in_values?: string[] | undefined; not_in_values?: string[] | undefined } | undefined;
  property_filters?: BillableMetric['property_filters'] | undefined;
  group_keys?: string[][] | undefined;
  custom_fields?: Record<string, string> | undefined;
}

/**
 * Rolls up, in the transaction `tx`, the events the tenant stored before `metric` existed (the
 * usage module's `rollUpStoredEvents`, handed in by the caller: usage reads metrics from pricing).
 */
export type RollUpStoredEvents = (tx: Queryable, { tenantId, metric }: { tenantId: string; metric: BillableMetric }) => Promise<void>;

/**
 * Creates a billable metric after checking its definition (see `compute/metricRules.ts`), and rolls
 * up the events the tenant already ingested that it matches (`rollUpStoredEvents`).
 */
export async function createBillableMetric(
  ctx: ServiceContext,
  { tenantId, metric, rollUpStoredEvents }: { tenantId: string; metric: NewBillableMetric; rollUpStoredEvents: RollUpStoredEvents },
): Promise<BillableMetric> {
  const propertyFilters = (metric.property_filters ?? []).map(withoutUndefined);
  const groupKeys = metric.group_keys ?? [];
  // Every problem of the definition at once, so that a client fixes them in one go.
  throwAll(metricProblems({ aggregationType: metric.aggregation_type, aggregationKey: metric.aggregation_key ?? null, propertyFilters, groupKeys }));
  const row: BillableMetric = {
    id: newId(),
    name: metric.name,
    aggregation_type: metric.aggregation_type!, // checked by metricProblems
    aggregation_key: metric.aggregation_key ?? null,
    event_type_filter: metric.event_type_filter ? withoutUndefined(metric.event_type_filter) : null,
    property_filters: propertyFilters,
    group_keys: groupKeys,
    custom_fields: metric.custom_fields ?? {},
    created_at: ctx.clock.now(),
    archived_at: null,
  };
  // The metric counts the events stored before it too: they are rolled up in the same transaction,
  // which no ingest batch of the tenant overlaps (see usage's rollUpStoredEvents).
  await inTransaction(ctx, async (txContext) => {
    await repo.insertMetric(txContext.db, tenantId, row);
    await rollUpStoredEvents(txContext.db, { tenantId, metric: row });
    // Products may name it only after it exists; announced all the same, as its rollups just appeared.
    await announceCatalogChange(txContext, { tenantId });
  });
  return row;
}

/** The metric, archived or not; an id that is not the tenant's metric is a 404. */
export async function getBillableMetric({ db }: ServiceContext, { tenantId, billableMetricId }: { tenantId: string; billableMetricId: string }): Promise<BillableMetric> {
  const metric = isUuid(billableMetricId) ? await repo.findMetric(db, tenantId, billableMetricId) : undefined;
  if (!metric) throw new NotFound(`No billable metric with id ${billableMetricId}`);
  return metric;
}

/** The metric, or undefined when the id is no metric of the tenant (for other modules: usage, alerts). */
export async function findBillableMetric({ db }: ServiceContext, { tenantId, billableMetricId }: { tenantId: string; billableMetricId: string }): Promise<BillableMetric | undefined> {
  return isUuid(billableMetricId) ? repo.findMetric(db, tenantId, billableMetricId) : undefined;
}

/** The tenant's metrics among `ids`, archived or not, by id (for rating). */
export async function findBillableMetrics(ctx: ServiceContext, { tenantId, ids }: { tenantId: string; ids: string[] }): Promise<Map<string, BillableMetric>> {
  const valid = ids.filter(isUuid);
  return memoized(ctx, `metrics ${tenantId} ${valid.join(',')}`, async () => new Map((await repo.findMetrics(ctx.db, tenantId, valid)).map((row) => [row.id, row])));
}

export async function listBillableMetrics(
  { db }: ServiceContext,
  { tenantId, query }: { tenantId: string; query: { limit: number; nextPage?: string | undefined; includeArchived?: boolean | undefined } },
): Promise<{ metrics: BillableMetric[]; nextPage: string | null }> {
  const page = await fetchPage(query, (window) => repo.listMetrics(db, tenantId, { ...window, includeArchived: query.includeArchived ?? false }));
  return { metrics: page.rows, nextPage: page.nextPage };
}

/**
 * Archives a metric: it can no longer be attached to products, while products that use it keep
 * working. Archiving an archived metric changes nothing.
 */
export async function archiveBillableMetric(ctx: ServiceContext, { tenantId, billableMetricId }: { tenantId: string; billableMetricId: string }): Promise<void> {
  await getBillableMetric(ctx, { tenantId, billableMetricId });
  await inTransaction(ctx, async (txContext) => {
    await repo.archiveMetric(txContext.db, tenantId, billableMetricId, ctx.clock.now());
    await announceCatalogChange(txContext, { tenantId });
  });
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
