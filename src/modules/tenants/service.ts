import { createHash, randomBytes } from 'node:crypto';
import { announceCatalogChange, inTransaction, type ServiceContext } from '../../lib/context.js';
import type { Auth } from '../../http/types.js';
import type { Queryable } from '../../lib/db/database.js';
import { Conflict, Invalid, NotFound } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { HOUR_MS } from '../../lib/time.js';
import { fetchPage } from '../../lib/pagination.js';
import * as repo from './repo.js';

export const DEFAULT_TENANT = 'default';

/** Tenant names: 1–100 letters, digits, `.`, `_` or `-`, starting with a letter or digit (`acme`, `acme-staging`). */
export const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface CreatedApiKey {
  id: string;
  name: string;
  key_prefix: string;
  /** The key itself; Allot keeps only its hash, so this is the one chance to see it. */
  key: string;
  created_at: Date;
}

const KEY_PREFIX = 'allot_';

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Finds the tenant by name, creating it when it does not exist yet (safe under concurrency);
 * `created` tells which. A name outside `TENANT_NAME` is refused.
 */
export async function ensureTenant({ db, clock }: ServiceContext, name: string): Promise<{ tenant: repo.TenantRow; created: boolean }> {
  if (!TENANT_NAME.test(name)) {
    throw new Invalid('tenant', `"${name}" is not a tenant name: use 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  return db.transaction(async (tx) => {
    const inserted = await repo.insertTenant(tx, { id: newId(), name, created_at: clock.now() });
    return inserted ? { tenant: inserted, created: true } : { tenant: (await repo.findTenantByName(tx, name))!, created: false };
  });
}

async function insertNewKey(tx: Queryable, clock: ServiceContext['clock'], tenantId: string, name: string): Promise<CreatedApiKey> {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const row = { tenant_id: tenantId, id: newId(), name, key_prefix: key.slice(0, 12), created_at: clock.now(), revoked_at: null };
  await repo.insertApiKey(tx, { ...row, key_hash: hashKey(key) });
  return { id: row.id, name, key_prefix: row.key_prefix, key, created_at: row.created_at };
}

export async function createApiKey(
  { db, clock }: ServiceContext,
  { tenantId, name }: { tenantId: string; name: string },
): Promise<CreatedApiKey> {
  return db.transaction((tx) => insertNewKey(tx, clock, tenantId, name));
}

/**
 * On first start with an empty database: creates the `default` tenant and a key for it, and
 * returns the key so that it can be printed. Returns undefined when any tenant already exists
 * (or another process created `default` at the same moment).
 */
export async function bootstrapDefaultTenant({ db, clock }: ServiceContext): Promise<CreatedApiKey | undefined> {
  return db.transaction(async (tx) => {
    if (await repo.anyTenantExists(tx)) return undefined;
    const tenant = await repo.insertTenant(tx, { id: newId(), name: DEFAULT_TENANT, created_at: clock.now() });
    if (!tenant) return undefined;
    return insertNewKey(tx, clock, tenant.id, 'created at first start');
  });
}

/** The tenant an API key acts for, or undefined for an unknown or revoked key. */
export async function authenticate({ db }: ServiceContext, key: string): Promise<Auth | undefined> {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const found = await repo.findLiveKeyByHash(db, hashKey(key));
  return found && { tenantId: found.tenant_id, tenantName: found.tenant_name, apiKeyId: found.key_id };
}

/** A page of the tenant's keys, oldest first; the keys themselves are never listed (only their prefix). */
export async function listApiKeys(
  { db }: ServiceContext,
  { tenantId, limit, nextPage }: { tenantId: string; limit: number; nextPage?: string | undefined },
): Promise<{ keys: repo.ApiKeyRow[]; nextPage: string | null }> {
  const page = await fetchPage({ limit, nextPage }, (window) => repo.listApiKeys(db, tenantId, window));
  return { keys: page.rows, nextPage: page.nextPage };
}

/**
 * Revokes one of the tenant's keys; the key stops working with the next request. The tenant's
 * last live key cannot be revoked (409): that would lock the tenant out of its own data.
 */
export async function revokeApiKey({ db, clock }: ServiceContext, { tenantId, id }: { tenantId: string; id: string }): Promise<repo.ApiKeyRow> {
  if (!isUuid(id)) throw new NotFound(`No live API key with id ${id}`);
  return db.transaction(async (tx) => {
    const liveKeys = await repo.countLiveKeys(tx, tenantId);
    const revoked = await repo.revokeApiKey(tx, tenantId, id, clock.now());
    if (!revoked) throw new NotFound(`No live API key with id ${id}`);
    if (liveKeys <= 1) throw new Conflict(`API key ${id} is the tenant's last live key; create another before revoking it`);
    return revoked;
  });
}

/** The grace period of a tenant that set none and of a server started without `ALLOT_INVOICE_GRACE_HOURS`. */
export const DEFAULT_INVOICE_GRACE_PERIOD_HOURS = 24;
/** The longest grace period a tenant may set: 31 days. */
export const MAX_INVOICE_GRACE_PERIOD_HOURS = 744;

export interface TenantSettings {
  /** How long an ended period's invoice stays a draft, counting late usage, before period close finalises it. */
  invoiceGracePeriodHours: number;
  /** Whether the tenant set the grace period itself (false: the server's default applies). */
  invoiceGracePeriodSet: boolean;
}

/** The settings of each of `tenantIds`: what the tenant stored, else the server's defaults (`ctx.invoiceGracePeriodHours`). */
export async function tenantSettings(ctx: ServiceContext, tenantIds: readonly string[]): Promise<Map<string, TenantSettings>> {
  const fallback = ctx.invoiceGracePeriodHours ?? DEFAULT_INVOICE_GRACE_PERIOD_HOURS;
  const stored = new Map((await repo.settingsOf(ctx.db, [...new Set(tenantIds)])).map((row) => [row.tenant_id, row]));
  return new Map(
    tenantIds.map((tenantId) => {
      const hours = stored.get(tenantId)?.invoice_grace_period_hours ?? null;
      return [tenantId, { invoiceGracePeriodHours: hours ?? fallback, invoiceGracePeriodSet: hours !== null }];
    }),
  );
}

/**
 * The latest end a period may have to be past its grace period at `now`: periods ending after it
 * are still drafts (late usage counts in them); those ending at or before it are finalised.
 */
export function graceCutoff(now: Date, { invoiceGracePeriodHours }: Pick<TenantSettings, 'invoiceGracePeriodHours'>): Date {
  return new Date(now.getTime() - invoiceGracePeriodHours * HOUR_MS);
}

/** One tenant's settings (`tenantSettings`). */
export async function settingsOfTenant(ctx: ServiceContext, tenantId: string): Promise<TenantSettings> {
  return (await tenantSettings(ctx, [tenantId])).get(tenantId)!;
}

/**
 * Sets the tenant's settings; `null` returns a setting to the server's default. A changed grace
 * period moves which ended periods are still drafts: every account of the tenant is computed
 * again, and period close finalises what a shorter one leaves due on its next run.
 */
export async function updateSettings(ctx: ServiceContext, { tenantId, invoiceGracePeriodHours }: { tenantId: string; invoiceGracePeriodHours: number | null }): Promise<TenantSettings> {
  await inTransaction(ctx, async (tx) => {
    await repo.upsertSettings(tx.db, { tenant_id: tenantId, invoice_grace_period_hours: invoiceGracePeriodHours, updated_at: tx.clock.now() });
    await announceCatalogChange(tx, { tenantId });
  });
  return settingsOfTenant(ctx, tenantId);
}
