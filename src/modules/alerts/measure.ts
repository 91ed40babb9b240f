import type { ServiceContext } from '../../lib/context.js';
import { Decimal } from '../../lib/money.js';
import * as accounts from '../account/service.js';
import * as invoices from '../invoices/service.js';
import * as pricing from '../pricing/service.js';
import * as usage from '../usage/service.js';
import { measureOf } from './compute/alertTypes.js';
import { greatestOfPeriods, partitionByEnded } from './compute/periodsInPlay.js';
import { spentPerCombination, splitsPerCombination } from './compute/groupCombinations.js';
import type { AlertRow } from './repo.js';

/** What an alert measures for one customer: the customer's value (null: nothing to measure), and per combination of group values (entries given by key alone). */
export interface Measurement {
  value: Decimal | null;
  perValue: Map<string, Decimal> | null;
}

export function creditTypeOf(alert: Pick<AlertRow, 'credit_type_id'>): string {
  return alert.credit_type_id ?? pricing.USD_CREDIT_TYPE_ID;
}

const sum = (values: Iterable<Decimal>) => [...values].reduce((total, value) => total.add(value), new Decimal(0));

/**
 * What each seat holds of its own now (docs/rules.md rule 29), for a seat alert: per seat id of
 * the subscriptions that name seats by the alert's `seat_group_key`, the balances of the seat's
 * credits and commits of the unit with a segment running now (an overdrawn one counting 0). A seat
 * with no such segment (removed, and its period over) is not measured.
 */
function seatBalances(held: accounts.CustomerAccount, alert: AlertRow, creditTypeId: string, now: Date): Map<string, Decimal> {
  const key = alert.group_values?.[0]?.key;
  const byKey = new Set(held.loaded.subscriptions.filter((s) => s.seats?.groupKey === key).map((s) => s.id));
  const perSeat = new Map<string, Decimal>();
  for (const balance of held.current) {
    if (balance.seatId === undefined || balance.creditTypeId !== creditTypeId || balance.archivedAt) continue;
    if (!byKey.has(balance.subscriptionConfig?.subscriptionId ?? '')) continue;
    const running = balance.segments.filter((segment) => segment.startingAt <= now && now < segment.endingBefore);
    if (running.length === 0) continue;
    perSeat.set(balance.seatId, sum([perSeat.get(balance.seatId) ?? new Decimal(0), ...running.map((segment) => Decimal.max(segment.ledger.balance, 0))]));
  }
  return perSeat;
}

/**
 * Measures each of `alerts` for one customer as of the clock's now, loading only what they need
 * and each thing once: the customer's account (balances, and the open periods rated and drawn
 * down) for balance, percentage, spend and invoice alerts; the open periods rated per combination
 * of values of group keys for spend alerts on group values; the billing period's usage of a metric
 * for usage alerts.
 *
 * - balance: what can be spent now in the alert's pricing unit (`accounts.spendableBalance`);
 *   nothing to measure when the customer holds no credit or commit of that unit.
 * - credit percentage: the credits (not commits) of the unit with a segment running now: what
 *   remains of those segments over what they granted, × 100.
 * - spend: the open periods' usage charges in the unit before credits (rule 13); on group values
 *   (rule 20), only usage matching every entry with a value counts, and each combination of values
 *   of the entries given alone is rated on its own.
 * - usage: the metric's aggregate over the customer's current billing period.
 * - invoice total: the open periods' draft invoices' totals in the unit (after credits).
 * - seat balance: each seat's own balance (`seatBalances`); one seat's when the alert names it.
 *
 * While an ended period is in its grace period (its invoice still a draft, late usage counting in
 * it), spend, usage and invoice-total alerts measure the greater of that period's figure and the
 * open one's: late usage can cross a threshold of the period it belongs to.
 */
