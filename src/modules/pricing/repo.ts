import type { Queryable } from '../../lib/db/database.js';

// ---- pricing units (custom ones; USD is built in and has no row)

export interface CreditTypeRow {
  id: string;
  name: string;
  created_at: Date;
}

export async function insertCreditType(tx: Queryable, tenantId: string, row: CreditTypeRow): Promise<void> {
  await tx.query('INSERT INTO credit_types (tenant_id, id, name, created_at) VALUES ($1, $2, $3, $4)', [tenantId, row.id, row.name, row.created_at]);
}

export async function findCreditTypes(tx: Queryable, tenantId: string, ids: string[]): Promise<CreditTypeRow[]> {
  return tx.query<CreditTypeRow>('SELECT id, name, created_at FROM credit_types WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [tenantId, ids]);
}

export async function findCreditTypeByName(tx: Queryable, tenantId: string, name: string): Promise<CreditTypeRow | undefined> {
  const rows = await tx.query<CreditTypeRow>('SELECT id, name, created_at FROM credit_types WHERE tenant_id = $1 AND name = $2', [tenantId, name]);
  return rows[0];
}

export async function listCreditTypes(tx: Queryable, tenantId: string, { afterId, limit }: { afterId: string | null; limit: number }): Promise<CreditTypeRow[]> {
  return tx.query<CreditTypeRow>(
    `SELECT id, name, created_at FROM credit_types
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3`,
    [tenantId, afterId, limit],
  );
}

// ---- billable metrics

export interface MetricRow {
  id: string;
  name: string;
  aggregation_type: 'COUNT' | 'SUM' | 'MAX' | 'UNIQUE' | 'LATEST';
  aggregation_key: string | null;
  event_type_filter: { in_values?: string[]; not_in_values?: string[] } | null;
  property_filters: Array<{ name: string; exists?: boolean; in_values?: string[]; not_in_values?: string[] }>;
  group_keys: string[][];
  custom_fields: Record<string, string>;
  created_at: Date;
  archived_at: Date | null;
}

export async function insertMetric(tx: Queryable, tenantId: string, row: MetricRow): Promise<void> {
  await tx.query(
    `INSERT INTO billable_metrics (tenant_id, id, name, aggregation_type, aggregation_key, event_type_filter, property_filters,
                                   group_keys, custom_fields, created_at, archived_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      tenantId,
      row.id,
      row.name,
      row.aggregation_type,
      row.aggregation_key,
      row.event_type_filter && JSON.stringify(row.event_type_filter),
      JSON.stringify(row.property_filters),
      JSON.stringify(row.group_keys),
      JSON.stringify(row.custom_fields),
      row.created_at,
      row.archived_at,
    ],
  );
}

export async function findMetric(tx: Queryable, tenantId: string, id: string): Promise<MetricRow | undefined> {
  const rows = await tx.query<MetricRow>('SELECT * FROM billable_metrics WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return rows[0];
}

export async function listMetrics(
  tx: Queryable,
  tenantId: string,
  { includeArchived, afterId, limit }: { includeArchived: boolean; afterId: string | null; limit: number },
): Promise<MetricRow[]> {
  return tx.query<MetricRow>(
    `SELECT * FROM billable_metrics
      WHERE tenant_id = $1 AND ($2 OR archived_at IS NULL) AND ($3::uuid IS NULL OR id > $3::uuid)
      ORDER BY id LIMIT $4`,
    [tenantId, includeArchived, afterId, limit],
  );
}

export async function archiveMetric(tx: Queryable, tenantId: string, id: string, at: Date): Promise<boolean> {
  const rows = await tx.query('UPDATE billable_metrics SET archived_at = $3 WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING 1', [
    tenantId,
    id,
    at,
  ]);
  return rows.length > 0;
}

// ---- products

export interface ProductRow {
  id: string;
  type: 'USAGE' | 'SUBSCRIPTION' | 'FIXED';
  name: string;
  billable_metric_id: string | null;
  pricing_group_key: string[] | null;
  presentation_group_key: string[] | null;
  tags: string[];
  custom_fields: Record<string, string>;
  created_at: Date;
  created_by: string;
  archived_at: Date | null;
}

/** NULL columns are fields the update left unchanged. */
export interface ProductUpdateRow {
  id: string;
  product_id: string;
  starting_at: Date;
  created_at: Date;
  created_by: string;
  name: string | null;
  billable_metric_id: string | null;
  pricing_group_key: string[] | null;
  presentation_group_key: string[] | null;
  tags: string[] | null;
}

export async function insertProduct(tx: Queryable, tenantId: string, row: ProductRow): Promise<void> {
  await tx.query(
    `INSERT INTO products (tenant_id, id, type, name, billable_metric_id, pricing_group_key, presentation_group_key, tags,
                           custom_fields, created_at, created_by, archived_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      tenantId,
      row.id,
      row.type,
      row.name,
      row.billable_metric_id,
      row.pricing_group_key,
      row.presentation_group_key,
      row.tags,
      JSON.stringify(row.custom_fields),
      row.created_at,
      row.created_by,
      row.archived_at,
    ],
  );
}

export async function insertProductUpdate(tx: Queryable, tenantId: string, row: ProductUpdateRow): Promise<void> {
  await tx.query(
    `INSERT INTO product_updates (tenant_id, id, product_id, starting_at, created_at, created_by, name, billable_metric_id,
                                  pricing_group_key, presentation_group_key, tags)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      tenantId,
      row.id,
      row.product_id,
      row.starting_at,
      row.created_at,
      row.created_by,
      row.name,
      row.billable_metric_id,
      row.pricing_group_key,
      row.presentation_group_key,
      row.tags,
    ],
  );
}

export async function findProducts(tx: Queryable, tenantId: string, ids: string[], { forUpdate = false } = {}): Promise<ProductRow[]> {
  return tx.query<ProductRow>(
    `SELECT * FROM products WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, ids],
  );
}

