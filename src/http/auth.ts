import type { ServiceContext } from '../lib/context.js';
import { Unauthorized } from '../lib/errors.js';
import { authenticate } from '../modules/tenants/service.js';
import type { App } from './types.js';

/**
 * Every route that is not marked public needs `Authorization: Bearer <api key>`. The key picks
 * the tenant; services are handed `request.auth.tenantId` and filter every query by it, so a key
 * never sees another tenant's data (another tenant's record is simply not found).
 */
export function registerAuth(app: App, context: ServiceContext): void {
  app.decorateRequest('auth', null as never);
  app.addHook('onRequest', async (request) => {
    if (request.is404 || request.routeOptions.config.public) return;
    const header = request.headers.authorization;
    if (!header) throw new Unauthorized('Missing API key: send the header Authorization: Bearer <api key>');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new Unauthorized('The Authorization header must use the Bearer scheme: Authorization: Bearer <api key>');
    const auth = await authenticate(context, match[1]!);
    if (!auth) throw new Unauthorized('Invalid or revoked API key');
    request.auth = auth;
  });
}
