import { createHash } from 'node:crypto';
import stableStringify from 'safe-stable-stringify';
import type { ServiceContext } from '../lib/context.js';
import { beginTransaction, databaseWithin, type OpenTransaction } from '../lib/db/database.js';
import { Conflict, Invalid } from '../lib/errors.js';
import * as repo from './idempotencyRepo.js';
import type { App } from './types.js';

/** How long a key and its response are kept (the API promises at least 24 h). */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether a route takes `Idempotency-Key`: mutations, unless the route opts out. */
export function acceptsIdempotencyKey(method: string, config: { idempotency?: boolean | 'built-in' } | undefined): boolean {
  return MUTATIONS.has(method) && (config?.idempotency === undefined || config.idempotency === true);
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { key: string; transaction: OpenTransaction; ended: boolean; committed: (() => void)[] } | null;
  }
  interface FastifyContextConfig {
    /**
     * False on a route whose response holds a secret (a new API key): it is never stored, so the
     * header is refused there. `'built-in'` on a route that dedupes by a key of its own (ingest, by
     * transaction_id): the header is accepted and ignored, and the request never runs in the
     * idempotency transaction.
     */
    idempotency?: boolean | 'built-in';
  }
}

/**
 * `Idempotency-Key` on mutations, exactly once. A request with a key runs in one transaction
 * that claims the key, makes the change and stores the response; it commits just before the
 * response is sent. So a crash at any point leaves neither the change nor the key, and a retry
 * runs afresh; a success leaves both, and every later request with the same key and body gets
 * the stored response (header `Idempotent-Replayed: true`) without running again.
 *
 * - Same key, different method, path or body: 409. Bodies are compared after JSON parsing with
 *   keys sorted, so formatting and key order do not matter.
 * - A duplicate that arrives while the first is running waits for it (on PostgreSQL, on the
 *   key's row; PGlite runs one transaction at a time) and then replays its response.
 * - Only 2xx responses are kept: a request that fails leaves no trace, so the client can correct
 *   it and retry under the same key.
 * - Keys are per tenant and kept for 24 hours by the injected clock.
 */
export function registerIdempotency(app: App, { db, clock }: ServiceContext): void {
  app.decorateRequest('idempotency', null);

  app.addHook('preValidation', async (request, reply) => {
    const header = request.headers['idempotency-key'];
    if (header === undefined || !MUTATIONS.has(request.method) || !request.auth) return;
    if (request.routeOptions.config.idempotency === 'built-in') return;
    const key = Array.isArray(header) ? header[0]! : header;
    if (!acceptsIdempotencyKey(request.method, request.routeOptions.config)) {
      throw new Invalid('Idempotency-Key', 'is not accepted on this route, because its response holds a secret that Allot does not store');
    }
    if (key.length < 1 || key.length > 255) throw new Invalid('Idempotency-Key', 'must be 1 to 255 characters');

    const tenantId = request.auth.tenantId;
    const fingerprint = createHash('sha256')
      .update(`${request.method} ${request.url}\n${stableStringify(request.body ?? null)}`)
      .digest('hex');
    const now = clock.now();
    const transaction = await beginTransaction(db);
    let stored: repo.StoredIdempotencyKey | undefined;
    try {
      const claimed = await repo.claimKey(transaction.tx, {
        tenantId,
        key,
        fingerprint,
        now,
        expiredBefore: new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS),
      });
      if (claimed) {
        const held = { key, transaction, ended: false, committed: [] as (() => void)[] };
        request.idempotency = held;
        request.context = {
          ...request.context,
          db: databaseWithin(transaction.tx, db.engine),
          afterCommit: (callback) => held.committed.push(callback),
        };
        // If the response ends without passing onSend (a handler that never replies to a client
        // that went away), the transaction must not stay open: on PGlite it would stall everything.
        reply.raw.once('close', () => {
          if (held.ended) return;
          held.ended = true;
          transaction.rollback().catch((error: unknown) => request.log.error({ err: error }, 'rollback of an abandoned idempotent request failed'));
        });
        return;
      }
      stored = await repo.findKey(transaction.tx, tenantId, key);
    } finally {
      if (!request.idempotency) await transaction.rollback();
    }

    if (!stored || stored.response_status === null) {
      throw new Conflict(`A request with Idempotency-Key ${key} is still in progress; retry it shortly`, { retryable: true });
    }
    if (stored.fingerprint !== fingerprint) {
      throw new Conflict(`Idempotency-Key ${key} was already used with a different request; use a new key for a new request`);
    }
    reply.code(stored.response_status).header('idempotent-replayed', 'true');
    if (stored.response_type) reply.type(stored.response_type);
    return reply.send(stored.response_body);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const held = request.idempotency;
    if (!held || held.ended) return payload;
    held.ended = true;
    if (reply.statusCode < 200 || reply.statusCode >= 300) {
      await held.transaction.rollback();
      return payload;
    }
    if (typeof payload !== 'string' && payload != null) {
      // A success whose body cannot be stored cannot be replayed: refuse it loudly rather than
      // roll the change back and still answer 2xx. Only a route streaming its body gets here.
      await held.transaction.rollback();
      throw new Error(`${request.method} ${request.routeOptions.url} answered with a stream, which an idempotent request cannot store`);
    }
    try {
      const type = reply.getHeader('content-type');
      await repo.storeResponse(held.transaction.tx, {
        tenantId: request.auth.tenantId,
        key: held.key,
        status: reply.statusCode,
        type: typeof type === 'string' ? type : null,
        body: payload ?? '',
      });
      await held.transaction.commit();
      for (const callback of held.committed) callback();
      return payload;
    } catch (error) {
      // The client must not see a success that was not committed; the error handler maps the
      // cause (a lost connection is a 503).
      await held.transaction.rollback().catch(() => {});
      throw error;
    }
  });
}

/** Deletes keys past retention; `allot serve` runs it periodically. */
export async function purgeExpiredIdempotencyKeys({ db, clock }: ServiceContext): Promise<number> {
  return repo.purgeKeys(db, new Date(clock.now().getTime() - IDEMPOTENCY_RETENTION_MS));
}
