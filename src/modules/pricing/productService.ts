import { announceCatalogChange, inTransaction, memoized, type ServiceContext } from '../../lib/context.js';
import type { Queryable } from '../../lib/db/database.js';
import { Invalid, NotFound, Problems } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { fetchPage } from '../../lib/pagination.js';
import { groupKeysFitMetric } from './compute/metricRules.js';
import { productFieldsAt, type ProductFields } from './compute/productState.js';
import * as repo from './repo.js';

export type ProductType = 'USAGE' | 'SUBSCRIPTION' | 'FIXED';

/** A product as other modules see it: its fields in force at one instant (now, for `findProducts`). */
export interface Product {
  id: string;
  name: string;
  type: ProductType;
  tags: string[];
  billableMetricId: string | null;
  pricingGroupKey: string[] | null;
  presentationGroupKey: string[] | null;
  archivedAt: Date | null;
  customFields: Record<string, string>;
  createdAt: Date;
}

/** A product with its whole history, for the API: the initial row, every update, and the fields in force now. */
export interface ProductDetail {
  row: repo.ProductRow;
  updates: repo.ProductUpdateRow[];
  current: ProductFields & { createdAt: Date; createdBy: string; startingAt: Date | null };
}

export interface NewProduct {
  name: string;
  type: ProductType;
  billable_metric_id?: string | undefined;
  pricing_group_key?: string[] | undefined;
  presentation_group_key?: string[] | undefined;
  tags?: string[] | undefined;
  custom_fields?: Record<string, string> | undefined;
}

export interface ProductChanges {
  name?: string | undefined;
  billable_metric_id?: string | undefined;
  pricing_group_key?: string[] | undefined;
  presentation_group_key?: string[] | undefined;
  tags?: string[] | undefined;
}

/**
 * Products by id, each with the fields in force now. Ids that are not UUIDs or not the tenant's
 * products are absent; archived products are included, with `archivedAt` set.
 */
export async function findProducts(ctx: ServiceContext, { tenantId, productIds }: { tenantId: string; productIds: string[] }): Promise<Map<string, Product>> {
  return findProductsAt(ctx, { tenantId, productIds, at: ctx.clock.now() });
}

/** As `findProducts`, with the fields in force at `at` (a product update takes effect at its `starting_at`). */
export async function findProductsAt(
  ctx: ServiceContext,
  { tenantId, productIds, at }: { tenantId: string; productIds: string[]; at: Date },
): Promise<Map<string, Product>> {
  return memoized(ctx, `products ${tenantId} ${at.toISOString()} ${productIds.join(',')}`, () => productsAt(ctx.db, tenantId, productIds, at));
}

/** `findProductsAt` inside a transaction the caller holds. */
export async function productsAt(tx: Queryable, tenantId: string, productIds: string[], at: Date): Promise<Map<string, Product>> {
  const details = await loadProducts(tx, tenantId, [...new Set(productIds.filter(isUuid))], at);
  return new Map(details.map((detail) => [detail.row.id, toProduct(detail)]));
}

function toProduct({ row, current }: ProductDetail): Product {
  return {
    id: row.id,
    name: current.name,
    type: row.type,
    tags: current.tags,
    billableMetricId: current.billableMetricId,
    pricingGroupKey: current.pricingGroupKey,
    presentationGroupKey: current.presentationGroupKey,
    archivedAt: row.archived_at,
    customFields: row.custom_fields,
    createdAt: row.created_at,
  };
}

async function loadProducts(tx: Queryable, tenantId: string, ids: string[], at: Date, options: { forUpdate?: boolean } = {}): Promise<ProductDetail[]> {
  if (ids.length === 0) return [];
  const rows = await repo.findProducts(tx, tenantId, ids, options);
  return withHistory(tx, tenantId, rows, at);
}

