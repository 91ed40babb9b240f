import type { ServiceContext } from '../../lib/context.js';
import { isUniqueViolation, type Queryable } from '../../lib/db/database.js';
import { Conflict, Invalid } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { fetchPage } from '../../lib/pagination.js';
import type { Problem } from './compute/metricRules.js';
import * as repo from './repo.js';

/** The built-in fiat pricing unit, USD cents: the same id as in Metronome, present for every tenant. */
export const USD_CREDIT_TYPE_ID = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
export const USD_CREDIT_TYPE_NAME = 'USD (cents)';

export interface CreditType {
  id: string;
  name: string;
  isCurrency: boolean;
}

const USD: CreditType = { id: USD_CREDIT_TYPE_ID, name: USD_CREDIT_TYPE_NAME, isCurrency: true };

/** Throws every problem as one 400 naming each field. */
export function throwAll(problems: readonly Problem[]): void {
  const [first, ...others] = problems;
  if (first) throw Invalid.all([first, ...others]);
}

// ---- pricing units

/** Pricing units found, per tenant and id: a pricing unit never changes once created, so every balance read need not look it up again. */
const knownCreditTypes = new Map<string, CreditType>();
const MAX_KNOWN_CREDIT_TYPES = 10_000;

/** A pricing unit of the tenant: USD (cents), or one of its custom units; undefined for anything else. */
export async function findCreditType({ db }: ServiceContext, { tenantId, creditTypeId }: { tenantId: string; creditTypeId: string }): Promise<CreditType | undefined> {
  const key = `${tenantId.toLowerCase()} ${creditTypeId.toLowerCase()}`;
  const known = knownCreditTypes.get(key);
  if (known) return known;
  const found = (await findCreditTypesById(db, tenantId, [creditTypeId])).get(creditTypeId);
  // Only from committed state: a unit created in a caller's transaction may yet roll back.
  if (found && !db.transactional) {
    if (knownCreditTypes.size >= MAX_KNOWN_CREDIT_TYPES) knownCreditTypes.clear();
    knownCreditTypes.set(key, found);
  }
  return found;
}

/** Several pricing units at once, by id; ids that are no pricing unit of the tenant are absent. */
export async function findCreditTypes(
  { db }: ServiceContext,
  { tenantId, creditTypeIds }: { tenantId: string; creditTypeIds: string[] },
): Promise<Map<string, CreditType>> {
  return findCreditTypesById(db, tenantId, creditTypeIds);
}

export async function findCreditTypesById(tx: Queryable, tenantId: string, ids: string[]): Promise<Map<string, CreditType>> {
  const found = new Map<string, CreditType>();
  if (ids.includes(USD_CREDIT_TYPE_ID)) found.set(USD_CREDIT_TYPE_ID, USD);
  const custom = ids.filter((id) => id !== USD_CREDIT_TYPE_ID && isUuid(id));
  if (custom.length > 0) {
    for (const row of await repo.findCreditTypes(tx, tenantId, custom)) found.set(row.id, { id: row.id, name: row.name, isCurrency: false });
  }
  return found;
}

/**
 * Creates a custom pricing unit (Allot's own endpoint; Metronome creates them in its UI). Names are
 * unique within a tenant, `USD (cents)` included: a repeat is a 409.
 */
export async function createCreditType({ db, clock }: ServiceContext, { tenantId, name }: { tenantId: string; name: string }): Promise<CreditType> {
  if (name === USD_CREDIT_TYPE_NAME) throw new Conflict(`name: "${name}" is the built-in fiat pricing unit`);
  const id = newId();
  try {
    await db.transaction(async (tx) => {
      if (await repo.findCreditTypeByName(tx, tenantId, name)) throw new Conflict(`name: a pricing unit named "${name}" already exists`);
      await repo.insertCreditType(tx, tenantId, { id, name, created_at: clock.now() });
    });
  } catch (error) {
    if (isUniqueViolation(error, 'credit_types_name')) throw new Conflict(`name: a pricing unit named "${name}" already exists`);
    throw error;
  }
  return { id, name, isCurrency: false };
}

/** Pricing units, USD (cents) first, then custom units oldest first. */
export async function listCreditTypes(
  { db }: ServiceContext,
  { tenantId, query }: { tenantId: string; query: { limit: number; nextPage?: string | undefined } },
): Promise<{ creditTypes: CreditType[]; nextPage: string | null }> {
  const page = await fetchPage(query, async ({ afterId, limit }) => {
    const custom = await repo.listCreditTypes(db, tenantId, { afterId: afterId === null || afterId === USD_CREDIT_TYPE_ID ? null : afterId, limit });
    const rows: CreditType[] = custom.map((row) => ({ id: row.id, name: row.name, isCurrency: false }));
    return (afterId === null ? [USD, ...rows] : rows).slice(0, limit);
  });
  return { creditTypes: page.rows, nextPage: page.nextPage };
}

