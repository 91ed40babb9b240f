import { announceCatalogChange, inTransaction, memoized, type ServiceContext } from '../../lib/context.js';
import { isUniqueViolation, type Queryable } from '../../lib/db/database.js';
import { Invalid, NotFound, Problems } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { Decimal, toNumericText } from '../../lib/money.js';
import { fetchPage } from '../../lib/pagination.js';
import { rateProblems, type BillingFrequency, type RateType, type Tier } from './compute/rateRules.js';
import { findProductsAt, productsAt, type Product } from './productService.js';
import * as repo from './repo.js';
import { findCreditTypesById, USD_CREDIT_TYPE_ID, type CreditType } from './creditTypeService.js';

export type { BillingFrequency, RateType, Tier } from './compute/rateRules.js';
export { isSeatRate, tierProblems } from './compute/rateRules.js';

export interface CreditTypeConversion {
  customCreditTypeId: string;
  /** How many units of the card's fiat credit type one custom credit is worth: 100 means 1 credit = 100 cents. */
  fiatPerCustomCredit: Decimal;
}

export interface RateCard {
  id: string;
  name: string;
  description: string | null;
  fiatCreditTypeId: string;
  creditTypeConversions: CreditTypeConversion[];
  customFields: Record<string, string>;
  createdAt: Date;
  createdBy: string;
}

/** A rate card with the names of the credit types it mentions, for the API. */
export interface RateCardDetail extends RateCard {
  creditTypeNames: Map<string, string>;
}

export interface Rate {
  id: string;
  productId: string;
  startingAt: Date;
  endingBefore: Date | null;
  entitled: boolean;
  rateType: RateType;
  /** Set for FLAT and SUBSCRIPTION rates; null for TIERED. */
  price: Decimal | null;
  /** Set for TIERED rates: graduated tiers, the last without size. */
  tiers: Tier[] | null;
  creditTypeId: string;
  /** Set for seat rates only (`isSeatRate`: the rates of SUBSCRIPTION products). */
  billingFrequency: BillingFrequency | null;
  /** True for seat rates (Metronome requires it); false for others. */
  isProrated: boolean;
  /** The default quantity of a seat rate, when given. */
  quantity: Decimal | null;
  pricingGroupValues: Record<string, string> | null;
}

export interface ConversionInput {
  custom_credit_type_id: string;
  fiat_per_custom_credit: Decimal;
}

export interface NewRateCard {
  name: string;
  description?: string | undefined;
  fiat_credit_type_id?: string | undefined;
  credit_type_conversions?: ConversionInput[] | undefined;
  custom_fields?: Record<string, string> | undefined;
}

export interface RateInput {
  product_id: string;
  entitled: boolean;
  rate_type: RateType;
  starting_at: Date;
  ending_before?: Date | undefined;
  billing_frequency?: BillingFrequency | undefined;
  credit_type_id?: string | undefined;
  is_prorated?: boolean | undefined;
  price?: Decimal | undefined;
  quantity?: Decimal | undefined;
  tiers?: Array<{ size?: Decimal | undefined; price: Decimal }> | undefined;
  pricing_group_values?: Record<string, string> | undefined;
}

export interface RateSelector {
  product_id?: string | undefined;
  product_tags?: string[] | undefined;
  pricing_group_values?: Record<string, string> | undefined;
  partial_pricing_group_values?: Record<string, string> | undefined;
  billing_frequency?: BillingFrequency | undefined;
}

// ---- for other modules

/** The tenant's rate card, or undefined when the id is none of its cards. */
export async function findRateCard(ctx: ServiceContext, { tenantId, rateCardId }: { tenantId: string; rateCardId: string }): Promise<RateCard | undefined> {
  if (!isUuid(rateCardId)) return undefined;
  return memoized(ctx, `rate-card ${tenantId} ${rateCardId}`, async () => (await loadRateCards(ctx.db, tenantId, [rateCardId]))[0]);
}

