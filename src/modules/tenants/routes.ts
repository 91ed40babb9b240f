import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.js';
import { text } from '../../lib/text.js';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import * as service from './service.js';

const apiKey = z.object({
  id: z.string(),
  name: z.string(),
  key_prefix: z.string().describe('The first characters of the key, to tell keys apart'),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});

function toApiKey(row: { id: string; name: string; key_prefix: string; created_at: Date; revoked_at: Date | null }) {
  return {
    id: row.id,
    name: row.name,
    key_prefix: row.key_prefix,
    created_at: toRfc3339(row.created_at),
    revoked_at: row.revoked_at && toRfc3339(row.revoked_at),
  };
}

const settings = z.object({
  invoice_grace_period_hours: z.number().int().describe('How long an ended period\'s invoice stays a draft, counting late usage, before it is finalised'),
  invoice_grace_period_source: z.enum(['tenant', 'server_default']).describe('Whether the tenant set it, or the server\'s default (ALLOT_INVOICE_GRACE_HOURS) applies'),
});

function toSettings(value: service.TenantSettings) {
  return { invoice_grace_period_hours: value.invoiceGracePeriodHours, invoice_grace_period_source: value.invoiceGracePeriodSet ? ('tenant' as const) : ('server_default' as const) };
}

/** Allot's own tenant settings (Metronome sets these in its UI): the invoice grace period. */
export function registerSettingsRoutes(app: App): void {
  app.get('/v1/allot/settings', { schema: { tags: ['allot'], response: { 200: z.object({ data: settings }) } } }, async (request) => ({
    data: toSettings(await service.settingsOfTenant(request.context, request.auth.tenantId)),
  }));
  app.post(
    '/v1/allot/settings',
    {
      schema: {
        tags: ['allot'],
        description: 'Sets the caller\'s tenant settings. `invoice_grace_period_hours`: 0 to 744 (31 days); null returns to the server\'s default.',
        body: z.strictObject({
          invoice_grace_period_hours: z.number().int().min(0).max(service.MAX_INVOICE_GRACE_PERIOD_HOURS).nullable(),
        }),
        response: { 200: z.object({ data: settings }) },
      },
    },
    async (request) => ({
      data: toSettings(await service.updateSettings(request.context, { tenantId: request.auth.tenantId, invoiceGracePeriodHours: request.body.invoice_grace_period_hours })),
    }),
  );
}

/** Allot's own API-key management (Metronome has no such endpoint): keys of the caller's tenant. */
export function registerApiKeyRoutes(app: App): void {
  app.post(
    '/v1/allot/api-keys/create',
    {
      config: { idempotency: false },
      schema: {
        tags: ['allot'],
        description: 'Creates an API key for the caller\'s tenant. The key is in this response only.',
        body: z
          .strictObject({ name: text().min(1).max(200).default('api key') })
          .nullish()
          .transform((body) => body ?? { name: 'api key' }),
        response: { 200: z.object({ data: apiKey.extend({ key: z.string() }) }) },
      },
    },
    async (request) => {
      const created = await service.createApiKey(request.context, { tenantId: request.auth.tenantId, name: request.body.name });
      return { data: { ...toApiKey({ ...created, revoked_at: null }), key: created.key } };
    },
  );

  app.get(
    '/v1/allot/api-keys',
    {
      schema: {
        tags: ['allot'],
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(apiKey), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await service.listApiKeys(request.context, {
        tenantId: request.auth.tenantId,
        limit: request.query.limit,
        nextPage: request.query.next_page,
      });
      return { data: page.keys.map(toApiKey), next_page: page.nextPage };
    },
  );

  app.post(
    '/v1/allot/api-keys/revoke',
    {
      schema: {
        tags: ['allot'],
        body: z.strictObject({ id: z.string().min(1) }),
        response: { 200: z.object({ data: apiKey }) },
      },
    },
    async (request) => {
      const revoked = await service.revokeApiKey(request.context, { tenantId: request.auth.tenantId, id: request.body.id });
      return { data: toApiKey(revoked) };
    },
  );
}
