import { inTransaction, type ServiceContext } from '../../lib/context.js';
import { isUniqueViolation, type Queryable } from '../../lib/db/database.js';
import { Conflict, Invalid, NotFound } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { encodeCursor, fetchPage } from '../../lib/pagination.js';
import * as billingProviders from '../billingProviders/service.js';
import * as repo from './repo.js';

export type Customer = repo.CustomerRow;

export interface NewCustomer {
  name: string;
  ingest_aliases?: string[] | undefined;
  custom_fields?: Record<string, string> | undefined;
  external_id?: string | undefined;
  customer_billing_provider_configurations?: billingProviders.CustomerBillingConfigurationInput[] | undefined;
}

/**
 * Creates a customer. `external_id` (Metronome's older name for an alias) becomes the first
 * ingest alias; repeated aliases are kept once. An alias another customer of the tenant holds
 * (archived customers included) is a 409 naming it.
 */
export async function createCustomer(ctx: ServiceContext, { tenantId, customer }: { tenantId: string; customer: NewCustomer }): Promise<Customer> {
  const now = ctx.clock.now();
  const aliases = distinct([...(customer.external_id ? [customer.external_id] : []), ...(customer.ingest_aliases ?? [])]);
  const id = newId();
  return withAliasConflicts(async () =>
    inTransaction(ctx, async (txContext) => {
      const tx = txContext.db;
      await assertAliasesFree(tx, tenantId, aliases, null, 'ingest_aliases');
      await repo.insertCustomer(tx, tenantId, {
        id,
        name: customer.name,
        custom_fields: customer.custom_fields ?? {},
        created_at: now,
        updated_at: now,
        archived_at: null,
      });
      await repo.replaceAliases(tx, tenantId, id, aliases);
      if (customer.customer_billing_provider_configurations?.length) {
        await billingProviders.addCustomerBillingConfigurations(txContext, {
          tenantId,
          customerId: id,
          configurations: customer.customer_billing_provider_configurations,
          field: 'customer_billing_provider_configurations',
        });
      }
      return (await repo.findCustomer(tx, tenantId, id))!;
    }),
  );
}

/** The customer, archived or not; another tenant's customer, or an id that is no customer's, is a 404. */
/** Customers seen to exist, per tenant and id: a customer is never deleted (only archived), so it exists for good. */
const knownCustomers = new Set<string>();
const MAX_KNOWN_CUSTOMERS = 100_000;

