import swagger from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { acceptsIdempotencyKey } from './idempotency.js';
import type { App } from './types.js';

const errorBody = {
  description: 'Error: `message` names what was wrong; for bad input, `errors` lists each field',
  type: 'object',
  required: ['message'],
  properties: {
    message: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

/**
 * The OpenAPI 3.1 document at `/openapi.json`, generated from the routes' zod schemas. What every
 * route shares is added here once rather than on each route: the error responses, and the
 * `Idempotency-Key` header that mutations accept.
 */
export async function registerOpenApi(app: App, { version }: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Allot',
        description: 'Billing for pooled seat-based credits. The paths and bodies follow the Metronome API.',
        version,
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    },
    transform: (input) => {
      const { schema, url } = jsonSchemaTransform(input);
      const acceptsKey = [input.route.method].flat().some((method) => acceptsIdempotencyKey(method, input.route.config));
      return {
        url,
        schema: {
          ...schema,
          ...(acceptsKey && {
            headers: {
              type: 'object',
              properties: {
                'idempotency-key': { type: 'string', minLength: 1, maxLength: 255, description: 'Makes the request safe to retry: kept 24 hours' },
              },
            },
          }),
          response: { ...(schema.response as object | undefined), '4XX': errorBody, '5XX': errorBody },
        },
      };
    },
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
