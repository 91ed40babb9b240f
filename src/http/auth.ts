import { createHash } from 'node:crypto';
import type { ServiceContext } from '../lib/context.js';
import { Unauthorized } from '../lib/errors.js';
import type { App, Auth } from './types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route may reuse an API-key lookup made up to `AUTH_CACHE_TTL_MS` ago (the ingest hot
     * path), so a key revoked meanwhile keeps working there for at most that long.
     */
    cachedAuth?: boolean;
  }
}

/** How long a cached API-key lookup is reused: also the longest a revoked key keeps working on `cachedAuth` routes. */
export const AUTH_CACHE_TTL_MS = 5_000;
const AUTH_CACHE_ENTRIES = 10_000;

/** Who an API key acts for, or undefined for an unknown or revoked key (the tenants module's `authenticate`). */
export type Authenticate = (context: ServiceContext, key: string) => Promise<Auth | undefined>;

/**
 * Every route that is not marked public needs `Authorization: Bearer <api key>`. The key picks
 * the tenant; services are handed `request.auth.tenantId` and filter every query by it, so a key
 * never sees another tenant's data (another tenant's record is simply not found).
 *
 * Routes marked `cachedAuth` reuse a successful lookup for 5 seconds (measured on the process's
 * monotonic clock, not the injected one), keyed by the key's hash; every other route looks the key
 * up on every request, so a revocation takes effect there at once.
 */
export function registerAuth(app: App, context: ServiceContext, authenticate: Authenticate): void {
  const cache = new Map<string, { auth: Auth; until: number }>();
  const lookUp = async (key: string, cached: boolean): Promise<Auth | undefined> => {
    if (!cached) return authenticate(context, key);
    const hash = createHash('sha256').update(key).digest('base64');
    const now = performance.now();
    const hit = cache.get(hash);
    if (hit && hit.until > now) return hit.auth;
    const auth = await authenticate(context, key);
    cache.delete(hash);
    if (auth) {
      // Oldest first: a full cache drops the entry added longest ago.
      if (cache.size >= AUTH_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(hash, { auth, until: now + AUTH_CACHE_TTL_MS });
    }
    return auth;
  };

  app.decorateRequest('auth', null as never);
  app.addHook('onRequest', async (request) => {
    if (request.is404 || request.routeOptions.config.public) return;
    const header = request.headers.authorization;
    if (!header) throw new Unauthorized('Missing API key: send the header Authorization: Bearer <api key>');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new Unauthorized('The Authorization header must use the Bearer scheme: Authorization: Bearer <api key>');
    const auth = await lookUp(match[1]!, request.routeOptions.config.cachedAuth === true);
    if (!auth) throw new Unauthorized('Invalid or revoked API key');
    request.auth = auth;
  });
}