export async function findProductUpdates(tx: Queryable, tenantId: string, productIds: string[]): Promise<ProductUpdateRow[]> {
  if (productIds.length === 0) return [];
  return tx.query<ProductUpdateRow>(
    `SELECT id, product_id, starting_at, created_at, created_by, name, billable_metric_id, pricing_group_key, presentation_group_key, tags
       FROM product_updates WHERE tenant_id = $1 AND product_id = ANY($2::uuid[]) ORDER BY id`,
    [tenantId, productIds],
  );
}

export async function listProducts(
  tx: Queryable,
  tenantId: string,
  { archived, afterId, limit }: { archived: 'ARCHIVED' | 'NOT_ARCHIVED' | 'ALL'; afterId: string | null; limit: number },
): Promise<ProductRow[]> {
  return tx.query<ProductRow>(
    `SELECT * FROM products
      WHERE tenant_id = $1
        AND ($2 = 'ALL' OR ($2 = 'ARCHIVED') = (archived_at IS NOT NULL))
        AND ($3::uuid IS NULL OR id > $3::uuid)
      ORDER BY id LIMIT $4`,
    [tenantId, archived, afterId, limit],
  );
}

export async function archiveProduct(tx: Queryable, tenantId: string, id: string, at: Date): Promise<void> {
  await tx.query('UPDATE products SET archived_at = $3 WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', [tenantId, id, at]);
}

// ---- rate cards

export interface RateCardRow {
  id: string;
  name: string;
  description: string | null;
  fiat_credit_type_id: string;
  custom_fields: Record<string, string>;
  created_at: Date;
  created_by: string;
}

export interface ConversionRow {
  rate_card_id: string;
  custom_credit_type_id: string;
  custom_credit_type_name: string;
  /** numeric, as text */
  fiat_per_custom_credit: string;
}

export async function insertRateCard(tx: Queryable, tenantId: string, row: RateCardRow): Promise<void> {
  await tx.query(
    `INSERT INTO rate_cards (tenant_id, id, name, description, fiat_credit_type_id, custom_fields, created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [tenantId, row.id, row.name, row.description, row.fiat_credit_type_id, JSON.stringify(row.custom_fields), row.created_at, row.created_by],
  );
}

export async function findRateCards(tx: Queryable, tenantId: string, ids: string[], { forUpdate = false } = {}): Promise<RateCardRow[]> {
  return tx.query<RateCardRow>(
    `SELECT id, name, description, fiat_credit_type_id, custom_fields, created_at, created_by
       FROM rate_cards WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, ids],
  );
}

export async function listRateCards(tx: Queryable, tenantId: string, { afterId, limit }: { afterId: string | null; limit: number }): Promise<RateCardRow[]> {
  return tx.query<RateCardRow>(
    `SELECT id, name, description, fiat_credit_type_id, custom_fields, created_at, created_by
       FROM rate_cards WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3`,
    [tenantId, afterId, limit],
  );
}