/**
 * The rates of a card in force at `at` (optionally only for `productIds`), ordered by id. Where
 * several rates cover `at` for the same product, pricing group values and billing frequency, the
 * one with the latest `starting_at` wins (then the latest added): adding a rate from March 1
 * changes the price from March 1 without editing the earlier rate. An unknown card has no rates.
 */
export async function ratesInForce(
  { db }: ServiceContext,
  { tenantId, rateCardId, at, productIds }: { tenantId: string; rateCardId: string; at: Date; productIds?: string[] },
): Promise<Rate[]> {
  if (!isUuid(rateCardId)) return [];
  const rows = await repo.findRatesInForce(db, tenantId, { rateCardId, at, productIds: productIds ? productIds.filter(isUuid) : null });
  return rows.map(toRate);
}

/** Every rate of a card in force at some instant of `[from, to)`, ordered by id. An unknown card has none. */
export async function ratesDuring(
  ctx: ServiceContext,
  { tenantId, rateCardId, from, to, productIds }: { tenantId: string; rateCardId: string; from: Date; to: Date; productIds?: string[] },
): Promise<Rate[]> {
  if (!isUuid(rateCardId)) return [];
  const ids = productIds ? productIds.filter(isUuid) : null;
  return memoized(ctx, `rates ${tenantId} ${rateCardId} ${from.toISOString()} ${to.toISOString()} ${ids?.join(',') ?? '*'}`, async () =>
    (await repo.findRatesDuring(ctx.db, tenantId, { rateCardId, from, to, productIds: ids })).map(toRate),
  );
}

function toRate(row: repo.RateRow): Rate {
  return {
    id: row.id,
    productId: row.product_id,
    startingAt: row.starting_at,
    endingBefore: row.ending_before,
    entitled: row.entitled,
    rateType: row.rate_type,
    price: row.price === null ? null : new Decimal(row.price),
    tiers: row.tiers && row.tiers.map((tier) => ({ size: tier.size === null ? null : new Decimal(tier.size), price: new Decimal(tier.price) })),
    creditTypeId: row.credit_type_id,
    billingFrequency: row.billing_frequency,
    isProrated: row.is_prorated ?? false,
    quantity: row.quantity === null ? null : new Decimal(row.quantity),
    pricingGroupValues: row.pricing_group_values,
  };
}

async function loadRateCards(tx: Queryable, tenantId: string, ids: string[], options: { forUpdate?: boolean } = {}): Promise<RateCardDetail[]> {
  const rows = await repo.findRateCards(tx, tenantId, ids, options);
  return withConversions(tx, tenantId, rows);
}

async function withConversions(tx: Queryable, tenantId: string, rows: repo.RateCardRow[]): Promise<RateCardDetail[]> {
  const conversions = await repo.findConversions(
    tx,
    tenantId,
    rows.map((row) => row.id),
  );
  const fiat = await findCreditTypesById(tx, tenantId, [...new Set(rows.map((row) => row.fiat_credit_type_id))]);
  return rows.map((row) => {
    const own = conversions.filter((conversion) => conversion.rate_card_id === row.id);
    const names = new Map(own.map((conversion) => [conversion.custom_credit_type_id, conversion.custom_credit_type_name]));
    names.set(row.fiat_credit_type_id, fiat.get(row.fiat_credit_type_id)?.name ?? row.fiat_credit_type_id);
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      fiatCreditTypeId: row.fiat_credit_type_id,
      creditTypeConversions: own.map((conversion) => ({
        customCreditTypeId: conversion.custom_credit_type_id,
        fiatPerCustomCredit: new Decimal(conversion.fiat_per_custom_credit),
      })),
      customFields: row.custom_fields,
      createdAt: row.created_at,
      createdBy: row.created_by,
      creditTypeNames: names,
    };
  });
}

// ---- rate cards

/**
 * Conversions name custom pricing units of the tenant, once each, at a positive rate; `existing`
 * are the units the card already converts (a conversion is never modified). Each problem goes to `problems`.
 */
