import type { ServiceContext } from '../../lib/context.js';
import { Decimal } from '../../lib/money.js';
import * as accounts from '../account/service.js';
import * as invoices from '../invoices/service.js';
import * as pricing from '../pricing/service.js';
import * as usage from '../usage/service.js';
import { measureOf } from './compute/alertTypes.js';
import type { AlertRow } from './repo.js';

/** What an alert measures for one customer: the customer's value (null: nothing to measure), and per value of a group key alone. */
export interface Measurement {
  value: Decimal | null;
  perValue: Map<string, Decimal> | null;
}

export function creditTypeOf(alert: Pick<AlertRow, 'credit_type_id'>): string {
  return alert.credit_type_id ?? pricing.USD_CREDIT_TYPE_ID;
}

const sum = (values: Iterable<Decimal>) => [...values].reduce((total, value) => total.add(value), new Decimal(0));

/**
 * Measures each of `alerts` for one customer as of the clock's now, loading only what they need
 * and each thing once: the customer's account (balances, and the open periods rated and drawn
 * down) for balance, percentage, spend and invoice alerts; the open periods rated per value of a
 * group key for spend alerts on one; the billing period's usage of a metric for usage alerts.
 *
 * - balance: what can be spent now in the alert's pricing unit (`accounts.spendableBalance`);
 *   nothing to measure when the customer holds no credit or commit of that unit.
 * - credit percentage: the credits (not commits) of the unit with a segment running now: what
 *   remains of those segments over what they granted, × 100.
 * - spend: the open periods' usage charges in the unit before credits (rule 13); per group value,
 *   each value's usage rated on its own.
 * - usage: the metric's aggregate over the customer's current billing period.
 * - invoice total: the open periods' draft invoices' totals in the unit (after credits).
 */
export async function measureAlerts(
  ctx: ServiceContext,
  { tenantId, customerId, alerts }: { tenantId: string; customerId: string; alerts: readonly AlertRow[] },
): Promise<Map<string, Measurement>> {
  let account: Promise<accounts.CustomerAccount> | undefined;
  const accountOf = () => (account ??= accounts.customerAccount(ctx, { tenantId, customerId }));
  const splits = new Map<string, Promise<Awaited<ReturnType<typeof accounts.rateOpenPeriodsFor>>>>();
  const splitBy = (key: string) => {
    let rated = splits.get(key);
    if (!rated) splits.set(key, (rated = accounts.rateOpenPeriodsFor(ctx, { tenantId, customerId, splitBy: key })));
    return rated;
  };
  let period: ReturnType<typeof accounts.openStatementPeriod> | undefined;
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
        const { balances } = await accountOf();
        const held = balances.some((balance) => balance.creditTypeId === creditTypeId && !balance.archivedAt);
        measurements.set(alert.id, whole(held ? accounts.spendableBalance(balances, creditTypeId) : null));
        break;
      }
      case 'credit_percentage': {
        const running = (await accountOf()).balances
          .filter((balance) => balance.kind === 'CREDIT' && balance.creditTypeId === creditTypeId && !balance.archivedAt)
          .flatMap((balance) => balance.segments)
          .filter((segment) => segment.startingAt <= now && now < segment.endingBefore);
        const granted = sum(running.map((segment) => segment.amount));
        const remaining = sum(running.map((segment) => Decimal.max(segment.ledger.balance, 0)));
        measurements.set(alert.id, whole(granted.gt(0) ? remaining.div(granted).mul(100) : null));
        break;
      }
      case 'spend': {
        const group = alert.group_values?.[0];
        if (!group) {
          const { drafts } = await accountOf();
          const lines = drafts.flatMap((draft) => draft.lines).filter((line) => line.creditTypeId === creditTypeId);
          measurements.set(alert.id, whole(drafts.length ? sum(lines.map((line) => line.total)) : null));
          break;
        }
        const rated = await splitBy(group.key);
        const perValue = new Map<string, Decimal>();
        for (const line of rated.flatMap((periodRated) => periodRated.lines)) {
          if (line.creditTypeId !== creditTypeId || line.splitValue === undefined) continue;
          perValue.set(line.splitValue, (perValue.get(line.splitValue) ?? new Decimal(0)).add(line.total));
        }
        if (rated.length === 0) measurements.set(alert.id, whole(null));
        else if (group.value !== undefined) measurements.set(alert.id, whole(perValue.get(group.value) ?? new Decimal(0)));
        else measurements.set(alert.id, { value: sum(perValue.values()), perValue });
        break;
      }
      case 'usage': {
        const metric = (await metrics).get(alert.billable_metric_id ?? '');
        const open = await (period ??= accounts.openStatementPeriod(ctx, { tenantId, customerId }));
        const value = metric && open ? await usage.metricUsageDuring(ctx, { tenantId, customerId, metric, from: open.startingAt, to: open.endingBefore }) : null;
        measurements.set(alert.id, whole(value));
        break;
      }
      case 'invoice_total': {
        const owned = (await accountOf()).drafts.map(invoices.draftInvoice).filter((invoice) => invoice.creditTypeId === creditTypeId);
        measurements.set(alert.id, whole(owned.length ? sum(owned.map((invoice) => invoice.total)) : null));
        break;
      }
    }
  }
  return measurements;
}