export async function updateRateCard(tx: Queryable, tenantId: string, id: string, changes: { name?: string | undefined; description?: string | undefined }): Promise<void> {
  await tx.query(
    `UPDATE rate_cards SET name = COALESCE($3, name), description = COALESCE($4, description) WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, changes.name ?? null, changes.description ?? null],
  );
}

export async function insertConversions(
  tx: Queryable,
  tenantId: string,
  rateCardId: string,
  conversions: Array<{ customCreditTypeId: string; fiatPerCustomCredit: string }>,
  at: Date,
): Promise<void> {
  for (const conversion of conversions) {
    await tx.query(
      `INSERT INTO rate_card_credit_type_conversions (tenant_id, rate_card_id, custom_credit_type_id, fiat_per_custom_credit, created_at)
       VALUES ($1, $2, $3, $4::numeric, $5)`,
      [tenantId, rateCardId, conversion.customCreditTypeId, conversion.fiatPerCustomCredit, at],
    );
  }
}

export async function findConversions(tx: Queryable, tenantId: string, rateCardIds: string[]): Promise<ConversionRow[]> {
  if (rateCardIds.length === 0) return [];
  return tx.query<ConversionRow>(
    `SELECT c.rate_card_id, c.custom_credit_type_id, t.name AS custom_credit_type_name, c.fiat_per_custom_credit::text AS fiat_per_custom_credit
       FROM rate_card_credit_type_conversions c
       JOIN credit_types t ON t.tenant_id = c.tenant_id AND t.id = c.custom_credit_type_id
      WHERE c.tenant_id = $1 AND c.rate_card_id = ANY($2::uuid[])
      ORDER BY c.rate_card_id, c.created_at, c.custom_credit_type_id`,
    [tenantId, rateCardIds],
  );
}

// ---- rates

export interface RateRow {
  id: string;
  rate_card_id: string;
  product_id: string;
  starting_at: Date;
  ending_before: Date | null;
  entitled: boolean;
  rate_type: 'FLAT' | 'SUBSCRIPTION' | 'TIERED';
  /** numeric columns come back as text */
  price: string | null;
  credit_type_id: string;
  billing_frequency: 'MONTHLY' | 'QUARTERLY' | 'ANNUAL' | 'WEEKLY' | null;
  is_prorated: boolean | null;
  quantity: string | null;
  pricing_group_values: Record<string, string> | null;
  created_at: Date;
  tiers: Array<{ size: string | null; price: string }> | null;
}

export async function insertRate(tx: Queryable, tenantId: string, row: RateRow): Promise<void> {
  await tx.query(
    `INSERT INTO rates (tenant_id, id, rate_card_id, product_id, starting_at, ending_before, entitled, rate_type, price, credit_type_id,
                        billing_frequency, is_prorated, quantity, pricing_group_values, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::numeric, $10, $11, $12, $13::numeric, $14, $15)`,
    [
      tenantId,
      row.id,
      row.rate_card_id,
      row.product_id,
      row.starting_at,
      row.ending_before,
      row.entitled,
      row.rate_type,
      row.price,
      row.credit_type_id,
      row.billing_frequency,
      row.is_prorated,
      row.quantity,
      row.pricing_group_values && JSON.stringify(row.pricing_group_values),
      row.created_at,
    ],
  );
  if (row.tiers && row.tiers.length > 0) {
    await tx.query(
      `INSERT INTO rate_tiers (tenant_id, rate_id, position, size, price)
       SELECT $1, $2, t.position, t.size::numeric, t.price::numeric
         FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS t (size, price, position)`,
      [tenantId, row.id, row.tiers.map((tier) => tier.size), row.tiers.map((tier) => tier.price)],
    );
  }
}

/**
 * The rates of a card in force at `at`: for each product, pricing group values and billing
 * frequency, the covering rate with the latest `starting_at` (then the latest added).
 */
/** A rate's columns with its tiers in order, from rows aliased `r`. */
const RATE_SELECT = `SELECT r.id, r.rate_card_id, r.product_id, r.starting_at, r.ending_before, r.entitled, r.rate_type, r.price::text AS price,
            r.credit_type_id, r.billing_frequency, r.is_prorated, r.quantity::text AS quantity, r.pricing_group_values, r.created_at,
            (SELECT json_agg(json_build_object('size', t.size::text, 'price', t.price::text) ORDER BY t.position)
               FROM rate_tiers t WHERE t.tenant_id = r.tenant_id AND t.rate_id = r.id) AS tiers`;

export async function findRatesInForce(
  tx: Queryable,
  tenantId: string,
  { rateCardId, at, productIds }: { rateCardId: string; at: Date; productIds: string[] | null },
): Promise<RateRow[]> {
  return tx.query<RateRow>(
    `${RATE_SELECT}
       FROM (SELECT DISTINCT ON (product_id, pricing_group_values, billing_frequency) *
               FROM rates
              WHERE tenant_id = $1 AND rate_card_id = $2
                AND starting_at <= $3 AND (ending_before IS NULL OR ending_before > $3)
                AND ($4::uuid[] IS NULL OR product_id = ANY($4::uuid[]))
              ORDER BY product_id, pricing_group_values, billing_frequency, starting_at DESC, id DESC) r
      ORDER BY r.id`,
    [tenantId, rateCardId, at, productIds],
  );
}

/** Every rate of a card in force at some instant of `[from, to)`, ordered by id (for rating a period whose prices change). */
export async function findRatesDuring(
  tx: Queryable,
  tenantId: string,
  { rateCardId, from, to, productIds }: { rateCardId: string; from: Date; to: Date; productIds: string[] | null },
): Promise<RateRow[]> {
  return tx.query<RateRow>(
    `${RATE_SELECT}
       FROM rates r
      WHERE r.tenant_id = $1 AND r.rate_card_id = $2
        AND r.starting_at < $4 AND (r.ending_before IS NULL OR r.ending_before > $3)
        AND ($5::uuid[] IS NULL OR r.product_id = ANY($5::uuid[]))
      ORDER BY r.id`,
    [tenantId, rateCardId, from, to, productIds],
  );
}

export async function findMetrics(tx: Queryable, tenantId: string, ids: string[]): Promise<MetricRow[]> {
  return tx.query<MetricRow>('SELECT * FROM billable_metrics WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id', [tenantId, ids]);
}
