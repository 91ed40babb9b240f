import { earliest, recurringGrantSchedule } from '../../lib/contractSchedules.js';
import type { FieldProblem } from '../../lib/errors.js';
import { periodAt, openPeriodStart, type PeriodSchedule } from '../../lib/periods.js';
import { statementScheduleOf, type Contract, type LoadedContracts, type RecurringGrant, type Subscription } from '../account/service.js';
import type { RecurringGrantAmountRecord } from './amounts.js';
import type { EditContractBody } from './schemas.js';

/**
 * Moving ends: a contract's (`update_contract_end_date`, `v1.contracts.updateEndDate`), a
 * subscription's (`update_subscriptions[].ending_before`) and a recurring credit's or commit's
 * (`update_recurring_*[].ending_before`). Nothing already billed changes: an end may move only
 * where every period it cuts or adds starts in the contract's open statement period or later.
 * Subscriptions that ended with the contract keep ending with it, and none outlasts it; recurring
 * grants are cut by the contract's and their subscription's ends where their periods are made.
 */

/** A recurring grant's update, as the edit history records it: its new end and, see amounts.ts, its new amount. */
export interface RecurringGrantUpdateRecord {
  id: string;
  ending_before?: string | null;
  access_amount?: RecurringGrantAmountRecord;
}

export interface EndPlan {
  /** The contract's new end, when it moves. */
  contractEnd?: Date | null;
  /** Subscriptions whose stored end changes: id → new end. */
  subscriptionEnds: Map<string, Date | null>;
  /** Recurring grants whose stored end changes: id → new end. */
  recurringEnds: Map<string, Date | null>;
  recurringCredits: RecurringGrantUpdateRecord[];
  recurringCommits: RecurringGrantUpdateRecord[];
  problems: FieldProblem[];
}

const same = (a: Date | null, b: Date | null) => (a === null ? b === null : b !== null && a.getTime() === b.getTime());
const iso = (at: Date | null) => (at ? at.toISOString() : 'open-ended');

/**
 * Why the end of `schedule` may not move from `from` to `to` (null for none), or null when it may.
 * `notBefore` is the start of the contract's open statement period: what lies before it is billed
 * or closing. With `notBefore` April 1, a monthly schedule may end on April 16 instead of never
 * (April is open) but not on March 20; a quarterly one anchored on February 1 may not end on
 * April 16, since that cuts the quarter February 1 → May 1, which began before April 1.
 */
export function endMoveProblem({ schedule, from, to, notBefore }: { schedule: PeriodSchedule; from: Date | null; to: Date | null; notBefore: Date }): string | null {
  if (same(from, to)) return null;
  const earlier = earliest(from, to)!;
  const later = same(earlier, from) ? to : from;
  if (earlier < notBefore) {
    return same(earlier, to)
      ? `must not be before ${notBefore.toISOString()}, the start of the open statement period: what came before is billed`
      : `it ended at ${earlier.toISOString()}, before the open statement period (${notBefore.toISOString()}); it cannot be extended`;
  }
  const cut = periodAt({ ...schedule, endingBefore: later }, earlier);
  if (cut && cut.startingAt < earlier && cut.startingAt < notBefore) {
    return `would change the period ${cut.startingAt.toISOString()} → ${cut.endingBefore.toISOString()}, which began before the open statement period (${notBefore.toISOString()}); end at ${cut.endingBefore.toISOString()} instead`;
  }
  return null;
}

/** The schedule a recurring grant recurs on, with the ends given (the grant's own, its subscription's, the contract's). */
function grantSchedule(grant: RecurringGrant, contract: Contract, subscription: Subscription | undefined): PeriodSchedule {
  // The periods the account engine derives the grant on (a linked credit may recur on its own
  // frequency), without ends: the move itself is what is checked.
  return recurringGrantSchedule({
    grant: { startingAt: grant.starting_at, endingBefore: null, recurrenceFrequency: grant.recurrence_frequency ?? null },
    statements: statementScheduleOf(contract),
    contractEndingBefore: null,
    subscription: subscription ? { ...subscription.schedule, endingBefore: null } : null,
  });
}

/**
 * Validates an edit's end changes against the contract as loaded and returns the rows to update,
 * with every problem found (each naming its field). `billedUntil` is the end of the contract's
 * latest finalised invoice; the contract's end may not precede it unless `allowBeforeFinalized`.
 */
