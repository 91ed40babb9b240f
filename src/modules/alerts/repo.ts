import type { Queryable } from '../../lib/db/database.js';
import { toNumericText, type Decimal } from '../../lib/money.js';
import type { AlertType } from './compute/alertTypes.js';
import type { Status } from './compute/planStates.js';

export interface AlertRow {
  tenant_id: string;
  id: string;
  name: string;
  alert_type: AlertType;
  threshold: string;
  customer_id: string | null;
  credit_type_id: string | null;
  billable_metric_id: string | null;
  group_values: { key: string; value?: string }[] | null;
  uniqueness_key: string | null;
  uniqueness_key_released: boolean;
  evaluate_on_create: boolean;
  created_at: Date;
  archived_at: Date | null;
}

const ALERT_COLUMNS = `tenant_id, id, name, alert_type, threshold, customer_id, credit_type_id, billable_metric_id, group_values,
  uniqueness_key, uniqueness_key_released, evaluate_on_create, created_at, archived_at`;

export async function insertAlert(tx: Queryable, row: Omit<AlertRow, 'uniqueness_key_released' | 'archived_at'>): Promise<void> {
  await tx.query(
    `INSERT INTO alerts (${ALERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, false, $11, $12, NULL)`,
    [
      row.tenant_id,
      row.id,
      row.name,
      row.alert_type,
      row.threshold,
      row.customer_id,
      row.credit_type_id,
      row.billable_metric_id,
      row.group_values === null ? null : JSON.stringify(row.group_values),
      row.uniqueness_key,
      row.evaluate_on_create,
      row.created_at,
    ],
  );
}

export async function findAlert(tx: Queryable, tenantId: string, alertId: string): Promise<AlertRow | undefined> {
  const [row] = await tx.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE tenant_id = $1 AND id = $2`, [tenantId, alertId]);
  return row;
}

/** Archives the alert (keeping its first archive time); with `releaseKey`, its uniqueness key may be used again. False when there is no such alert. */
export async function archiveAlert(tx: Queryable, tenantId: string, alertId: string, { at, releaseKey }: { at: Date; releaseKey: boolean }): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE alerts SET archived_at = COALESCE(archived_at, $3), uniqueness_key_released = uniqueness_key_released OR $4
      WHERE tenant_id = $1 AND id = $2 RETURNING id`,
    [tenantId, alertId, at, releaseKey],
  );
  return rows.length > 0;
}

/** The tenant's live alerts (not archived), oldest first. */
export async function liveAlerts(tx: Queryable, tenantId: string): Promise<AlertRow[]> {
  return tx.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY id`, [tenantId]);
}

/** Tenants with at least one live alert. */
export async function tenantsWithAlerts(tx: Queryable): Promise<string[]> {
  const rows = await tx.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM alerts WHERE archived_at IS NULL`);
  return rows.map((row) => row.tenant_id);
}