async function checkConversions(
  tx: Queryable,
  { tenantId, conversions, field, existing, problems }: { tenantId: string; conversions: ConversionInput[]; field: string; existing: string[]; problems: Problems },
): Promise<void> {
  const types = await findCreditTypesById(
    tx,
    tenantId,
    conversions.map((conversion) => conversion.custom_credit_type_id),
  );
  const seen = new Set(existing);
  conversions.forEach((conversion, index) => {
    const id = conversion.custom_credit_type_id;
    const type = types.get(id);
    const at = `${field}.${index}.custom_credit_type_id`;
    if (problems.check(type !== undefined, at, `no pricing unit with id ${id}`) && problems.check(!type!.isCurrency, at, `${type!.name} is fiat; conversions are for custom pricing units`)) {
      problems.check(!seen.has(id), at, `the rate card already converts ${type!.name}; a conversion cannot be modified`);
      seen.add(id);
    }
    problems.check(conversion.fiat_per_custom_credit.gt(0), `${field}.${index}.fiat_per_custom_credit`, 'must be greater than 0');
  });
}

/**
 * Creates a rate card. Its fiat credit type defaults to USD (cents), the only fiat unit; rates in
 * a custom unit need a conversion on the card (`fiat_per_custom_credit`, e.g. 1 AI credit = 100 cents).
 */
export async function createRateCard(
  { db, clock }: ServiceContext,
  { tenantId, createdBy, rateCard }: { tenantId: string; createdBy: string; rateCard: NewRateCard },
): Promise<RateCardDetail> {
  return db.transaction(async (tx) => {
    const fiatId = rateCard.fiat_credit_type_id ?? USD_CREDIT_TYPE_ID;
    const fiat = (await findCreditTypesById(tx, tenantId, [fiatId])).get(fiatId);
    const problems = new Problems();
    if (problems.check(fiat !== undefined, 'fiat_credit_type_id', `no pricing unit with id ${fiatId}`)) {
      problems.check(fiat!.isCurrency, 'fiat_credit_type_id', `${fiat!.name} is a custom pricing unit, not fiat`);
    }
    const conversions = rateCard.credit_type_conversions ?? [];
    await checkConversions(tx, { tenantId, conversions, field: 'credit_type_conversions', existing: [], problems });
    problems.throwIfAny();
    const row: repo.RateCardRow = {
      id: newId(),
      name: rateCard.name,
      description: rateCard.description ?? null,
      fiat_credit_type_id: fiatId,
      custom_fields: rateCard.custom_fields ?? {},
      created_at: clock.now(),
      created_by: createdBy,
    };
    await repo.insertRateCard(tx, tenantId, row);
    await repo.insertConversions(tx, tenantId, row.id, conversions.map(conversionText), row.created_at);
    return (await loadRateCards(tx, tenantId, [row.id]))[0]!;
  });
}

export async function getRateCard({ db }: ServiceContext, { tenantId, rateCardId }: { tenantId: string; rateCardId: string }): Promise<RateCardDetail> {
  const [found] = isUuid(rateCardId) ? await loadRateCards(db, tenantId, [rateCardId]) : [];
  if (!found) throw new NotFound(`No rate card with id ${rateCardId}`);
  return found;
}

export async function listRateCards(
  { db }: ServiceContext,
  { tenantId, query }: { tenantId: string; query: { limit: number; nextPage?: string | undefined } },
): Promise<{ rateCards: RateCardDetail[]; nextPage: string | null }> {
  const page = await fetchPage(query, (window) => repo.listRateCards(db, tenantId, window));
  return { rateCards: await withConversions(db, tenantId, page.rows), nextPage: page.nextPage };
}

