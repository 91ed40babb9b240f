import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServiceContext } from '../lib/context.js';
import { ServerTiming } from '../lib/serverTiming.js';
import { registerAuth, type Authenticate } from './auth.js';
import { frameworkErrors, registerErrorHandling } from './errors.js';
import { registerHealth } from './health.js';
import { registerIdempotency } from './idempotency.js';
import { parseJsonBody } from './jsonBody.js';
import { registerMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import type { App } from './types.js';

export { DEFAULT_BODY_LIMIT } from '../config.js';
import { DEFAULT_BODY_LIMIT } from '../config.js';

export interface HttpServerOptions {
  /** What every request runs against (`request.context`), unless it carries an Idempotency-Key. */
  context: ServiceContext;
  /** Looks up the API key of a request (the tenants module's `authenticate`). */
  authenticate: Authenticate;
  bodyLimit?: number | undefined;
  logger?: FastifyServerOptions['logger'];
  version?: string | undefined;
  /** Fastify's `trustProxy`: behind a TLS-terminating proxy, requests then read as HTTPS with the browser's host. */
  trustProxy?: boolean | string | undefined;
  /** Each answer carries a `Server-Timing` header: the request's stages (`request.context.timing`) and `app`, its time in Allot. */
  serverTiming?: boolean | undefined;
}

/**
 * The Fastify instance with the conventions every route inherits: JSON bodies, error mapping, the
 * request's context, OpenAPI, auth, idempotency, metrics and health. It has no module's routes:
 * `src/app.ts` registers those.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<App> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    ...(options.trustProxy !== undefined && { trustProxy: options.trustProxy }),
    // One log line per request would drown the ingest path; errors are logged where they are handled.
    logController: new LogController({ disableRequestLogging: true }),
    // `/v1/customers/` is the same route as `/v1/customers`.
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Bodies are JSON; anything else is a 415 rather than a string handed to validation.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  // No body at all (curl -X POST with no -d) reads as `{}` where `{}` is a whole request: a list
  // whose every field is optional. Where fields are required, the 400 still says a body is.
  app.addHook('preValidation', async (request) => {
    if (request.body !== undefined && request.body !== null) return;
    const schema = request.routeOptions.schema?.body as { safeParse?: (value: unknown) => { success: boolean } } | undefined;
    if (schema?.safeParse?.({}).success) request.body = {};
  });

  const { context } = options;
  registerErrorHandling(app, { bodyLimit });
  app.decorateRequest('context', null as never);
  if (options.serverTiming) {
    app.addHook('onRequest', async (request) => {
      request.context = { ...context, timing: new ServerTiming() };
    });
    app.addHook('onSend', async (request, reply) => {
      const timing = request.context?.timing;
      if (!timing) return;
      timing.add('app', timing.elapsed());
      reply.header('server-timing', timing.header());
    });
  } else {
    app.addHook('onRequest', async (request) => {
      request.context = context;
    });
  }
  await registerOpenApi(app, { version: options.version ?? '0.0.0' });
  registerAuth(app, context, options.authenticate);
  registerIdempotency(app, context);
  registerMetrics(app);
  registerHealth(app, context);
  return app;
}