export async function measureAlerts(
  ctx: ServiceContext,
  { tenantId, customerId, alerts }: { tenantId: string; customerId: string; alerts: readonly AlertRow[] },
): Promise<Map<string, Measurement>> {
  let account: Promise<accounts.CustomerAccount> | undefined;
  const accountOf = () => (account ??= accounts.customerAccount(ctx, { tenantId, customerId }));
  const splits = new Map<string, Promise<accounts.RatedPeriod[]>>();
  const splitBy = (keys: string[]) => {
    let rated = splits.get(JSON.stringify(keys));
    if (!rated) splits.set(JSON.stringify(keys), (rated = accounts.rateOpenPeriodsFor(ctx, { tenantId, customerId, splitBy: keys })));
    return rated;
  };
  let billingPeriods: ReturnType<typeof accounts.billingPeriodsInPlay> | undefined;
  const metricIds = [...new Set(alerts.flatMap((alert) => (alert.billable_metric_id ? [alert.billable_metric_id] : [])))];
  const metrics = metricIds.length ? pricing.findBillableMetrics(ctx, { tenantId, ids: metricIds }) : Promise.resolve(new Map<string, pricing.BillableMetric>());
  // Loaded alongside; a failure surfaces where it is awaited, or not at all when an earlier measure failed first.
  metrics.catch(() => undefined);

  const now = ctx.clock.now();
  const measurements = new Map<string, Measurement>();
  for (const alert of alerts) {
    const creditTypeId = creditTypeOf(alert);
    const whole = (value: Decimal | null): Measurement => ({ value, perValue: null });
    switch (measureOf(alert.alert_type)) {
      case 'balance': {
        const held = await accountOf();
        const ofUnit = (balance: accounts.Balance) => balance.creditTypeId === creditTypeId && !balance.archivedAt;
        // Only a customer whose grants of the unit have all long ended needs its settled history looked at.
        const holds = held.current.some(ofUnit) || held.balances.some(ofUnit);
        measurements.set(alert.id, whole(holds ? accounts.spendableBalance(held.current, creditTypeId) : null));
        break;
      }
      case 'credit_percentage': {
        const running = (await accountOf()).current
          .filter((balance) => balance.kind === 'CREDIT' && balance.creditTypeId === creditTypeId && !balance.archivedAt)
          .flatMap((balance) => balance.segments)
          .filter((segment) => segment.startingAt <= now && now < segment.endingBefore);
        const granted = sum(running.map((segment) => segment.amount));
        const remaining = sum(running.map((segment) => Decimal.max(segment.ledger.balance, 0)));
        measurements.set(alert.id, whole(granted.gt(0) ? remaining.div(granted).mul(100) : null));
        break;
      }
      case 'spend': {
        const entries = alert.group_values;
        if (!entries) {
          const { drafts } = await accountOf();
          const spent = (list: readonly accounts.Draft[]) => sum(list.flatMap((draft) => draft.lines).filter((line) => line.creditTypeId === creditTypeId).map((line) => line.total));
          measurements.set(alert.id, whole(drafts.length ? greatestOfPeriods(drafts, now, spent) : null));
          break;
        }
        const rated = await splitBy(entries.map((entry) => entry.key));
        // Each combination's spend in its greatest period: an ended period in its grace period, or the open one.
        const perValue = new Map<string, Decimal>();
        for (const part of partitionByEnded(rated, now)) {
          const spent = spentPerCombination(entries, creditTypeId, part.flatMap((periodRated) => periodRated.lines));
          for (const [combination, value] of spent) perValue.set(combination, Decimal.max(perValue.get(combination) ?? value, value));
        }
        // With every entry given a value there is one combination, the customer's: 0 when nothing matched.
        if (rated.length === 0) measurements.set(alert.id, whole(null));
        else if (!splitsPerCombination(entries)) measurements.set(alert.id, whole(sum(perValue.values())));
        else measurements.set(alert.id, { value: sum(perValue.values()), perValue });
        break;
      }
      case 'usage': {
        const metric = (await metrics).get(alert.billable_metric_id ?? '');
        const periods = await (billingPeriods ??= accounts.billingPeriodsInPlay(ctx, { tenantId, customerId }));
        const values = metric ? await Promise.all(periods.map((open) => usage.metricUsageDuring(ctx, { tenantId, customerId, metric, from: open.startingAt, to: open.endingBefore }))) : [];
        const present = values.filter((value) => value !== null);
        measurements.set(alert.id, whole(present.length ? present.reduce((greatest, value) => Decimal.max(greatest, value)) : null));
        break;
      }
      case 'seat_balance': {
        const perSeat = seatBalances(await accountOf(), alert, creditTypeId, now);
        const watched = alert.group_values?.[0]?.value;
        if (watched !== undefined) measurements.set(alert.id, whole(perSeat.get(watched) ?? null));
        else measurements.set(alert.id, { value: perSeat.size ? sum(perSeat.values()) : null, perValue: perSeat });
        break;
      }
      case 'invoice_total': {
        const owned = (await accountOf()).drafts.filter((draft) => invoices.draftInvoice(draft).creditTypeId === creditTypeId);
        measurements.set(alert.id, whole(owned.length ? greatestOfPeriods(owned, now, (list) => sum(list.map((draft) => invoices.draftInvoice(draft).total))) : null));
        break;
      }
    }
  }
  return measurements;
}
