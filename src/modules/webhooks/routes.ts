import { z } from 'zod';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import * as schemas from './schemas.js';
import * as service from './service.js';
import type { WebhookSettings } from './settings.js';

const tags = ['allot'];

function toEndpoint(row: service.Endpoint): z.infer<typeof schemas.endpoint> {
  return {
    id: row.id,
    url: row.url,
    secret: row.secret,
    event_types: row.event_types,
    description: row.description,
    created_at: toRfc3339(row.created_at),
    archived_at: row.archived_at && toRfc3339(row.archived_at),
  };
}

function toDelivery(row: service.Delivery, configuredMaxAttempts: number): z.infer<typeof schemas.delivery> {
  const maxAttempts = row.max_attempts ?? configuredMaxAttempts;
  return {
    id: row.id,
    event_id: row.event_id,
    event_type: row.event_type,
    status: row.status,
    attempt_count: row.attempts,
    max_attempts: maxAttempts,
    next_attempt_at: row.status === 'pending' && row.next_attempt_at ? toRfc3339(row.next_attempt_at) : null,
    created_at: toRfc3339(row.created_at),
    finished_at: row.finished_at && toRfc3339(row.finished_at),
    failure_reason: service.failureReason({ ...row, max_attempts: maxAttempts }),
    body: row.body,
    attempts: row.attempt_list.map((attempt) => ({
      attempt: attempt.attempt,
      started_at: toRfc3339(attempt.started_at),
      duration_ms: attempt.duration_ms,
      status_code: attempt.status_code,
      error: attempt.error,
    })),
  };
}

/** Webhook endpoints and their deliveries: Allot's own extension (Metronome configures webhooks in its UI). */
export function registerWebhookRoutes(app: App, settings: Pick<WebhookSettings, 'maxAttempts' | 'allowPrivateAddresses'>): void {
  app.post(
    '/v1/allot/webhooks',
    {
      schema: {
        tags,
        description: 'Registers an endpoint that receives signed webhook events of the given types (every type when event_types is absent).',
        body: schemas.createEndpointBody,
        response: { 200: z.object({ data: schemas.endpoint }) },
      },
    },
    async (request) => {
      const created = await service.createEndpoint(request.context, {
        tenantId: request.auth.tenantId,
        endpoint: request.body,
        allowPrivateAddresses: settings.allowPrivateAddresses,
      });
      return { data: toEndpoint(created) };
    },
  );

  app.get(
    '/v1/allot/webhooks',
    {
      schema: {
        tags,
        querystring: schemas.listEndpointsQuery,
        response: { 200: z.object({ data: z.array(schemas.endpoint), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await service.listEndpoints(request.context, {
        tenantId: request.auth.tenantId,
        limit: request.query.limit,
        nextPage: request.query.next_page,
        includeArchived: request.query.include_archived,
      });
      return { data: page.endpoints.map(toEndpoint), next_page: page.nextPage };
    },
  );

  app.get(
    '/v1/allot/webhooks/:id',
    { schema: { tags, params: schemas.endpointParams, response: { 200: z.object({ data: schemas.endpoint }) } } },
    async (request) => {
      const found = await service.getEndpoint(request.context, { tenantId: request.auth.tenantId, endpointId: request.params.id });
      return { data: toEndpoint(found) };
    },
  );

  app.post(
    '/v1/allot/webhooks/:id/archive',
    {
      schema: {
        tags,
        description: 'Archives an endpoint: it receives no new events, and its pending deliveries fail.',
        params: schemas.endpointParams,
        response: { 200: z.object({ data: schemas.endpoint }) },
      },
    },
    async (request) => {
      const archived = await service.archiveEndpoint(request.context, { tenantId: request.auth.tenantId, endpointId: request.params.id });
      return { data: toEndpoint(archived) };
    },
  );

  app.get(
    '/v1/allot/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        description: "The endpoint's deliveries, newest first, each with every attempt.",
        params: schemas.endpointParams,
        querystring: schemas.listDeliveriesQuery,
        response: { 200: z.object({ data: z.array(schemas.delivery), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await service.listDeliveries(request.context, {
        tenantId: request.auth.tenantId,
        endpointId: request.params.id,
        limit: request.query.limit,
        nextPage: request.query.next_page,
        status: request.query.status,
      });
      return { data: page.deliveries.map((row) => toDelivery(row, settings.maxAttempts)), next_page: page.nextPage };
    },
  );

  app.post(
    '/v1/allot/webhooks/:id/deliveries/:delivery_id/retry',
    {
      schema: {
        tags,
        description: `Sends a delivered or failed delivery again, at once, with ${settings.maxAttempts} more attempts. A pending one is a 409.`,
        params: schemas.deliveryParams,
        response: { 200: z.object({ data: schemas.delivery }) },
      },
    },
    async (request) => {
      const retried = await service.retryDelivery(request.context, {
        tenantId: request.auth.tenantId,
        endpointId: request.params.id,
        deliveryId: request.params.delivery_id,
        maxAttempts: settings.maxAttempts,
      });
      return { data: toDelivery(retried, settings.maxAttempts) };
    },
  );
}
