import { inTransaction, type ServiceContext } from '../../lib/context.js';
import { isUniqueViolation } from '../../lib/db/database.js';
import { Conflict, Problems } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { openPeriodStart } from '../../lib/periods.js';
import { loadContracts, statementScheduleOf, type Contract, type RecurringGrant } from '../account/service.js';
import * as customers from '../customers/service.js';
import * as invoices from '../invoices/service.js';
import { planAmounts, type AmountPlan } from './amounts.js';
import { planEnds, type EndPlan, type RecurringGrantUpdateRecord } from './ends.js';
import { findCustomerContract } from './lookup.js';
import { planOverrides } from './overrides.js';
import { additionsFrom, planAdditions } from './plan.js';
import { previewChange, type EditPreview } from './preview.js';
import { planQuantityUpdates, type SubscriptionUpdateRecord } from './quantityPlan.js';
import * as repo from './repo.js';
import type { EditContractBody } from './schemas.js';
import { quantityChangesAfterSeatUpdates } from './seats.js';
import * as thresholdRepo from './thresholdRepo.js';
import { planThresholds, thresholdChangesOf } from './thresholds.js';
import { announceContract, signalContractChange, writePlan } from './writes.js';

/** Editing a contract (v2 `edit`, v1 `updateEndDate`): ends, amounts, quantities and additions in one transaction. */

export interface EditRecord {
  id: string;
  timestamp: Date;
  uniquenessKey: string | null;
  addSubscriptionIds: string[];
  addRecurringCreditIds: string[];
  addRecurringCommitIds: string[];
  addCreditIds: string[];
  addCommitIds: string[];
  addOverrideIds: string[];
  updateSubscriptions: SubscriptionUpdateRecord[];
  updateContractName?: string | null;
  /** The contract's new end; null when it was made open-ended. */
  updateContractEndDate?: string | null;
  updateRecurringCredits?: RecurringGrantUpdateRecord[];
  updateRecurringCommits?: RecurringGrantUpdateRecord[];
}

/** The edit history's recurring grant updates: each grant's new end and new amount, in one record. */
function recurringUpdateRecords(ends: EndPlan, amounts: AmountPlan): Pick<EditRecord, 'updateRecurringCredits' | 'updateRecurringCommits'> {
  const merge = (records: RecurringGrantUpdateRecord[], kind: RecurringGrant['kind']) => {
    const merged = records.map((record) => {
      const amount = amounts.records.get(record.id);
      return amount ? { ...record, access_amount: amount.record } : record;
    });
    for (const [id, amount] of amounts.records) {
      if (amount.kind === kind && !records.some((record) => record.id === id)) merged.push({ id, access_amount: amount.record });
    }
    return merged;
  };
  const credits = merge(ends.recurringCredits, 'CREDIT');
  const commits = merge(ends.recurringCommits, 'COMMIT');
  return { ...(credits.length > 0 && { updateRecurringCredits: credits }), ...(commits.length > 0 && { updateRecurringCommits: commits }) };
}

/** What `editContract(body)` would do to the customer's balances and seat charges, without doing it (see `previewChange`). */
export function previewEdit(ctx: ServiceContext, { tenantId, body }: { tenantId: string; body: EditContractBody }): Promise<EditPreview> {
  // Nothing a preview does is kept: it bills nothing, and holds no lock period close waits on.
  return previewChange(ctx, { tenantId, customerId: body.customer_id, change: (txContext) => editContract(txContext, { tenantId, body, billIncreases: false }) });
}

/**
 * Edits a contract (v2): quantity changes on its subscriptions (rule 7) and additions, in one
 * transaction under a lock on the contract, so concurrent edits apply one after the other and
 * a quantity is never checked against a schedule another edit is changing.
 */