async function withHistory(tx: Queryable, tenantId: string, rows: repo.ProductRow[], at: Date): Promise<ProductDetail[]> {
  const updates = await repo.findProductUpdates(
    tx,
    tenantId,
    rows.map((row) => row.id),
  );
  return rows.map((row) => {
    const own = updates.filter((update) => update.product_id === row.id);
    const { fields, lastApplied } = productFieldsAt(initialFields(row), own.map(asUpdate), at);
    return {
      row,
      updates: own,
      current: {
        ...fields,
        createdAt: lastApplied?.row.created_at ?? row.created_at,
        createdBy: lastApplied?.row.created_by ?? row.created_by,
        startingAt: lastApplied?.startingAt ?? null,
      },
    };
  });
}

function initialFields(row: repo.ProductRow): ProductFields {
  return {
    name: row.name,
    billableMetricId: row.billable_metric_id,
    pricingGroupKey: row.pricing_group_key,
    presentationGroupKey: row.presentation_group_key,
    tags: row.tags,
  };
}

function asUpdate(row: repo.ProductUpdateRow) {
  return {
    row,
    startingAt: row.starting_at,
    sequence: row.id,
    changes: {
      name: row.name,
      billableMetricId: row.billable_metric_id,
      pricingGroupKey: row.pricing_group_key,
      presentationGroupKey: row.presentation_group_key,
      tags: row.tags,
    },
  };
}

/**
 * The usage fields of a product must fit its type and metric: only USAGE products have a
 * `billable_metric_id` (required, a live metric of the tenant) and group keys, whose union must be
 * one of the metric's group keys. `sent` names the fields the request sent, so that each problem
 * names one of them; every field sent to a product that is not USAGE is named.
 */
async function checkUsageFields(
  tx: Queryable,
  tenantId: string,
  type: ProductType,
  fields: Pick<ProductFields, 'billableMetricId' | 'pricingGroupKey' | 'presentationGroupKey'>,
  sent: { billable_metric_id?: unknown; pricing_group_key?: unknown; presentation_group_key?: unknown },
): Promise<void> {
  const problems = new Problems();
  if (type !== 'USAGE') {
    for (const field of ['billable_metric_id', 'pricing_group_key', 'presentation_group_key'] as const) {
      problems.check(sent[field] === undefined, field, `is only for USAGE products, not ${type}`);
    }
    return problems.throwIfAny();
  }
  if (!fields.billableMetricId) throw new Invalid('billable_metric_id', 'is required for a USAGE product');
  const metric = isUuid(fields.billableMetricId) ? await repo.findMetric(tx, tenantId, fields.billableMetricId) : undefined;
  // The group keys are checked against the metric: without one, there is nothing to check them against.
  if (!metric) throw new Invalid('billable_metric_id', `no billable metric with id ${fields.billableMetricId}`);
  problems.check(sent.billable_metric_id === undefined || !metric.archived_at, 'billable_metric_id', `billable metric ${metric.id} is archived`);
  if (!groupKeysFitMetric(metric.group_keys, fields.pricingGroupKey, fields.presentationGroupKey)) {
    const field = sent.pricing_group_key !== undefined ? 'pricing_group_key' : sent.presentation_group_key !== undefined ? 'presentation_group_key' : 'billable_metric_id';
    const offered = metric.group_keys.map((key) => `[${key.join(', ')}]`).join(', ') || 'none';
    problems.add(field, `pricing_group_key and presentation_group_key together must be one of the metric's group keys (${offered})`);
  }
  problems.throwIfAny();
}

export async function createProduct(
  { db, clock }: ServiceContext,
  { tenantId, createdBy, product }: { tenantId: string; createdBy: string; product: NewProduct },
): Promise<ProductDetail> {
  return db.transaction(async (tx) => {
    const fields = {
      billableMetricId: product.billable_metric_id ?? null,
      pricingGroupKey: product.pricing_group_key ?? null,
      presentationGroupKey: product.presentation_group_key ?? null,
    };
    await checkUsageFields(tx, tenantId, product.type, fields, product);
    const row: repo.ProductRow = {
      id: newId(),
      type: product.type,
      name: product.name,
      billable_metric_id: fields.billableMetricId,
      pricing_group_key: fields.pricingGroupKey,
      presentation_group_key: fields.presentationGroupKey,
      tags: distinct(product.tags ?? []),
      custom_fields: product.custom_fields ?? {},
      created_at: clock.now(),
      created_by: createdBy,
      archived_at: null,
    };
    await repo.insertProduct(tx, tenantId, row);
    return (await withHistory(tx, tenantId, [row], clock.now()))[0]!;
  });
}

