import { inTransaction, signalAfterCommit, type ServiceContext } from '../../lib/context.js';
import { isUniqueViolation } from '../../lib/db/database.js';
import { Conflict, Invalid, NotFound, Problems } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { toNumericText } from '../../lib/money.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import * as customers from '../customers/service.js';
import * as pricing from '../pricing/service.js';
import * as usage from '../usage/service.js';
import { measureOf } from './compute/alertTypes.js';
import { askedCombination, checkGroupEntries, combinationLabel } from './compute/groupCombinations.js';
import { evaluateCustomer, type Trigger } from './evaluate.js';
import * as repo from './repo.js';
import type { CreateAlertBody } from './schemas.js';

export type Alert = repo.AlertRow;
export type { Trigger };
export { evaluateCustomer };

/**
 * The checks of rule 13's alert types that need the catalog: each refusal names its field, and one
 * 400 names them all (the customer, the metric or pricing unit, the threshold, the group values).
 */
async function checkAlert(ctx: ServiceContext, tenantId: string, body: CreateAlertBody): Promise<void> {
  const problems = new Problems();
  const measure = measureOf(body.alert_type);
  if (body.customer_id !== undefined) {
    const customer = await customers.getCustomer(ctx, { tenantId, customerId: body.customer_id }).catch((error: unknown) => {
      if (error instanceof NotFound) return undefined;
      throw error;
    });
    if (problems.check(customer !== undefined, 'customer_id', `no customer with id ${body.customer_id}`)) {
      problems.check(!customer!.archived_at, 'customer_id', `customer ${body.customer_id} is archived`);
    }
  }
  if (measure === 'usage') {
    if (problems.check(body.billable_metric_id !== undefined, 'billable_metric_id', 'is required for usage_threshold_reached alerts')) {
      const metric = await pricing.findBillableMetric(ctx, { tenantId, billableMetricId: body.billable_metric_id! });
      problems.check(metric !== undefined && !metric.archived_at, 'billable_metric_id', `no billable metric with id ${body.billable_metric_id}`);
    }
    problems.check(body.credit_type_id === undefined, 'credit_type_id', 'does not apply to usage_threshold_reached alerts, which count the metric');
  } else {
    problems.check(body.billable_metric_id === undefined, 'billable_metric_id', 'applies only to usage_threshold_reached alerts');
    const creditTypeId = body.credit_type_id ?? pricing.USD_CREDIT_TYPE_ID;
    const creditType = await pricing.findCreditType(ctx, { tenantId, creditTypeId });
    if (problems.check(creditType !== undefined, 'credit_type_id', `no pricing unit with id ${creditTypeId}`)) {
      problems.check(measure !== 'invoice_total' || creditType!.isCurrency, 'credit_type_id', 'must be a currency: invoice totals are in the rate card’s fiat unit');
    }
  }
  problems.check(measure !== 'credit_percentage' || !(body.threshold.lt(0) || body.threshold.gt(100)), 'threshold', 'is a percentage: 0 to 100');
  if (measure === 'seat_balance') problems.check(body.seat_filter !== undefined, 'seat_filter', 'is required for low_remaining_seat_balance_reached alerts: name the seat_group_key (and a seat_group_value for one seat)');
  else problems.check(body.seat_filter === undefined, 'seat_filter', 'applies only to low_remaining_seat_balance_reached alerts');
  if (body.group_values && problems.check(measure === 'spend', 'group_values', 'applies only to spend_threshold_reached alerts')) {
    const metrics = await usage.liveMetrics(ctx, tenantId);
    const refusal = checkGroupEntries(body.group_values, metrics.flatMap((metric) => metric.group_keys));
    if (refusal) problems.add(refusal.field, refusal.message);
  }
  problems.throwIfAny();
}

/**
 * Creates an alert (`v1.alerts.create`) for one customer or, without `customer_id`, for every
 * customer. A reused `uniqueness_key` is a 409. With `evaluate_on_create` (the default) a
 * customer already past the threshold is in alarm at once and gets its webhook; without it, the
 * states found at creation are recorded silently and only later crossings are announced. One
 * customer's alert is evaluated before the call returns; an all-customer alert in the background
 * (its customers read `evaluating` meanwhile).
 */
