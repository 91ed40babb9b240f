import { z } from 'zod';
import type { App } from '../../http/types.js';
import { wireNumber, Decimal } from '../../lib/money.js';
import { toRfc3339 } from '../../lib/time.js';
import * as schemas from './schemas.js';
import * as service from './service.js';

function toCustomerAlert(view: service.CustomerAlertView): schemas.WireCustomerAlert {
  const { alert } = view;
  return {
    alert: {
      id: alert.id,
      name: alert.name,
      status: alert.archived_at ? 'archived' : 'enabled',
      threshold: wireNumber(new Decimal(alert.threshold)),
      type: alert.alert_type,
      updated_at: toRfc3339(view.updatedAt),
      credit_type: view.creditType,
      ...(alert.group_values &&
        (alert.alert_type === 'low_remaining_seat_balance_reached'
          ? { seat_filter: { seat_group_key: alert.group_values[0]!.key, ...(alert.group_values[0]!.value !== undefined && { seat_group_value: alert.group_values[0]!.value }) } }
          : { group_values: alert.group_values })),
      ...(alert.uniqueness_key !== null && { uniqueness_key: alert.uniqueness_key }),
      ...(alert.billable_metric_id !== null && { billable_metric_id: alert.billable_metric_id }),
    },
    customer_status: view.status,
    triggered_by: view.triggeredBy,
  };
}

const idResponse = z.object({ data: z.object({ id: z.string() }) });

/** Alerts, at the Metronome paths (`v1.alerts.*` and `v1.customers.alerts.*` in the SDK). */
export function registerAlertRoutes(app: App): void {
  const tags = ['alerts'];

  app.post('/v1/alerts/create', { schema: { tags, body: schemas.createAlertBody, response: { 200: idResponse } } }, async (request) => ({
    data: { id: await service.createAlert(request.context, { tenantId: request.auth.tenantId, body: request.body }) },
  }));

  app.post('/v1/alerts/archive', { schema: { tags, body: schemas.archiveAlertBody, response: { 200: idResponse } } }, async (request) => {
    await service.archiveAlert(request.context, {
      tenantId: request.auth.tenantId,
      alertId: request.body.id,
      releaseKey: request.body.release_uniqueness_key ?? false,
    });
    return { data: { id: request.body.id } };
  });

  app.post(
    '/v1/customer-alerts/list',
    {
      schema: {
        tags,
        body: schemas.customerAlertListBody,
        querystring: schemas.customerAlertListQuery,
        response: { 200: z.object({ data: z.array(schemas.customerAlert), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { alerts, nextPage } = await service.listCustomerAlerts(request.context, {
        tenantId: request.auth.tenantId,
        customerId: request.body.customer_id,
        statuses: request.body.alert_statuses?.map((status) => status.toUpperCase() as 'ENABLED' | 'DISABLED' | 'ARCHIVED'),
        nextPage: request.query.next_page,
      });
      return { data: alerts.map(toCustomerAlert), next_page: nextPage };
    },
  );

  app.post(
    '/v1/customer-alerts/get',
    { schema: { tags, body: schemas.customerAlertGetBody, response: { 200: z.object({ data: schemas.customerAlert }) } } },
    async (request) => {
      const view = await service.getCustomerAlert(request.context, {
        tenantId: request.auth.tenantId,
        customerId: request.body.customer_id,
        alertId: request.body.alert_id,
        groupValues: request.body.group_values,
        seatFilter: request.body.seat_filter,
      });
      return { data: toCustomerAlert(view) };
    },
  );

  app.post('/v1/customer-alerts/reset', { schema: { tags, body: schemas.customerAlertResetBody } }, async (request, reply) => {
    await service.resetCustomerAlert(request.context, { tenantId: request.auth.tenantId, customerId: request.body.customer_id, alertId: request.body.alert_id });
    return reply.code(200).send();
  });
}
