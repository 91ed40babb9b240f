import type { ServiceContext } from '../../lib/context.js';
import { databaseWithin } from '../../lib/db/database.js';
import { Decimal, wireNumber } from '../../lib/money.js';
import { toRfc3339 } from '../../lib/time.js';
import * as customers from '../customers/service.js';
import * as webhooks from '../webhooks/service.js';
import { directionOf, measureOf } from './compute/alertTypes.js';
import { groupValuesOf } from './compute/groupCombinations.js';
import { planStates, type State, type Transition } from './compute/planStates.js';
import { creditTypeOf, measureAlerts, type Measurement } from './measure.js';
import * as repo from './repo.js';

/** Why an evaluation ran: named in `triggered_by` of the states it changes and of their webhooks. */
export type Trigger = 'usage' | 'contract' | 'balance' | 'schedule' | 'alert_created' | 'reset';

/** The webhook of a transition: `alerts.<type>` on alarm, its `…_resolved` twin when it clears, Metronome's properties. */
function transitionEvent(alert: repo.AlertRow, customerId: string, transition: Transition, { at, trigger }: { at: Date; trigger: Trigger }) {
  const value = transition.value === null ? null : wireNumber(transition.value);
  const properties: Record<string, unknown> = {
    customer_id: customerId,
    alert_id: alert.id,
    alert_name: alert.name,
    timestamp: toRfc3339(at),
    threshold: wireNumber(new Decimal(alert.threshold)),
    triggered_by: trigger,
  };
  switch (measureOf(alert.alert_type)) {
    case 'balance':
      Object.assign(properties, { credit_type_id: creditTypeOf(alert), remaining_balance: value });
      break;
    case 'credit_percentage':
      Object.assign(properties, { credit_type_id: creditTypeOf(alert), remaining_percentage: value });
      break;
    case 'spend':
      Object.assign(properties, { credit_type_id: creditTypeOf(alert), current_spend: value });
      if (alert.group_values) properties.group_values = groupValuesOf(alert.group_values, transition.groupValue);
      break;
    case 'usage':
      Object.assign(properties, { billable_metric_id: alert.billable_metric_id, current_usage: value });
      break;
    case 'invoice_total':
      Object.assign(properties, { credit_type_id: creditTypeOf(alert), invoice_total: value });
      break;
    case 'seat_balance': {
      // The seat the crossing is about: the one watched, or the state's own.
      const entry = alert.group_values![0]!;
      const seat = entry.value ?? transition.groupValue ?? undefined;
      Object.assign(properties, { credit_type_id: creditTypeOf(alert), remaining_balance: value, seat_filter: { seat_group_key: entry.key, ...(seat !== undefined && { seat_group_value: seat }) } });
      break;
    }
  }
  const type = transition.to === 'in_alarm' ? webhooks.reachedEventType(alert.alert_type) : webhooks.resolvedEventType(alert.alert_type);
  return { type, fields: { properties } };
}

/** What an evaluation would write: changed or new states, and the transitions to announce, per alert. */
function planEvaluation(
  alerts: readonly repo.AlertRow[],
  measurements: ReadonlyMap<string, Measurement>,
  storedRows: readonly repo.StateRow[],
  silent: ReadonlySet<string>,
  trigger: Trigger,
): { rows: repo.NewState[]; transitions: { alert: repo.AlertRow; transition: Transition }[] } {
  const rows: repo.NewState[] = [];
  const transitions: { alert: repo.AlertRow; transition: Transition }[] = [];
  for (const alert of alerts) {
    const own = storedRows.filter((row) => row.alert_id === alert.id);
    const stored: State[] = own.map((row) => ({
      groupValue: row.grouped ? row.group_value : null,
      status: row.status,
      value: row.value === null ? null : new Decimal(row.value),
    }));
    const measurement = measurements.get(alert.id) ?? { value: null, perValue: null };
    const plan = planStates({
      direction: directionOf(alert.alert_type),
      threshold: new Decimal(alert.threshold),
      measured: measurement.value,
      perValue: measurement.perValue,
      stored,
      announce: !silent.has(alert.id),
      // A seat no longer measured holds no credit of its own any more: nothing to watch, not an empty balance.
      absentIsNothing: measureOf(alert.alert_type) === 'seat_balance',
    });
    // Only what is new or changed status is written: an evaluation that changes nothing writes nothing.
    const before = new Map(stored.map((state) => [state.groupValue, state.status]));
    for (const state of plan.states) {
      if (before.get(state.groupValue) === state.status) continue;
      rows.push({ alertId: alert.id, groupValue: state.groupValue, status: state.status, value: state.value, triggeredBy: trigger });
    }
    for (const transition of plan.transitions) transitions.push({ alert, transition });
  }
  return { rows, transitions };
}