export async function createAlert(ctx: ServiceContext, { tenantId, body }: { tenantId: string; body: CreateAlertBody }): Promise<string> {
  await checkAlert(ctx, tenantId, body);
  const alert: Omit<Alert, 'uniqueness_key_released' | 'archived_at'> = {
    tenant_id: tenantId,
    id: newId(),
    name: body.name,
    alert_type: body.alert_type,
    threshold: toNumericText(body.threshold),
    customer_id: body.customer_id?.toLowerCase() ?? null,
    credit_type_id: measureOf(body.alert_type) === 'usage' ? null : (body.credit_type_id ?? pricing.USD_CREDIT_TYPE_ID),
    billable_metric_id: body.billable_metric_id?.toLowerCase() ?? null,
    // A seat alert's seat_filter is kept as its one group entry: each seat a state of its own, like a group value.
    group_values: body.seat_filter ? [{ key: body.seat_filter.seat_group_key, ...(body.seat_filter.seat_group_value !== undefined && { value: body.seat_filter.seat_group_value }) }] : (body.group_values ?? null),
    uniqueness_key: body.uniqueness_key ?? null,
    evaluate_on_create: body.evaluate_on_create ?? true,
    created_at: ctx.clock.now(),
  };
  // The alert and its first evaluation commit together: an evaluation that fails leaves no alert behind.
  await inTransaction(ctx, async (txContext) => {
    try {
      await repo.insertAlert(txContext.db, alert);
    } catch (error) {
      if (isUniqueViolation(error, 'alerts_uniqueness_key')) throw new Conflict(`An alert with uniqueness_key ${body.uniqueness_key} already exists`);
      throw error;
    }
    if (alert.customer_id) {
      const stored = (await repo.findAlert(txContext.db, tenantId, alert.id))!;
      await evaluateCustomer(txContext, { tenantId, customerId: alert.customer_id, alerts: [stored], trigger: 'alert_created' });
    }
  });
  signalAfterCommit(ctx, 'alertsChanged', { tenantId, evaluateEveryCustomer: alert.customer_id === null });
  return alert.id;
}

/** Archives an alert (`v1.alerts.archive`): it stops evaluating; with `release_uniqueness_key` its key may be used again. */
export async function archiveAlert(ctx: ServiceContext, { tenantId, alertId, releaseKey }: { tenantId: string; alertId: string; releaseKey: boolean }): Promise<void> {
  if (!isUuid(alertId) || !(await repo.archiveAlert(ctx.db, tenantId, alertId, { at: ctx.clock.now(), releaseKey }))) {
    throw new NotFound(`No alert ${alertId}`);
  }
  signalAfterCommit(ctx, 'alertsChanged', { tenantId, evaluateEveryCustomer: false });
}

/** An alert as one customer sees it: where it stands for the customer (null once archived), and why. */
export interface CustomerAlertView {
  alert: Alert;
  creditType: { id: string; name: string } | null;
  status: 'ok' | 'in_alarm' | 'evaluating' | null;
  triggeredBy: string | null;
  updatedAt: Date;
  /** For an alert on group keys given alone (each combination on its own): the combinations in alarm (`u1`, or `u1 / t1`), sorted. */
  valuesInAlarm: string[];
}

async function views(ctx: ServiceContext, tenantId: string, customerId: string, alerts: Alert[], groupValue?: string | null): Promise<CustomerAlertView[]> {
  const [states, creditTypes] = await Promise.all([
    repo.statesOf(ctx.db, tenantId, customerId, alerts.map((alert) => alert.id)),
    pricing.findCreditTypes(ctx, { tenantId, creditTypeIds: [...new Set(alerts.flatMap((alert) => (alert.credit_type_id ? [alert.credit_type_id] : [])))] }),
  ]);
  return alerts.map((alert) => {
    const whole = states.find((state) => state.alert_id === alert.id && !state.grouped);
    const value = groupValue == null ? undefined : states.find((state) => state.alert_id === alert.id && state.grouped && state.group_value === groupValue);
    const state = groupValue == null ? whole : value;
    const creditType = alert.credit_type_id ? creditTypes.get(alert.credit_type_id) : undefined;
    // A value with no state yet has spent nothing this period: ok once the alert has been evaluated.
    const status = alert.archived_at ? null : !whole ? 'evaluating' : (state?.status ?? 'ok');
    return {
      alert,
      creditType: creditType ? { id: creditType.id, name: creditType.name } : null,
      status,
      triggeredBy: state?.triggered_by ?? null,
      updatedAt: state?.updated_at ?? alert.created_at,
      valuesInAlarm: states
        .filter((each) => each.alert_id === alert.id && each.grouped && each.status === 'in_alarm')
        .map((each) => combinationLabel(alert.group_values ?? [], each.group_value))
        .sort(),
    };
  });
}

