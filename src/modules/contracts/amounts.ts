import type { FieldProblem } from '../../lib/errors.js';
import { toNumericText } from '../../lib/money.js';
import { periodAt, type PeriodSchedule } from '../../lib/periods.js';
import { amountAt, type LoadedContracts } from '../account/service.js';
import type { RecurringGrantAmountRow } from './repo.js';
import type { EditContractBody } from './schemas.js';

/**
 * Changing a recurring credit's or commit's amount (`update_recurring_*[].access_amount`, rule 10
 * of the README). The new amount is in force from the first period of the grant that starts at or
 * after the edit: periods already started keep what they granted, so nothing granted or billed
 * changes. A monthly credit of 100 from April 1, set to 150 on April 10: April grants 100, May 150.
 */

/** A recurring grant's new amount, as the edit history records it (decimal text). */
export interface RecurringGrantAmountRecord {
  unit_price: string;
  quantity?: string;
  /** The start of the first period that gets it. */
  effective_from: string;
}

export interface AmountPlan {
  rows: RecurringGrantAmountRow[];
  /** By recurring grant id, in the edit's order. */
  records: Map<string, { kind: 'CREDIT' | 'COMMIT'; record: RecurringGrantAmountRecord }>;
  problems: FieldProblem[];
}

/**
 * The start of the first period of `schedule` starting at or after `now`, whatever its end (a
 * grant's end may move later). Monthly from April 1: on April 10, May 1; on May 1 at 00:00, May 1;
 * before the grant starts, its start.
 */
export function firstPeriodFrom(schedule: PeriodSchedule, now: Date): Date {
  const unbounded = { ...schedule, endingBefore: null };
  if (now <= schedule.startingAt) return schedule.startingAt;
  const period = periodAt(unbounded, now)!;
  return period.startingAt.getTime() === now.getTime() ? period.startingAt : period.endingBefore;
}

/**
 * Plans the amount changes of an edit: for each, the grant's new `unit_price` and `quantity` (a
 * field not given keeps the amount in force at the change's start) and where it takes effect.
 * `quantity` is refused on a grant linked to a subscription: its pool counts the seats, which
 * `update_subscriptions` changes. Unknown ids are left to `planEnds`, which names them.
 */
export function planAmounts({
  loaded,
  body,
  now,
}: {
  loaded: Pick<LoadedContracts, 'recurring' | 'sources'>;
  body: Pick<EditContractBody, 'update_recurring_credits' | 'update_recurring_commits'>;
  now: Date;
}): AmountPlan {
  const plan: AmountPlan = { rows: [], records: new Map(), problems: [] };
  for (const [kind, list, name] of [
    ['CREDIT', body.update_recurring_credits ?? [], 'update_recurring_credits'],
    ['COMMIT', body.update_recurring_commits ?? [], 'update_recurring_commits'],
  ] as const) {
    for (const [index, update] of list.entries()) {
      if (!update.access_amount) continue;
      const grantId = 'recurring_credit_id' in update ? update.recurring_credit_id : update.recurring_commit_id;
      const grant = loaded.recurring.find((r) => r.id === grantId && r.kind === kind);
      const source = grant && loaded.sources.find(({ source }) => source.id === grant.id)?.source;
      if (!grant || !source || plan.records.has(grant.id)) continue;
      const field = `${name}.${index}.access_amount`;
      if (grant.subscription_id && update.access_amount.quantity !== undefined) {
        plan.problems.push({
          field: `${field}.quantity`,
          message: `is not taken: the recurring ${kind.toLowerCase()} follows subscription ${grant.subscription_id}'s quantity; change that with update_subscriptions`,
        });
        continue;
      }
      const from = firstPeriodFrom(source.schedule, now);
      const inForce = amountAt(source, from);
      const unitPrice = update.access_amount.unit_price ?? inForce.unitPrice;
      const quantity = grant.subscription_id ? null : (update.access_amount.quantity ?? inForce.quantity);
      plan.rows.push({
        recurring_grant_id: grant.id,
        effective_from: from,
        unit_price: toNumericText(unitPrice),
        quantity: quantity === null ? null : toNumericText(quantity),
        created_at: now,
      });
      plan.records.set(grant.id, {
        kind,
        record: {
          unit_price: toNumericText(unitPrice),
          ...(quantity !== null && { quantity: toNumericText(quantity) }),
          effective_from: from.toISOString(),
        },
      });
    }
  }
  return plan;
}
