import { announceAccountChange, inTransaction, type ServiceContext } from '../../lib/context.js';
import { Invalid, NotFound, Problems } from '../../lib/errors.js';
import { Decimal } from '../../lib/money.js';
import * as account from '../account/service.js';
import * as credits from '../credits/service.js';
import * as customers from '../customers/service.js';
import * as pricing from '../pricing/service.js';
import { planOneOffGrant } from './plan.js';
import type { CreditInput } from './schemas.js';

/**
 * Balances: every credit and commit of a customer, on its contracts and on the customer itself,
 * derived as of now (docs/rules.md rule 11). These use cases join the contracts (which define the
 * recurring grants) and the credits module (which stores one-off grants and recorded entries).
 */

/** Every credit and commit of the customer (`current`: without the settled periods of recurring grants, which hold nothing to spend). */
async function allBalances(ctx: ServiceContext, tenantId: string, customerId: string, { current = false } = {}): Promise<account.Balance[]> {
  // The customer check and the reads run at once; an unknown customer has no rows, and its 404 wins.
  const [, held] = await Promise.all([customers.requireCustomer(ctx, { tenantId, customerId }), account.customerAccount(ctx, { tenantId, customerId })]);
  return current ? held.current : held.balances;
}

async function finalizedBalances(ctx: ServiceContext, tenantId: string, customerId: string): Promise<account.Balance[]> {
  const [, balances] = await Promise.all([customers.requireCustomer(ctx, { tenantId, customerId }), account.balancesWithoutDrafts(ctx, { tenantId, customerId })]);
  return balances;
}

export interface BalanceQuery {
  id?: string | undefined;
  kinds?: ('CREDIT' | 'COMMIT')[] | undefined;
  /** Segments covering this instant. */
  coveringDate?: Date | undefined;
  /** Access on or after this instant. */
  startingAt?: Date | undefined;
  /** Access before this instant. */
  effectiveBefore?: Date | undefined;
  includeArchived?: boolean | undefined;
  includeContractBalances?: boolean | undefined;
  excludeZeroBalances?: boolean | undefined;
}

/**
 * The credits and commits of a customer matching `query`, ordered by id, with the names of the
 * products and pricing units they name. `page` takes the first `limit` of them after `afterId`:
 * the match stops there, so a page of a long history costs its rows, not the history.
 */
export async function listBalances(
  ctx: ServiceContext,
  { tenantId, customerId, query }: { tenantId: string; customerId: string; query: BalanceQuery },
): Promise<{ page: (window: { afterId: string | null; limit: number }) => account.Balance[]; names: account.AccountNames }> {
  const [, held] = await Promise.all([customers.requireCustomer(ctx, { tenantId, customerId }), account.customerAccount(ctx, { tenantId, customerId })]);
  const matches = (balance: account.Balance) => {
    if (query.id && balance.id !== query.id) return false;
    if (query.kinds && !query.kinds.includes(balance.kind)) return false;
    if (!query.includeArchived && balance.archivedAt) return false;
    if (balance.contractId && query.includeContractBalances === false) return false;
    const segments = balance.segments;
    if (query.coveringDate && !segments.some((s) => s.startingAt <= query.coveringDate! && query.coveringDate! < s.endingBefore)) return false;
    if (query.startingAt && !segments.some((s) => s.endingBefore > query.startingAt!)) return false;
    if (query.effectiveBefore && !segments.some((s) => s.startingAt < query.effectiveBefore!)) return false;
    if (query.excludeZeroBalances && balance.balance.isZero()) return false;
    return true;
  };
  const page = ({ afterId, limit }: { afterId: string | null; limit: number }) => {
    const all = held.balances;
    const rows: account.Balance[] = [];
    // Ordered by id: the page starts after the cursor, found by bisection.
    let index = 0;
    if (afterId) {
      let high = all.length;
      while (index < high) {
        const middle = (index + high) >>> 1;
        if (all[middle]!.id <= afterId) index = middle + 1;
        else high = middle;
      }
    }
    for (; index < all.length && rows.length < limit; index += 1) if (matches(all[index]!)) rows.push(all[index]!);
    return rows;
  };
  return { page, names: held.names };
}