/** The alerts that apply to a customer (its own and the all-customer ones), by id, `statuses` of enabled / archived. */
export async function customerAlerts(
  tx: Queryable,
  tenantId: string,
  customerId: string,
  { archived, live, afterId, limit }: { archived: boolean; live: boolean; afterId: string | null; limit: number },
): Promise<AlertRow[]> {
  return tx.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts
      WHERE tenant_id = $1 AND (customer_id IS NULL OR customer_id = $2)
        AND ((archived_at IS NULL AND $3) OR (archived_at IS NOT NULL AND $4))
        AND ($5::uuid IS NULL OR id > $5::uuid)
      ORDER BY id LIMIT $6`,
    [tenantId, customerId, live, archived, afterId, limit],
  );
}

export interface StateRow {
  alert_id: string;
  grouped: boolean;
  group_value: string;
  status: Status;
  value: string | null;
  triggered_by: string | null;
  updated_at: Date;
}

export async function statesOf(tx: Queryable, tenantId: string, customerId: string, alertIds: readonly string[]): Promise<StateRow[]> {
  if (alertIds.length === 0) return [];
  return tx.query<StateRow>(
    `SELECT alert_id, grouped, group_value, status, value, triggered_by, updated_at FROM alert_states
      WHERE tenant_id = $1 AND customer_id = $2 AND alert_id = ANY($3::uuid[])`,
    [tenantId, customerId, alertIds],
  );
}

export interface NewState {
  alertId: string;
  groupValue: string | null;
  status: Status;
  value: Decimal | null;
  triggeredBy: string | null;
}

/** Writes the states of one customer whose status is new or changed: inserted, or updated in place. */
export async function writeStates(tx: Queryable, tenantId: string, customerId: string, states: readonly NewState[], at: Date): Promise<void> {
  if (states.length === 0) return;
  await tx.query(
    `INSERT INTO alert_states (tenant_id, alert_id, customer_id, grouped, group_value, status, value, triggered_by, updated_at)
     SELECT $1, s.alert_id, $2, s.grouped, s.group_value, s.status, s.value, s.triggered_by, $3
       FROM unnest($4::uuid[], $5::boolean[], $6::text[], $7::text[], $8::numeric[], $9::text[])
            AS s (alert_id, grouped, group_value, status, value, triggered_by)
     ON CONFLICT (tenant_id, alert_id, customer_id, grouped, group_value) DO UPDATE
        SET status = EXCLUDED.status,
            value = EXCLUDED.value,
            triggered_by = EXCLUDED.triggered_by,
            updated_at = EXCLUDED.updated_at`,
    [
      tenantId,
      customerId,
      at,
      states.map((s) => s.alertId),
      states.map((s) => s.groupValue !== null),
      states.map((s) => s.groupValue ?? ''),
      states.map((s) => s.status),
      states.map((s) => (s.value === null ? null : toNumericText(s.value))),
      states.map((s) => s.triggeredBy),
    ],
  );
}

/** Forgets every state of an alert for a customer (reset): the next evaluation starts from ok. */
export async function deleteStates(tx: Queryable, tenantId: string, customerId: string, alertId: string): Promise<void> {
  await tx.query(`DELETE FROM alert_states WHERE tenant_id = $1 AND customer_id = $2 AND alert_id = $3`, [tenantId, customerId, alertId]);
}

/**
 * Serialises the evaluations of one customer until the transaction ends, across processes: each
 * one measures after the previous has written, so a crossing is announced once.
 */
export async function lockCustomerEvaluation(tx: Queryable, tenantId: string, customerId: string): Promise<void> {
  // Keyed on the ids as uuids, so that every spelling of an id takes the same lock.
  await tx.query(`SELECT pg_advisory_xact_lock(${EVALUATION_LOCK})`, [tenantId, customerId]);
}

const EVALUATION_LOCK = `hashtextextended('allot.alerts.customer:' || $1::uuid::text || ':' || $2::uuid::text, 0)`;

/**
 * The customer's states of `alertIds`, unless an evaluation of the customer holds its lock now
 * (in any process): undefined then. One statement outside a transaction: the lock, when free, is
 * taken first and let go when the statement ends.
 */
export async function statesUnlessEvaluating(db: Queryable, tenantId: string, customerId: string, alertIds: readonly string[]): Promise<StateRow[] | undefined> {
  const rows = await db.query<StateRow & { free: boolean }>(
    `WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(${EVALUATION_LOCK}) AS free)
     SELECT lock.free, s.alert_id, s.grouped, s.group_value, s.status, s.value, s.triggered_by, s.updated_at
       FROM lock LEFT JOIN alert_states s
         ON lock.free AND s.tenant_id = $1 AND s.customer_id = $2 AND s.alert_id = ANY($3::uuid[])`,
    [tenantId, customerId, alertIds],
  );
  if (!rows[0]?.free) return undefined;
  return rows.filter((row) => row.alert_id !== null).map(({ free: _free, ...state }) => state);
}