export function planEnds({
  contract,
  loaded,
  body,
  now,
  billedUntil,
  contractEndField,
  allowBeforeFinalized,
}: {
  contract: Contract;
  loaded: Pick<LoadedContracts, 'subscriptions' | 'recurring'>;
  body: Pick<EditContractBody, 'update_contract_end_date' | 'update_subscriptions' | 'update_recurring_credits' | 'update_recurring_commits'>;
  now: Date;
  billedUntil: Date | null;
  contractEndField: string;
  allowBeforeFinalized: boolean;
}): EndPlan {
  const plan: EndPlan = { subscriptionEnds: new Map(), recurringEnds: new Map(), recurringCredits: [], recurringCommits: [], problems: [] };
  const problem = (field: string, message: string) => plan.problems.push({ field, message });
  // An ended contract's periods are all billed or closing: nothing before its end may change.
  const notBefore = openPeriodStart(statementScheduleOf(contract), now) ?? contract.ending_before!;

  const oldContractEnd = contract.ending_before;
  let contractEnd = oldContractEnd;
  if (body.update_contract_end_date !== undefined) {
    contractEnd = body.update_contract_end_date;
    const end = contractEnd ?? new Date(8.64e15);
    if (contractEnd && contractEnd <= contract.starting_at) problem(contractEndField, `must be after the contract's start, ${contract.starting_at.toISOString()}`);
    else if (!allowBeforeFinalized && billedUntil && end < billedUntil) {
      problem(contractEndField, `must not be before ${billedUntil.toISOString()}, the end of the contract's last finalised invoice (allow it with allow_ending_before_finalized_invoice)`);
    } else if (!allowBeforeFinalized && end < notBefore) {
      problem(contractEndField, `must not be before ${notBefore.toISOString()}, the start of the open statement period: what came before is billed or closing`);
    }
    if (!same(contractEnd, oldContractEnd)) plan.contractEnd = contractEnd;
  }
  const withinContract = (at: Date) => !contractEnd || at <= contractEnd;

  // Subscriptions: an explicit new end, else the contract's when it ended with the contract or would outlast it.
  const subscriptionEnd = new Map<string, { end: Date | null; field: string }>();
  for (const [index, update] of (body.update_subscriptions ?? []).entries()) {
    if (update.ending_before === undefined) continue;
    const field = `update_subscriptions.${index}.ending_before`;
    const subscription = loaded.subscriptions.find((s) => s.id === update.subscription_id);
    if (!subscription) continue; // planQuantityUpdates names the unknown id
    const end = update.ending_before ?? contractEnd;
    if (update.ending_before && !withinContract(update.ending_before)) problem(field, `must not be after the contract's end, ${iso(contractEnd)}`);
    subscriptionEnd.set(subscription.id, { end, field });
  }
  for (const subscription of loaded.subscriptions) {
    if (subscriptionEnd.has(subscription.id)) continue;
    const followsContract = same(subscription.ending_before, oldContractEnd);
    if (followsContract || (contractEnd && (!subscription.ending_before || subscription.ending_before > contractEnd))) {
      subscriptionEnd.set(subscription.id, { end: contractEnd, field: contractEndField });
    }
  }
  for (const subscription of loaded.subscriptions) {
    const change = subscriptionEnd.get(subscription.id);
    if (!change || same(change.end, subscription.ending_before)) continue;
    const { end, field } = change;
    const label = field === contractEndField ? `subscription ${subscription.id}: ` : '';
    if (end && end <= subscription.starting_at) {
      problem(field, `${label}must be after the subscription's start, ${subscription.starting_at.toISOString()}`);
      continue;
    }
    const late = end && subscription.changes.find((c) => c.sequence > 0 && c.startingAt >= end);
    if (late) problem(field, `${label}a quantity change is scheduled at ${late.startingAt.toISOString()}, at or after this end`);
    const why = endMoveProblem({ schedule: subscription.schedule, from: subscription.ending_before, to: end, notBefore });
    if (why) problem(field, `${label}${why}`);
    plan.subscriptionEnds.set(subscription.id, end);
  }

  // Recurring grants: an explicit new end; their periods are also cut by the subscription's and the contract's ends.
  const grantEnd = new Map<string, { end: Date | null; field: string }>();
  const updated = new Set<string>();
  for (const [kind, list, name] of [
    ['CREDIT', body.update_recurring_credits ?? [], 'update_recurring_credits'],
    ['COMMIT', body.update_recurring_commits ?? [], 'update_recurring_commits'],
  ] as const) {
    for (const [index, update] of list.entries()) {
      const grantId = 'recurring_credit_id' in update ? update.recurring_credit_id : update.recurring_commit_id;
      const idField = kind === 'CREDIT' ? 'recurring_credit_id' : 'recurring_commit_id';
      const grant = loaded.recurring.find((r) => r.id === grantId && r.kind === kind);
      if (!grant) {
        problem(`${name}.${index}.${idField}`, `no recurring ${kind.toLowerCase()} ${grantId} on contract ${contract.id}`);
        continue;
      }
      if (updated.has(grant.id)) problem(`${name}.${index}.${idField}`, 'is updated twice in this edit');
      updated.add(grant.id);
      if (update.ending_before === undefined) continue;
      const field = `${name}.${index}.ending_before`;
      if (update.ending_before && update.ending_before <= grant.starting_at) problem(field, `must be after the recurring ${kind.toLowerCase()}'s start, ${grant.starting_at.toISOString()}`);
      else if (update.ending_before && !withinContract(update.ending_before)) problem(field, `must not be after the contract's end, ${iso(contractEnd)}`);
      grantEnd.set(grant.id, { end: update.ending_before, field });
      (kind === 'CREDIT' ? plan.recurringCredits : plan.recurringCommits).push({ id: grant.id, ending_before: update.ending_before && update.ending_before.toISOString() });
    }
  }
  for (const grant of loaded.recurring) {
    const subscription = grant.subscription_id ? loaded.subscriptions.find((s) => s.id === grant.subscription_id) : undefined;
    const explicit = grantEnd.get(grant.id);
    const ownEnd = explicit ? explicit.end : grant.ending_before;
    const subscriptionChange = subscription && subscriptionEnd.get(subscription.id);
    const before = earliest(grant.ending_before, subscription?.ending_before ?? null, oldContractEnd);
    const after = earliest(ownEnd, subscription ? (subscriptionChange ? subscriptionChange.end : subscription.ending_before) : null, contractEnd);
    if (explicit && !same(ownEnd, grant.ending_before)) plan.recurringEnds.set(grant.id, ownEnd);
    if (same(before, after)) continue;
    const why = endMoveProblem({ schedule: grantSchedule(grant, contract, subscription), from: before, to: after, notBefore });
    if (!why) continue;
    if (explicit) problem(explicit.field, why);
    else problem(subscriptionChange?.field ?? contractEndField, `recurring ${grant.kind.toLowerCase()} ${grant.id}: ${why}`);
  }
  return plan;
}
