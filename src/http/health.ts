import type { ServiceContext } from '../lib/context.js';
import type { App } from './types.js';

/** `GET /healthz`: 200 when the database answers, 503 when it does not. */
export function registerHealth(app: App, { db }: ServiceContext): void {
  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    try {
      await db.query('SELECT 1');
      return { status: 'ok', database: db.engine };
    } catch (error) {
      request.log.error({ err: error }, 'health check: database unreachable');
      return reply.code(503).send({ status: 'unavailable', database: db.engine, message: 'database unreachable' });
    }
  });
}
