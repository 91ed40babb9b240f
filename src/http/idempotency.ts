import { createHash } from 'node:crypto';
import stableStringify from 'safe-stable-stringify';
import type { ServiceContext } from '../lib/context.js';
import { Conflict, Invalid } from '../lib/errors.js';
import * as repo from './idempotencyRepo.js';
import type { App } from './types.js';

/** How long a key and its response are kept (the API promises at least 24 h). */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** A reservation older than this, never completed, belongs to a request whose process died. */
const ABANDONED_AFTER_MS = 60 * 1000;
const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { key: string; replayed: boolean } | null;
  }
}

/**
 * `Idempotency-Key` on mutations. The first request with a key reserves it; when it succeeds
 * (2xx) its response is stored and every later request with the same key and the same body gets
 * that response again (header `Idempotent-Replayed: true`). The same key with a different method,
 * path or body is a 409, and so is a second request while the first is still running. A request
 * that fails frees the key, so the client can correct it and retry under the same key.
 *
 * The body is compared after JSON parsing with keys sorted, so formatting and key order do not
 * matter. Keys are per tenant and kept for 24 hours by the injected clock.
 */
export function registerIdempotency(app: App, { db, clock }: ServiceContext): void {
  app.decorateRequest('idempotency', null);

  app.addHook('preValidation', async (request, reply) => {
    const header = request.headers['idempotency-key'];
    if (header === undefined || !MUTATIONS.has(request.method) || !request.auth) return;
    const key = Array.isArray(header) ? header[0]! : header;
    if (key.length < 1 || key.length > 255) throw new Invalid('Idempotency-Key', 'must be 1 to 255 characters');

    const tenantId = request.auth.tenantId;
    const fingerprint = createHash('sha256')
      .update(`${request.method} ${request.url}\n${stableStringify(request.body ?? null)}`)
      .digest('hex');
    const now = clock.now();
    const reserved = await repo.reserveKey(db, {
      tenantId,
      key,
      fingerprint,
      now,
      expiredBefore: new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS),
      abandonedBefore: new Date(now.getTime() - ABANDONED_AFTER_MS),
    });
    if (reserved) {
      request.idempotency = { key, replayed: false };
      return;
    }

    const stored = await repo.findKey(db, tenantId, key);
    if (!stored) throw new Conflict(`Idempotency-Key ${key} was released while this request arrived; retry it`);
    if (stored.fingerprint !== fingerprint) {
      throw new Conflict(`Idempotency-Key ${key} was already used with a different request; use a new key for a new request`);
    }
    if (stored.response_status === null) {
      throw new Conflict(`A request with Idempotency-Key ${key} is still in progress; retry it shortly`);
    }
    request.idempotency = { key, replayed: true };
    reply.code(stored.response_status).header('idempotent-replayed', 'true');
    if (stored.response_type) reply.type(stored.response_type);
    return reply.send(stored.response_body);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const held = request.idempotency;
    if (!held || held.replayed) return payload;
    const tenantId = request.auth.tenantId;
    try {
      const succeeded = reply.statusCode >= 200 && reply.statusCode < 300;
      if (succeeded && (typeof payload === 'string' || payload == null)) {
        const type = reply.getHeader('content-type');
        await repo.storeResponse(db, {
          tenantId,
          key: held.key,
          status: reply.statusCode,
          type: typeof type === 'string' ? type : null,
          body: payload ?? '',
        });
      } else {
        await repo.releaseKey(db, tenantId, held.key);
      }
    } catch (error) {
      // The request itself is done; a key left reserved is taken over once it counts as abandoned.
      request.log.error({ err: error, idempotencyKey: held.key }, 'could not record the idempotent response');
    }
    return payload;
  });
}

/** Deletes keys past retention; `allot serve` runs it periodically. */
export async function purgeExpiredIdempotencyKeys({ db, clock }: ServiceContext): Promise<number> {
  return repo.purgeKeys(db, new Date(clock.now().getTime() - IDEMPOTENCY_RETENTION_MS));
}