/** Renames or re-describes a card, and adds conversions for units it does not convert yet. */
export async function updateRateCard(
  ctx: ServiceContext,
  {
    tenantId,
    rateCardId,
    changes,
  }: { tenantId: string; rateCardId: string; changes: { name?: string | undefined; description?: string | undefined; add_credit_type_conversions?: ConversionInput[] | undefined } },
): Promise<void> {
  const { clock } = ctx;
  try {
    // The catalog change is announced in the same transaction: other processes learn of it when it commits.
    await inTransaction(ctx, async (txContext) => {
      const tx = txContext.db;
      const [card] = isUuid(rateCardId) ? await loadRateCards(tx, tenantId, [rateCardId], { forUpdate: true }) : [];
      if (!card) throw new NotFound(`No rate card with id ${rateCardId}`);
      const added = changes.add_credit_type_conversions ?? [];
      const problems = new Problems();
      await checkConversions(tx, {
        tenantId,
        conversions: added,
        field: 'add_credit_type_conversions',
        existing: card.creditTypeConversions.map((conversion) => conversion.customCreditTypeId),
        problems,
      });
      problems.throwIfAny();
      await repo.updateRateCard(tx, tenantId, rateCardId, changes);
      await repo.insertConversions(tx, tenantId, rateCardId, added.map(conversionText), clock.now());
      await announceCatalogChange(txContext, { tenantId });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new Invalid('add_credit_type_conversions', 'a conversion for this pricing unit was added at the same moment');
    throw error;
  }
}

function conversionText(conversion: ConversionInput) {
  return { customCreditTypeId: conversion.custom_credit_type_id, fiatPerCustomCredit: toNumericText(conversion.fiat_per_custom_credit) };
}

// ---- rates

/**
 * Adds rates to a card, all or none. `fieldPrefix` locates each rate in the request
 * (`rates.3.` for addRates) so that a 400 names the offending field exactly, every one of every
 * rate at once. Rates are checked against the product's fields in force now (type, archived,
 * pricing group key); a rate whose product is refused is not checked further.
 */
export async function addRates(
  ctx: ServiceContext,
  { tenantId, rateCardId, rates, fieldPrefix }: { tenantId: string; rateCardId: string; rates: RateInput[]; fieldPrefix: (index: number) => string },
): Promise<Rate[]> {
  const { clock } = ctx;
  return inTransaction(ctx, async (txContext) => {
    const tx = txContext.db;
    const [card] = isUuid(rateCardId) ? await loadRateCards(tx, tenantId, [rateCardId]) : [];
    if (!card) throw new NotFound(`No rate card with id ${rateCardId}`);
    const now = clock.now();
    const products = await productsAt(tx, tenantId, rates.map((rate) => rate.product_id), now);
    const creditTypes = await findCreditTypesById(tx, tenantId, [...new Set(rates.map((rate) => rate.credit_type_id ?? USD_CREDIT_TYPE_ID))]);
    const convertible = new Set([card.fiatCreditTypeId, ...card.creditTypeConversions.map((conversion) => conversion.customCreditTypeId)]);

    const problems = new Problems();
    const rows = rates.map((rate, index) => {
      const prefix = fieldPrefix(index);
      const product = products.get(rate.product_id);
      const productFits = checkProduct(problems, product, rate.product_id, `${prefix}product_id`);
      const creditTypeId = rate.credit_type_id ?? USD_CREDIT_TYPE_ID;
      checkCreditType(problems, creditTypes.get(creditTypeId), creditTypeId, convertible, `${prefix}credit_type_id`);
      const tiers = rate.tiers ? rate.tiers.map((tier) => ({ size: tier.size ?? null, price: tier.price })) : null;
      if (!productFits) return undefined;
      problems.addAll(
        rateProblems(
          {
            productType: product!.type,
            productPricingGroupKey: product!.pricingGroupKey,
            rateType: rate.rate_type,
            startingAt: rate.starting_at,
            endingBefore: rate.ending_before ?? null,
            price: rate.price ?? null,
            tiers,
            billingFrequency: rate.billing_frequency ?? null,
            isProrated: rate.is_prorated ?? null,
            quantity: rate.quantity ?? null,
            pricingGroupValues: rate.pricing_group_values ?? null,
          },
          prefix,
        ),
      );
      const subscription = product!.type === 'SUBSCRIPTION';
      const row: repo.RateRow = {
        id: newId(),
        rate_card_id: rateCardId,
        product_id: rate.product_id,
        starting_at: rate.starting_at,
        ending_before: rate.ending_before ?? null,
        entitled: rate.entitled,
        rate_type: rate.rate_type,
        price: rate.price ? toNumericText(rate.price) : null,
        credit_type_id: creditTypeId,
        billing_frequency: rate.billing_frequency ?? null,
        is_prorated: subscription ? true : null,
        quantity: rate.quantity ? toNumericText(rate.quantity) : null,
        pricing_group_values: rate.pricing_group_values ?? null,
        created_at: now,
        tiers: tiers && tiers.map((tier) => ({ size: tier.size && toNumericText(tier.size), price: toNumericText(tier.price) })),
      };
      return row;
    });
    problems.throwIfAny();
    const checked = rows.filter((row) => row !== undefined);
    for (const row of checked) await repo.insertRate(tx, tenantId, row);
    // Announced in the same transaction: other processes learn of the new rates when they commit.
    await announceCatalogChange(txContext, { tenantId });
    return checked.map(toRate);
  });
}

/** Whether the rate's product exists and is live; otherwise a problem naming `field`. */
function checkProduct(problems: Problems, product: Product | undefined, productId: string, field: string): product is Product {
  return problems.check(product !== undefined, field, `no product with id ${productId}`) && problems.check(!product!.archivedAt, field, `product ${productId} is archived; archived products take no new rates`);
}

function checkCreditType(problems: Problems, type: CreditType | undefined, id: string, convertible: Set<string>, field: string): void {
  if (!problems.check(type !== undefined, field, `no pricing unit with id ${id}`)) return;
  problems.check(convertible.has(id), field, () =>
    type!.isCurrency ? `${type!.name} is not the rate card's fiat credit type` : `the rate card has no conversion for ${type!.name}; add one with add_credit_type_conversions`,
  );
}

export interface RateListing {
  rate: Rate;
  product: Product;
}

/**
 * getRates: the card's rates in force at `at` that match any selector (all rates when there are
 * none), with their products, ordered by rate id and paged. Within a selector every condition
 * must hold: `product_id`; `product_tags` (any of them); `pricing_group_values` (exactly these);
 * `partial_pricing_group_values` (at least these); `billing_frequency`.
 */
export async function listRates(
  ctx: ServiceContext,
  {
    tenantId,
    rateCardId,
    at,
    selectors,
    query,
  }: { tenantId: string; rateCardId: string; at: Date; selectors: RateSelector[]; query: { limit: number; nextPage?: string | undefined } },
): Promise<{ rates: RateListing[]; nextPage: string | null }> {
  await getRateCard(ctx, { tenantId, rateCardId });
  const rates = await ratesInForce(ctx, { tenantId, rateCardId, at });
  const products = await findProductsAt(ctx, { tenantId, productIds: [...new Set(rates.map((rate) => rate.productId))], at: ctx.clock.now() });
  const listed = rates
    .map((rate) => ({ rate, product: products.get(rate.productId)! }))
    .filter((listing) => selectors.length === 0 || selectors.some((selector) => matches(selector, listing)));
  const page = await fetchPage(query, async ({ afterId, limit }) =>
    listed
      .filter((listing) => afterId === null || listing.rate.id > afterId)
      .slice(0, limit)
      .map((listing) => ({ ...listing, id: listing.rate.id })),
  );
  return { rates: page.rows, nextPage: page.nextPage };
}

function matches(selector: RateSelector, { rate, product }: RateListing): boolean {
  if (selector.product_id !== undefined && selector.product_id !== rate.productId) return false;
  if (selector.product_tags !== undefined && !selector.product_tags.some((tag) => product.tags.includes(tag))) return false;
  if (selector.billing_frequency !== undefined && selector.billing_frequency !== rate.billingFrequency) return false;
  const values = rate.pricingGroupValues ?? {};
  if (selector.pricing_group_values !== undefined) {
    const wanted = Object.entries(selector.pricing_group_values);
    if (wanted.length !== Object.keys(values).length || !wanted.every(([key, value]) => values[key] === value)) return false;
  }
  if (selector.partial_pricing_group_values !== undefined) {
    if (!Object.entries(selector.partial_pricing_group_values).every(([key, value]) => values[key] === value)) return false;
  }
  return true;
}