/** Throws NotFound unless the tenant has the customer (archived or not): what a read that only names the customer checks, once per process. */
export async function requireCustomer(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<void> {
  const key = `${tenantId.toLowerCase()} ${customerId.toLowerCase()}`;
  if (knownCustomers.has(key)) return;
  await getCustomer(ctx, { tenantId, customerId });
  // Only from committed state: a customer created in a caller's transaction may yet roll back.
  if (ctx.db.transactional) return;
  if (knownCustomers.size >= MAX_KNOWN_CUSTOMERS) knownCustomers.clear();
  knownCustomers.add(key);
}

export async function getCustomer({ db }: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<Customer> {
  const customer = isUuid(customerId) ? await repo.findCustomer(db, tenantId, customerId) : undefined;
  if (!customer) throw new NotFound(`No customer with id ${customerId}`);
  return customer;
}

export interface CustomerQuery {
  limit: number;
  nextPage?: string | undefined;
  onlyArchived?: boolean | undefined;
  ingestAlias?: string | undefined;
  customerIds?: string[] | undefined;
  /** Text found in the name, the id or an ingest alias, ignoring case. */
  search?: string | undefined;
}

/** A page of live customers (or only archived ones), oldest first. */
export async function listCustomers(
  { db }: ServiceContext,
  { tenantId, query }: { tenantId: string; query: CustomerQuery },
): Promise<{ customers: Customer[]; nextPage: string | null }> {
  const page = await fetchPage(query, (window) =>
    repo.listCustomers(db, tenantId, {
      ...window,
      archived: query.onlyArchived ?? false,
      ingestAlias: query.ingestAlias ?? null,
      customerIds: query.customerIds ?? null,
      searchPattern: query.search ? `%${query.search.replace(/[\\%_]/g, (character) => `\\${character}`)}%` : null,
    }),
  );
  return { customers: page.rows, nextPage: page.nextPage };
}

/** The ids of the tenant's live customers, oldest first, after `afterId` when given, read 100 at a time. */
export async function* liveCustomerIds(ctx: ServiceContext, { tenantId, afterId = null }: { tenantId: string; afterId?: string | null }): AsyncGenerator<string> {
  let after = afterId;
  for (;;) {
    const page = await listCustomers(ctx, { tenantId, query: { limit: 100, nextPage: after ? encodeCursor(after) : undefined } });
    for (const customer of page.customers) yield customer.id;
    if (!page.nextPage || page.customers.length === 0) return;
    after = page.customers[page.customers.length - 1]!.id;
  }
}

/**
 * Archives a customer: it leaves the default list but stays retrievable, and keeps its aliases
 * (as Metronome does: to reuse an alias, remove it before archiving). Archiving an archived
 * customer changes nothing.
 */
export async function archiveCustomer({ db, clock }: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<void> {
  await db.transaction(async (tx) => {
    await lockCustomer(tx, tenantId, customerId);
    await repo.archiveCustomer(tx, tenantId, customerId, clock.now());
  });
}

/** Replaces all of a live customer's aliases. */
export async function setIngestAliases(
  { db, clock }: ServiceContext,
  { tenantId, customerId, aliases }: { tenantId: string; customerId: string; aliases: string[] },
): Promise<void> {
  const wanted = distinct(aliases);
  await withAliasConflicts(() =>
    db.transaction(async (tx) => {
      const customer = await lockCustomer(tx, tenantId, customerId);
      if (customer.archived_at) throw new Invalid('customer_id', `customer ${customerId} is archived; its aliases cannot change`);
      await assertAliasesFree(tx, tenantId, wanted, customerId, 'ingest_aliases');
      await repo.replaceAliases(tx, tenantId, customerId, wanted);
      await repo.touch(tx, tenantId, customerId, clock.now());
    }),
  );
}

export async function setName(
  { db, clock }: ServiceContext,
  { tenantId, customerId, name }: { tenantId: string; customerId: string; name: string },
): Promise<Customer> {
  return db.transaction(async (tx) => {
    await lockCustomer(tx, tenantId, customerId);
    await repo.setName(tx, tenantId, customerId, name, clock.now());
    return (await repo.findCustomer(tx, tenantId, customerId))!;
  });
}

/**
 * `v1.customers.updateConfig`: `leave_stripe_invoices_in_draft` true leaves the customer's
 * invoices pushed to Stripe in draft there; false finalises them; null unsets it (finalised, the
 * server's default). A field left out keeps its value.
 */
export async function updateConfig(
  { db, clock }: ServiceContext,
  { tenantId, customerId, config }: { tenantId: string; customerId: string; config: { leave_stripe_invoices_in_draft?: boolean | null | undefined } },
): Promise<void> {
  await db.transaction(async (tx) => {
    await lockCustomer(tx, tenantId, customerId);
    if (config.leave_stripe_invoices_in_draft !== undefined) await repo.setLeaveStripeInvoicesInDraft(tx, tenantId, customerId, config.leave_stripe_invoices_in_draft, clock.now());
  });
}

async function lockCustomer(tx: Queryable, tenantId: string, customerId: string): Promise<Customer> {
  const customer = isUuid(customerId) ? await repo.findCustomer(tx, tenantId, customerId, { forUpdate: true }) : undefined;
  if (!customer) throw new NotFound(`No customer with id ${customerId}`);
  return customer;
}

async function assertAliasesFree(tx: Queryable, tenantId: string, aliases: string[], exceptCustomerId: string | null, field: string) {
  if (aliases.length === 0) return;
  const taken = await repo.findAliasOwners(tx, tenantId, aliases, exceptCustomerId);
  if (taken.length > 0) {
    const list = taken.map((row) => `"${row.alias}" (customer ${row.customer_id})`).join(', ');
    throw new Conflict(`${field}: already used by another customer: ${list}`);
  }
}

/** The unique index is the last word when two requests claim one alias at the same moment. */
async function withAliasConflicts<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error, 'customer_ingest_aliases_alias')) {
      throw new Conflict('ingest_aliases: an alias was claimed by another customer at the same moment');
    }
    throw error;
  }
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}
