import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { App } from './types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The registry `/metrics` serves; modules add their own metrics to it. */
    metricsRegistry: Registry;
  }
}

/** Prometheus metrics at `/metrics`: process metrics and a request histogram by route and status. */
export function registerMetrics(app: App): Registry {
  const registry = new Registry();
  app.decorate('metricsRegistry', registry);
  collectDefaultMetrics({ register: registry, prefix: 'allot_' });
  const requestDuration = new Histogram({
    name: 'allot_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return registry;
}