/**
 * What a customer can spend now in one credit type (USD cents by default): the sum, over its
 * live credits and commits, of each segment's balance, where a negative segment (overdrawn by
 * a manual entry) counts as 0. `filters` are OR'd: a grant counts when it matches any.
 *
 * `invoiceInclusionMode` (Metronome's `invoice_inclusion_mode`): `FINALIZED_AND_DRAFT`, the
 * default, counts the live deductions of the draft invoices (the open period's, and an ended
 * period's in its grace period); `FINALIZED` counts only what finalised invoices deducted. A pool
 * of 400 with 120 of usage in the open period: 280 and 400; once the period is finalised, 280 both.
 */
export async function netBalance(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    creditTypeId,
    filters,
    invoiceInclusionMode = 'FINALIZED_AND_DRAFT',
  }: {
    tenantId: string;
    customerId: string;
    creditTypeId: string;
    invoiceInclusionMode?: 'FINALIZED' | 'FINALIZED_AND_DRAFT' | undefined;
    filters?: { balance_types?: ('PREPAID_COMMIT' | 'POSTPAID_COMMIT' | 'CREDIT')[] | undefined; custom_fields?: Record<string, string> | undefined; ids?: string[] | undefined }[] | undefined;
  },
): Promise<Decimal> {
  // Ended segments hold nothing: a long history's settled periods need not be derived.
  const [creditType, balances] = await Promise.all([
    pricing.findCreditType(ctx, { tenantId, creditTypeId }),
    invoiceInclusionMode === 'FINALIZED' ? finalizedBalances(ctx, tenantId, customerId) : allBalances(ctx, tenantId, customerId, { current: true }),
  ]);
  if (!creditType) throw new Invalid('credit_type_id', `no pricing unit with id ${creditTypeId}`);
  const matches = (balance: account.Balance) =>
    !filters?.length ||
    filters.some(
      (filter) =>
        (!filter.ids || filter.ids.includes(balance.id)) &&
        (!filter.balance_types || filter.balance_types.includes(balance.kind === 'CREDIT' ? 'CREDIT' : 'PREPAID_COMMIT')) &&
        (!filter.custom_fields || Object.entries(filter.custom_fields).every(([key, value]) => balance.customFields[key] === value)),
    );
  return account.spendableBalance(filters?.length ? balances.filter(matches) : balances, creditTypeId);
}

/** Adds a manual ledger entry to a segment of one of the customer's credits or commits. */
export async function addManualBalanceEntry(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    contractId,
    entry,
  }: {
    tenantId: string;
    customerId: string;
    contractId?: string | undefined;
    entry: { grantId: string; segmentId: string; amount: Decimal; reason: string; timestamp?: Date | undefined };
  },
): Promise<void> {
  const balances = await allBalances(ctx, tenantId, customerId);
  const grant = balances.find((b) => b.id === entry.grantId);
  if (grant && contractId !== undefined && grant.contractId !== contractId) {
    throw new NotFound(`${entry.grantId} is not on contract ${contractId}`);
  }
  // Announced in the entry's transaction: other processes learn of it when it commits, or never.
  await inTransaction(ctx, async (txContext) => {
    await credits.addManualEntry(txContext, { tenantId, customerId, balances, entry });
    await announceAccountChange(txContext, { tenantId, customerIds: [customerId], cause: 'balance' });
  });
}

/** Creates a credit or commit on the customer itself (not on a contract); one 400 names every problem of the request. */
export async function createCustomerGrant(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    kind,
    input,
    applicableContractIds,
  }: { tenantId: string; customerId: string; kind: 'CREDIT' | 'COMMIT'; input: CreditInput; applicableContractIds: string[] | null },
): Promise<string> {
  await customers.getCustomer(ctx, { tenantId, customerId });
  const problems = new Problems();
  if (applicableContractIds?.length) {
    const contracts = new Set((await account.customerContracts(ctx, { tenantId, customerId })).map((contract) => contract.id));
    applicableContractIds.forEach((id, i) => problems.check(contracts.has(id), `applicable_contract_ids.${i}`, `no contract ${id} for customer ${customerId}`));
  }
  const grant = await planOneOffGrant(ctx, { tenantId, field: '', kind, input, customerId, contractId: null, applicableContractIds, problems });
  problems.throwIfAny();
  return inTransaction(ctx, async (txContext) => {
    const grantId = await credits.createGrant(txContext, { tenantId, grant });
    await announceAccountChange(txContext, { tenantId, customerIds: [customerId], cause: 'balance' });
    return grantId;
  });
}