export async function editContract(
  ctx: ServiceContext,
  {
    tenantId,
    body,
    contractEndField = 'update_contract_end_date',
    billIncreases = true,
  }: { tenantId: string; body: EditContractBody; contractEndField?: string; billIncreases?: boolean },
): Promise<string> {
  const editId = await inTransaction(ctx, async (txContext) => {
    const now = ctx.clock.now();
    // An edit of subscriptions may bill an increase (below), under the customer's close lock: taken
    // before the contract's row lock, in the order period close takes them (its lock, then the
    // contract row through the invoices' foreign key), so that neither waits on the other in a cycle.
    const mayBill = billIncreases && (body.update_subscriptions?.length ?? 0) > 0 && isUuid(body.customer_id);
    if (mayBill) await invoices.holdCustomerClose(txContext, { tenantId, customerId: body.customer_id });
    const stored = await findCustomerContract(txContext, tenantId, body.customer_id, body.contract_id, { forUpdate: true });
    if (stored.archived_at) throw new Conflict(`Contract ${stored.id} is archived`);
    const loaded = await loadContracts(txContext, tenantId, [stored]);

    // Ends first: quantity changes and additions are then checked against the new ones.
    const ends = planEnds({
      contract: stored,
      loaded,
      body,
      now,
      billedUntil: body.update_contract_end_date !== undefined ? await invoices.finalizedUntil(txContext, { tenantId, contractId: stored.id }) : null,
      contractEndField,
      allowBeforeFinalized: body.allow_contract_ending_before_finalized_invoice ?? false,
    });
    const amounts = planAmounts({ loaded, body, now });
    // Problems of the ends and amounts are named with every other problem of the edit, below.
    const updateProblems = [...ends.problems, ...amounts.problems];
    // Refused ends are not the ends the rest is checked against: the contract stands as stored.
    const endsStand = ends.problems.length === 0;
    const contract: Contract = endsStand && ends.contractEnd !== undefined ? { ...stored, ending_before: ends.contractEnd } : stored;
    const subscriptions = loaded.subscriptions.map((subscription) => {
      const end = endsStand ? ends.subscriptionEnds.get(subscription.id) : undefined;
      return end === undefined ? subscription : { ...subscription, ending_before: end, schedule: { ...subscription.schedule, endingBefore: end } };
    });

    // Quantity changes and additions are checked together: one 400 names every problem of both.
    const problems = new Problems();
    problems.addAll(updateProblems);
    const { changes: newChanges, seatChanges: newSeatChanges, updates } = planQuantityUpdates({
      contractId: contract.id,
      subscriptions,
      changes: loaded.changes,
      seatChanges: loaded.seatChanges,
      updates: body.update_subscriptions ?? [],
      now,
      problems,
    });

    const notBefore = openPeriodStart(statementScheduleOf(contract), now);
    const hasAdditions = [body.add_subscriptions, body.add_recurring_credits, body.add_recurring_commits, body.add_credits, body.add_commits, body.add_overrides].some(
      (list) => list?.length,
    );
    if (hasAdditions && !notBefore) {
      problems.throwIfAny();
      throw new Conflict(`Contract ${contract.id} has ended; nothing can be added to it`);
    }
    const plan = await planAdditions(txContext, {
      tenantId,
      contract,
      existingSubscriptions: subscriptions,
      existingChanges: [...quantityChangesAfterSeatUpdates(loaded, newSeatChanges), ...newChanges],
      notBefore: notBefore ?? contract.starting_at,
      additions: additionsFrom(
        {
          subscriptions: body.add_subscriptions,
          recurring_credits: body.add_recurring_credits,
          recurring_commits: body.add_recurring_commits,
          credits: body.add_credits,
          commits: body.add_commits,
        },
        'add_',
      ),
      problems,
    });
    const overrides = await planOverrides(txContext, {
      tenantId,
      contract,
      field: 'add_overrides',
      items: body.add_overrides ?? [],
      notBefore: notBefore ?? contract.starting_at,
      problems,
    });
    const thresholdChanges = thresholdChangesOf(body);
    const thresholds =
      thresholdChanges.length === 0
        ? []
        : await planThresholds(txContext, {
            tenantId,
            customerId: contract.customer_id,
            contractId: contract.id,
            rateCardId: contract.rate_card_id,
            stored: (await thresholdRepo.listThresholds(txContext.db, tenantId, contract.customer_id)).filter((row) => row.contract_id === contract.id),
            changes: thresholdChanges,
            problems,
            now,
          });
    problems.throwIfAny();
    for (const threshold of thresholds) await thresholdRepo.upsertThreshold(txContext.db, tenantId, threshold);
    if (ends.contractEnd !== undefined) await repo.setContractEnd(txContext.db, tenantId, contract.id, ends.contractEnd);
    for (const [subscriptionId, end] of ends.subscriptionEnds) await repo.setSubscriptionEnd(txContext.db, tenantId, subscriptionId, end);
    for (const [grantId, end] of ends.recurringEnds) await repo.setRecurringGrantEnd(txContext.db, tenantId, grantId, end);
    for (const row of amounts.rows) await repo.upsertRecurringGrantAmount(txContext.db, tenantId, row);
    for (const change of newChanges) await repo.insertQuantityChange(txContext.db, tenantId, change);
    for (const change of newSeatChanges) await repo.insertSeatChange(txContext.db, tenantId, change);
    const grantIds = await writePlan(txContext, tenantId, plan);
    for (const override of overrides) await repo.insertOverride(txContext.db, tenantId, override);
    if (body.update_contract_name !== undefined) await repo.renameContract(txContext.db, tenantId, contract.id, body.update_contract_name);

    const creditCount = plan.grants.filter((g) => g.kind === 'CREDIT').length;
    const record: EditRecord = {
      id: newId(),
      timestamp: now,
      uniquenessKey: body.uniqueness_key ?? null,
      addSubscriptionIds: plan.subscriptions.map((s) => s.id),
      addRecurringCreditIds: plan.recurring.filter((r) => r.kind === 'CREDIT').map((r) => r.id),
      addRecurringCommitIds: plan.recurring.filter((r) => r.kind === 'COMMIT').map((r) => r.id),
      // Credits are planned before commits, so the first ids are the credits'.
      addCreditIds: grantIds.slice(0, creditCount),
      addCommitIds: grantIds.slice(creditCount),
      addOverrideIds: overrides.map((o) => o.id),
      updateSubscriptions: updates,
      ...(body.update_contract_name !== undefined && { updateContractName: body.update_contract_name }),
      ...(body.update_contract_end_date !== undefined && { updateContractEndDate: body.update_contract_end_date && body.update_contract_end_date.toISOString() }),
      ...recurringUpdateRecords(ends, amounts),
    };
    try {
      await repo.insertEdit(txContext.db, tenantId, {
        id: record.id,
        contract_id: contract.id,
        customer_id: contract.customer_id,
        uniqueness_key: record.uniquenessKey,
        edit: { ...record, timestamp: record.timestamp.toISOString() },
        created_at: now,
      });
    } catch (error) {
      if (isUniqueViolation(error, 'contract_edits_uniqueness_key')) throw new Conflict(`An edit with uniqueness_key ${body.uniqueness_key} was already applied to this contract`);
      throw error;
    }
    // An increase billed immediately is invoiced with the edit that makes it (rule 8).
    const billsNow = [...newChanges, ...newSeatChanges].some(
      (change) => change.starting_at <= now && subscriptions.some((s) => s.id === change.subscription_id && s.invoice_behavior === 'BILL_IMMEDIATELY' && s.collection_schedule === 'ADVANCE'),
    );
    if (mayBill && billsNow) await invoices.billIncreasesInForce(txContext, { tenantId, customerId: contract.customer_id });
    const customer = await customers.getCustomer(txContext, { tenantId, customerId: contract.customer_id });
    await announceContract(txContext, { tenantId, type: 'contract.edit', contract, customer, at: now });
    await signalContractChange(txContext, tenantId, body.customer_id);
    return record.id;
  });
  return editId;
}

/**
 * `v1.contracts.updateEndDate`: moves the contract's end (no `endingBefore`: open-ended), as a v2
 * edit with `update_contract_end_date` does, and is recorded in the edit history like one.
 */
export async function updateContractEndDate(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    contractId,
    endingBefore,
    allowBeforeFinalized,
  }: { tenantId: string; customerId: string; contractId: string; endingBefore: Date | null; allowBeforeFinalized: boolean },
): Promise<void> {
  await editContract(ctx, {
    tenantId,
    body: { customer_id: customerId, contract_id: contractId, update_contract_end_date: endingBefore, allow_contract_ending_before_finalized_invoice: allowBeforeFinalized },
    contractEndField: 'ending_before',
  });
}
