import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServiceContext } from '../lib/context.js';

/** Who a request acts for, from its API key (the tenants module looks the key up). */
export interface Auth {
  tenantId: string;
  tenantName: string;
  apiKeyId: string;
}

/** The Fastify instance with zod schemas as its type provider: handlers see parsed, typed input. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every route that is not public. */
    auth: Auth;
    /**
     * What services run against for this request: the server's database and clock, or, for a
     * request with an Idempotency-Key, its own transaction (see `http/idempotency.ts`).
     */
    context: ServiceContext;
  }
  interface FastifyContextConfig {
    /** A public route needs no API key (health, metrics, the OpenAPI document). */
    public?: boolean;
  }
}