export async function getProduct({ db, clock }: ServiceContext, { tenantId, productId }: { tenantId: string; productId: string }): Promise<ProductDetail> {
  const [found] = isUuid(productId) ? await loadProducts(db, tenantId, [productId], clock.now()) : [];
  if (!found) throw new NotFound(`No product with id ${productId}`);
  return found;
}

export async function listProducts(
  { db, clock }: ServiceContext,
  { tenantId, query }: { tenantId: string; query: { limit: number; nextPage?: string | undefined; archiveFilter?: 'ARCHIVED' | 'NOT_ARCHIVED' | 'ALL' | undefined } },
): Promise<{ products: ProductDetail[]; nextPage: string | null }> {
  const page = await fetchPage(query, (window) => repo.listProducts(db, tenantId, { ...window, archived: query.archiveFilter ?? 'NOT_ARCHIVED' }));
  return { products: await withHistory(db, tenantId, page.rows, clock.now()), nextPage: page.nextPage };
}

/**
 * Schedules a change of a live product from `startingAt` (hour-aligned; past instants change it
 * retroactively). Only the fields sent change; the type never does. The product's fields in force
 * at `startingAt`, with the change applied, must be valid together.
 */
export async function updateProduct(
  ctx: ServiceContext,
  { tenantId, createdBy, productId, startingAt, changes }: { tenantId: string; createdBy: string; productId: string; startingAt: Date; changes: ProductChanges },
): Promise<void> {
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new Invalid('body', 'send at least one field to change: name, billable_metric_id, pricing_group_key, presentation_group_key or tags');
  }
  const { clock } = ctx;
  // The catalog change is announced in the same transaction: other processes learn of it when it commits.
  await inTransaction(ctx, async (txContext) => {
    const tx = txContext.db;
    const [product] = isUuid(productId) ? await loadProducts(tx, tenantId, [productId], startingAt, { forUpdate: true }) : [];
    if (!product) throw new NotFound(`No product with id ${productId}`);
    if (product.row.archived_at) throw new Invalid('product_id', `product ${productId} is archived`);
    await checkUsageFields(
      tx,
      tenantId,
      product.row.type,
      {
        billableMetricId: changes.billable_metric_id ?? product.current.billableMetricId,
        pricingGroupKey: changes.pricing_group_key ?? product.current.pricingGroupKey,
        presentationGroupKey: changes.presentation_group_key ?? product.current.presentationGroupKey,
      },
      changes,
    );
    await repo.insertProductUpdate(tx, tenantId, {
      id: newId(),
      product_id: productId,
      starting_at: startingAt,
      created_at: clock.now(),
      created_by: createdBy,
      name: changes.name ?? null,
      billable_metric_id: changes.billable_metric_id ?? null,
      pricing_group_key: changes.pricing_group_key ?? null,
      presentation_group_key: changes.presentation_group_key ?? null,
      tags: changes.tags ? distinct(changes.tags) : null,
    });
    await announceCatalogChange(txContext, { tenantId });
  });
}

/** Archives a product: no new rates may use it; existing rates keep working. Archiving twice changes nothing. */
export async function archiveProduct(ctx: ServiceContext, { tenantId, productId }: { tenantId: string; productId: string }): Promise<void> {
  const [found] = isUuid(productId) ? await repo.findProducts(ctx.db, tenantId, [productId]) : [];
  if (!found) throw new NotFound(`No product with id ${productId}`);
  await inTransaction(ctx, async (txContext) => {
    await repo.archiveProduct(txContext.db, tenantId, productId, ctx.clock.now());
    await announceCatalogChange(txContext, { tenantId });
  });
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}