/** The alerts never looked at for this customer (no state of their own stored yet). */
const firstLooksOf = (alerts: readonly repo.AlertRow[], storedRows: readonly repo.StateRow[]) =>
  alerts.filter((alert) => !storedRows.some((row) => row.alert_id === alert.id && !row.grouped));

/**
 * Evaluates `alerts` for one customer as of the clock's now ([rule 13](../../../docs/rules.md#13-alerts))
 * and records where each stands; every crossing (ok → in_alarm, or back) writes its webhook to
 * the outbox in the same transaction. Evaluations of one customer are serialised across processes
 * by a lock taken before measuring, so each one sees what the previous wrote, and a crossing is
 * announced once however many ingest commits race to report it.
 *
 * Most evaluations change nothing (usage moved, no threshold was crossed): those are found without
 * the lock or a transaction, by measuring (through the account engine's kept accounts) and
 * comparing with the stored states, read in one statement with a check that no locked evaluation
 * of the customer is under way (one that takes the lock afterwards measures after this look did). Only when
 * something would change, or one is under way, is the customer evaluated again under the lock.
 *
 * The first look of an alert created with `evaluate_on_create: false` at a customer that existed
 * before it is recorded without announcing anything; whichever process takes that look, the rule
 * is read from the stored alert. With `reset`, the alerts' states are forgotten first (in the same
 * transaction) and the new look is announced. Returns the webhooks written.
 */
export async function evaluateCustomer(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    alerts,
    trigger,
    reset = false,
  }: { tenantId: string; customerId: string; alerts: readonly repo.AlertRow[]; trigger: Trigger; reset?: boolean },
): Promise<number> {
  if (alerts.length === 0) return 0;
  const alertIds = alerts.map((alert) => alert.id);
  if (!reset && !ctx.db.transactional) {
    // Measured first; then, in one statement, whether a locked evaluation is under way (one that
    // takes the lock later measures after this did) and, when none is, the stored states.
    const measurements = await measureAlerts(ctx, { tenantId, customerId, alerts });
    const storedRows = await repo.statesUnlessEvaluating(ctx.db, tenantId, customerId, alertIds);
    if (storedRows) {
      const unchanged = planEvaluation(alerts, measurements, storedRows, new Set(), trigger);
      if (firstLooksOf(alerts, storedRows).length === 0 && unchanged.rows.length === 0 && unchanged.transitions.length === 0) return 0;
    }
  }
  const written = await ctx.db.transaction(async (tx) => {
    const txContext: ServiceContext = { db: databaseWithin(tx, ctx.db.engine), clock: ctx.clock, invoiceGracePeriodHours: ctx.invoiceGracePeriodHours };
    await repo.lockCustomerEvaluation(tx, tenantId, customerId);
    if (reset) for (const alert of alerts) await repo.deleteStates(tx, tenantId, customerId, alert.id);
    const now = ctx.clock.now();
    // On PostgreSQL the measures read committed state outside this transaction, through the account
    // engine's kept accounts; under the lock taken above, that is at least what any earlier
    // evaluation saw. PGlite runs one transaction at a time: there they read inside this one.
    const measureContext = ctx.db.engine === 'postgres' && !ctx.db.transactional ? ctx : txContext;
    const [measurements, storedRows] = await Promise.all([measureAlerts(measureContext, { tenantId, customerId, alerts }), repo.statesOf(tx, tenantId, customerId, alertIds)]);
    const firstLooks = firstLooksOf(alerts, storedRows);
    const silent = new Set<string>();
    if (!reset && firstLooks.some((alert) => !alert.evaluate_on_create)) {
      const customer = await customers.getCustomer(txContext, { tenantId, customerId });
      // Both ids are UUIDv7 from the wall clock: the customer existed first when its id sorts first.
      for (const alert of firstLooks) if (!alert.evaluate_on_create && customer.id < alert.id) silent.add(alert.id);
    }
    const { rows, transitions } = planEvaluation(alerts, measurements, storedRows, silent, trigger);
    for (const { alert, transition } of transitions) {
      const event = transitionEvent(alert, customerId, transition, { at: now, trigger });
      await webhooks.enqueueWebhookEvent(tx, { tenantId, type: event.type, fields: event.fields, at: now });
    }
    await repo.writeStates(tx, tenantId, customerId, rows, now);
    return transitions.length;
  });
  if (written > 0) webhooks.signalOutboxWritten(ctx, tenantId);
  return written;
}