/** The alerts applying to a customer (`v1.customers.alerts.list`): enabled ones, or those of `statuses`, by id, 100 a page. */
export async function listCustomerAlerts(
  ctx: ServiceContext,
  { tenantId, customerId, statuses, nextPage }: { tenantId: string; customerId: string; statuses: ('ENABLED' | 'DISABLED' | 'ARCHIVED')[] | undefined; nextPage: string | undefined },
): Promise<{ alerts: CustomerAlertView[]; nextPage: string | null }> {
  await customers.getCustomer(ctx, { tenantId, customerId });
  const wanted = new Set(statuses ?? ['ENABLED']);
  const limit = 100;
  const rows = await repo.customerAlerts(ctx.db, tenantId, customerId.toLowerCase(), {
    live: wanted.has('ENABLED'),
    archived: wanted.has('ARCHIVED'),
    afterId: nextPage ? decodeCursor(nextPage) : null,
    limit: limit + 1,
  });
  const page = toPage(rows, limit);
  return { alerts: await views(ctx, tenantId, customerId.toLowerCase(), page.rows), nextPage: page.nextPage };
}

async function customerAlert(ctx: ServiceContext, tenantId: string, customerId: string, alertId: string): Promise<Alert> {
  await customers.getCustomer(ctx, { tenantId, customerId });
  const alert = isUuid(alertId) ? await repo.findAlert(ctx.db, tenantId, alertId) : undefined;
  if (!alert || (alert.customer_id !== null && alert.customer_id !== customerId.toLowerCase())) throw new NotFound(`No alert ${alertId} for customer ${customerId}`);
  return alert;
}

/**
 * One alert for one customer (`v1.customers.alerts.retrieve`). For a spend alert with group keys
 * given alone, `groupValues` naming every key of the alert with a value asks where one
 * combination stands; without it, the customer is in alarm while any combination is.
 */
export async function getCustomerAlert(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    alertId,
    groupValues,
    seatFilter,
  }: { tenantId: string; customerId: string; alertId: string; groupValues?: { key: string; value: string }[] | undefined; seatFilter?: { seat_group_key: string; seat_group_value: string } | undefined },
): Promise<CustomerAlertView> {
  const alert = await customerAlert(ctx, tenantId, customerId, alertId);
  let combination: string | null = null;
  if (seatFilter) {
    const seatAlert = measureOf(alert.alert_type) === 'seat_balance';
    if (!seatAlert) throw new Invalid('seat_filter', 'applies only to low_remaining_seat_balance_reached alerts');
    if (alert.group_values?.[0]?.key !== seatFilter.seat_group_key) throw new Invalid('seat_filter.seat_group_key', `this alert watches seats by ${alert.group_values?.[0]?.key}`);
    const watched = alert.group_values[0].value;
    if (watched !== undefined && watched !== seatFilter.seat_group_value) throw new Invalid('seat_filter.seat_group_value', `this alert watches seat ${watched} only`);
    // An alert on one seat has the customer's state only; one on every seat, a state per seat.
    if (watched === undefined) combination = seatFilter.seat_group_value;
  }
  if (groupValues?.length) {
    if (!alert.group_values) throw new Invalid('group_values', 'this alert does not watch a group key');
    const asked = askedCombination(alert.group_values, groupValues);
    if ('field' in asked) throw new Invalid(asked.field, asked.message);
    combination = asked.combination;
  }
  return (await views(ctx, tenantId, customerId.toLowerCase(), [alert], combination))[0]!;
}

/**
 * Resets an alert for a customer (`v1.customers.alerts.reset`): its states are forgotten and it is
 * evaluated again at once, so a customer still past the threshold is in alarm again, with a new
 * webhook.
 */
export async function resetCustomerAlert(ctx: ServiceContext, { tenantId, customerId, alertId }: { tenantId: string; customerId: string; alertId: string }): Promise<void> {
  const alert = await customerAlert(ctx, tenantId, customerId, alertId);
  if (alert.archived_at) throw new Conflict(`Alert ${alertId} is archived`);
  await evaluateCustomer(ctx, { tenantId, customerId: customerId.toLowerCase(), alerts: [alert], trigger: 'reset', reset: true });
}
