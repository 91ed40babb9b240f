import type { ServiceContext } from '../../lib/context.js';
import type { Queryable } from '../../lib/db/database.js';
import { Problems } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { Decimal, toNumericText } from '../../lib/money.js';
import type { Balance, GrantTerms } from '../account/service.js';
import * as repo from './repo.js';

export interface NewGrant extends Omit<GrantTerms, 'createdAt' | 'archivedAt' | 'subscriptionConfig'> {
  segments: { startingAt: Date; endingBefore: Date; amount: Decimal }[];
}

/** Records a one-off credit or commit with its access schedule; returns its id. */
export async function createGrant({ db, clock }: ServiceContext, { tenantId, grant }: { tenantId: string; grant: NewGrant }): Promise<string> {
  const id = newId();
  await db.transaction((tx) =>
    repo.insertGrant(
      tx,
      tenantId,
      {
        id,
        customer_id: grant.customerId,
        contract_id: grant.contractId,
        kind: grant.kind,
        product_id: grant.productId,
        credit_type_id: grant.creditTypeId,
        priority: toNumericText(grant.priority),
        applicable_product_ids: grant.applicableProductIds,
        applicable_product_tags: grant.applicableProductTags,
        applicable_contract_ids: grant.applicableContractIds,
        rate_type: grant.rateType,
        name: grant.name,
        description: grant.description,
        custom_fields: grant.customFields,
        created_at: clock.now(),
        archived_at: null,
      },
      grant.segments.map((segment, position) => ({
        id: newId(),
        position,
        starting_at: segment.startingAt,
        ending_before: segment.endingBefore,
        amount: toNumericText(segment.amount),
      })),
    ),
  );
  return id;
}

/**
 * Adds a manual ledger entry to one segment of one of `balances` (the customer's, as of now).
 * It is recorded as a movement, never by changing a stored balance; it defaults to the
 * segment's start and must fall inside the segment. A negative amount draws the balance down,
 * and may take it below 0. One 400 names every problem of the entry.
 */
export async function addManualEntry(
  { db, clock }: ServiceContext,
  {
    tenantId,
    customerId,
    balances,
    entry,
  }: {
    tenantId: string;
    customerId: string;
    balances: readonly Balance[];
    entry: { grantId: string; segmentId: string; amount: Decimal; reason: string; timestamp?: Date | undefined };
  },
): Promise<void> {
  const problems = new Problems();
  const target = entryTarget(problems, balances, entry, clock.now());
  problems.check(!entry.amount.isZero(), 'amount', 'must not be 0');
  problems.throwIfAny();
  const { grantId, segmentId, timestamp } = target!;
  await repo.insertEntry(db, tenantId, {
    id: newId(),
    customer_id: customerId,
    grant_id: grantId,
    segment_id: segmentId,
    kind: 'MANUAL',
    amount: toNumericText(entry.amount),
    timestamp,
    reason: entry.reason,
    invoice_id: null,
    created_at: clock.now(),
  });
}

/**
 * The segment a manual entry goes to, and the entry's timestamp; undefined, with its problem in
 * `problems`, when there is none (each check needs the one before it to pass).
 */
function entryTarget(
  problems: Problems,
  balances: readonly Balance[],
  entry: { grantId: string; segmentId: string; timestamp?: Date | undefined },
  now: Date,
): { grantId: string; segmentId: string; timestamp: Date } | undefined {
  const grant = balances.find((balance) => balance.id === entry.grantId);
  if (!grant) return void problems.add('id', `no credit or commit ${entry.grantId} on this customer${balances.length ? '' : ' (it has none)'}`);
  const segment = grant.segments.find((s) => s.id === entry.segmentId);
  if (!segment) return void problems.add('segment_id', `no segment ${entry.segmentId} on ${entry.grantId}`);
  // An ended segment's remainder has already expired or rolled over; changing it now would rewrite that.
  if (segment.endingBefore <= now) return void problems.add('segment_id', `segment ${segment.id} ended at ${segment.endingBefore.toISOString()}`);
  const timestamp = entry.timestamp ?? segment.startingAt;
  if (timestamp < segment.startingAt || timestamp >= segment.endingBefore) {
    return void problems.add('timestamp', `must fall inside the segment [${segment.startingAt.toISOString()}, ${segment.endingBefore.toISOString()})`);
  }
  return { grantId: grant.id, segmentId: segment.id, timestamp };
}

/**
 * Records what a finalised invoice drew from segments (`AUTOMATED_INVOICE_DEDUCTION`, a negative
 * amount each), in the caller's transaction. Once recorded, a segment's balance and its
 * expiration or rollover at its end follow from them like from any movement.
 */
export async function recordInvoiceDeductions(
  db: Queryable,
  {
    tenantId,
    customerId,
    invoiceId,
    deductions,
    at,
  }: { tenantId: string; customerId: string; invoiceId: string; deductions: readonly { grantId: string; segmentId: string; amount: Decimal; timestamp: Date }[]; at: Date },
): Promise<void> {
  for (const deduction of deductions) {
    await repo.insertEntry(db, tenantId, {
      id: newId(),
      customer_id: customerId,
      grant_id: deduction.grantId,
      segment_id: deduction.segmentId,
      kind: 'AUTOMATED_INVOICE_DEDUCTION',
      amount: toNumericText(deduction.amount),
      timestamp: deduction.timestamp,
      reason: null,
      invoice_id: invoiceId,
      created_at: at,
    });
  }
}

/** Per finalised invoice, what its recorded deductions took from credits and commits (a negative sum; 0 when none). */
export async function invoiceDeductionTotals(db: Queryable, { tenantId, invoiceIds }: { tenantId: string; invoiceIds: readonly string[] }): Promise<Map<string, Decimal>> {
  const totals = await repo.invoiceDeductionTotals(db, tenantId, invoiceIds);
  return new Map(invoiceIds.map((id) => [id, new Decimal(totals.get(id) ?? 0)]));
}

