import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, type Api } from './api.js';

export const POOL_ALERT = 'Pool below 20%';
export const HEAVY_USER_ALERT = 'Heavy user';

const POOL_ALERT_TYPE = 'low_remaining_contract_credit_and_commit_balance_reached';
const SPEND_ALERT_TYPE = 'spend_threshold_reached';

export type AlertStatus = 'ok' | 'in_alarm' | 'evaluating';

/** One of the customer's alerts as `POST /v1/customer-alerts/list` (and `get`) reports it. */
export interface DemoAlert {
  id: string;
  name: string;
  type: string;
  threshold: number;
  /** The pricing unit's name, when the alert has one. */
  unit: string | null;
  /** What the alert splits by: `user_id` for each value on its own, `user_id=ada@…` for one value; null for the whole customer. */
  groupKey: string | null;
  status: AlertStatus | null;
  /** For an alert on every value of `user_id`: each top user's status by `customer-alerts/get`, in the order given. */
  users?: Array<{ name: string; status: AlertStatus | null }>;
}

interface WireCustomerAlert {
  alert: {
    id: string;
    name: string;
    type: string;
    threshold: number;
    credit_type?: { id: string; name: string } | null;
    group_values?: Array<{ key: string; value?: string }>;
  };
  customer_status: AlertStatus | null;
}

/** Runs `call`, or answers undefined when the server has no such route (an Allot from before alerts). */
async function unlessMissing<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * The demo's two alerts on the customer: the pool down to `poolThreshold` AI credits, and any one
 * user's spend this period up to `heavyUserThreshold` AI credits. False when the server has no
 * `POST /v1/alerts/create`.
 */
export async function createDemoAlerts(
  api: Api,
  { customerId, aiCreditsId, poolThreshold, heavyUserThreshold }: { customerId: string; aiCreditsId: string; poolThreshold: number; heavyUserThreshold: number },
): Promise<boolean> {
  const create = (body: Record<string, unknown>) => unlessMissing(() => api.post<{ data: { id: string } }>('/v1/alerts/create', { customer_id: customerId, credit_type_id: aiCreditsId, ...body }));
  const pool = await create({ alert_type: POOL_ALERT_TYPE, name: POOL_ALERT, threshold: poolThreshold });
  if (!pool) return false;
  await create({ alert_type: SPEND_ALERT_TYPE, name: HEAVY_USER_ALERT, threshold: heavyUserThreshold, group_values: [{ key: 'user_id' }] });
  return true;
}

/** What the demo's usage should have made of the alerts, from the figures read back after it. */
export interface AlertExpectation {
  aiCreditsId: string;
  poolBalance: number;
  /** Each user's spend this period in AI credits (usage × rate, before credits). */
  spendByUser: Map<string, number>;
}

/** The status `alert` should have once evaluated on the figures of `expect`, when the demo can tell. */
function expected(alert: DemoAlert & { creditTypeId: string | null }, expect: AlertExpectation, user?: string): AlertStatus | undefined {
  if (alert.creditTypeId !== expect.aiCreditsId) return undefined;
  if (alert.type === POOL_ALERT_TYPE && !alert.groupKey) return expect.poolBalance <= alert.threshold ? 'in_alarm' : 'ok';
  if (alert.type === SPEND_ALERT_TYPE && alert.groupKey === 'user_id') {
    const crosses = (spend: number | undefined) => (spend ?? 0) >= alert.threshold;
    if (user !== undefined) return crosses(expect.spendByUser.get(user)) ? 'in_alarm' : 'ok';
    return [...expect.spendByUser.values()].some(crosses) ? 'in_alarm' : 'ok';
  }
  return undefined;
}

const POLL_EVERY_MS = 150;
const POLL_FOR_MS = 5_000;

/**
 * The customer's alerts with their `customer_status`, and for an alert on every `user_id`, the
 * status of each of `topUsers`. Alerts are evaluated asynchronously after each ingest commit, so
 * this asks again (every 150 ms, for at most 5 s) while an alert is `evaluating` or, given
 * `expect` (usage was just sent), while a status the demo can predict from the figures read back
 * is not that yet: balances only fall and spend only grows as usage arrives, so a predicted status
 * reached is the final one. Null when the server has no alerts.
 */
export async function readAlerts(
  api: Api,
  { customerId, topUsers, expect }: { customerId: string; topUsers: string[]; expect?: AlertExpectation },
): Promise<DemoAlert[] | null> {
  const deadline = Date.now() + POLL_FOR_MS;
  for (;;) {
    const alerts = await readOnce(api, customerId, topUsers);
    if (!alerts) return null;
    const settled = alerts.every(
      (alert) =>
        alert.status !== 'evaluating' &&
        (alert.users ?? []).every((user) => user.status !== 'evaluating') &&
        (!expect ||
          ((expected(alert, expect) ?? alert.status) === alert.status &&
            (alert.users ?? []).every((user) => (expected(alert, expect, user.name) ?? user.status) === user.status))),
    );
    if (settled || Date.now() >= deadline) return alerts.map(({ creditTypeId: _, ...alert }) => alert);
    await sleep(POLL_EVERY_MS);
  }
}

async function readOnce(api: Api, customerId: string, topUsers: string[]): Promise<Array<DemoAlert & { creditTypeId: string | null }> | undefined> {
  const listed: WireCustomerAlert[] = [];
  for (let page: string | null = ''; page !== null; ) {
    const answer = await unlessMissing(() =>
      api.post<{ data: WireCustomerAlert[]; next_page: string | null }>(`/v1/customer-alerts/list${page ? `?next_page=${encodeURIComponent(page)}` : ''}`, {
        customer_id: customerId,
      }),
    );
    if (!answer) return undefined;
    listed.push(...answer.data);
    page = answer.next_page;
  }
  return Promise.all(
    listed.map(async ({ alert, customer_status }) => {
      const watched = alert.group_values?.[0];
      const groupKey = watched && watched.value === undefined ? watched.key : null;
      const users =
        groupKey === 'user_id'
          ? await Promise.all(
              topUsers.map(async (name) => {
                const answer = await api.post<{ data: WireCustomerAlert }>('/v1/customer-alerts/get', {
                  customer_id: customerId,
                  alert_id: alert.id,
                  group_values: [{ key: groupKey, value: name }],
                });
                return { name, status: answer.data.customer_status };
              }),
            )
          : undefined;
      return {
        id: alert.id,
        name: alert.name,
        type: alert.type,
        threshold: alert.threshold,
        unit: alert.credit_type?.name ?? null,
        creditTypeId: alert.credit_type?.id ?? null,
        groupKey: watched ? (watched.value === undefined ? watched.key : `${watched.key}=${watched.value}`) : null,
        status: customer_status,
        ...(users && { users }),
      };
    }),
  );
}
