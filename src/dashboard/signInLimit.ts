import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** How many sign-ins with a wrong key one client address may make in a window before it is refused. */
export interface SignInLimit {
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_SIGN_IN_LIMIT: SignInLimit = { maxFailures: 10, windowMs: 60_000 };

/** Addresses kept refused at most; past it the expired ones go, then the oldest. */
const MAX_REFUSED_ADDRESSES = 10_000;

export interface SignInGuard {
  /** Seconds until `request`'s address may try again, or undefined when it may now (checked before its key is). */
  refusedFor(request: FastifyRequest): number | undefined;
  /** Counts a sign-in with a wrong key; the one that reaches the limit refuses the address until its window ends. */
  failed(request: FastifyRequest): Promise<void>;
}

/**
 * Limits failed sign-ins per client address (`request.ip`, which honours `ALLOT_TRUST_PROXY`):
 * with 10 a minute, the 10th wrong key in a minute is still a 401, and every sign-in from that
 * address, with any key, is refused until the minute that began with its first failure ends.
 * Successful sign-ins are not counted, and other addresses are not affected.
 *
 * `@fastify/rate-limit` counts the failures (a fixed window per address, in memory, per process).
 * Its counter moves only when called, so the addresses that reached the limit are remembered here
 * until their window ends: an attempt is refused before its key is looked at, or a right key
 * would still get in (and tell a guesser it was right).
 */
export async function signInGuard(app: FastifyInstance, limit: SignInLimit): Promise<SignInGuard> {
  await app.register(fastifyRateLimit, { global: false });
  const countFailure = app.createRateLimit({ max: limit.maxFailures, timeWindow: limit.windowMs, keyGenerator: (request) => request.ip });
  const refusedUntil = new Map<string, number>();

  function refuse(address: string, until: number): void {
    refusedUntil.delete(address);
    refusedUntil.set(address, until);
    if (refusedUntil.size <= MAX_REFUSED_ADDRESSES) return;
    const now = Date.now();
    for (const [each, eachUntil] of refusedUntil) if (eachUntil <= now) refusedUntil.delete(each);
    for (const each of refusedUntil.keys()) {
      if (refusedUntil.size <= MAX_REFUSED_ADDRESSES) break;
      refusedUntil.delete(each);
    }
  }

  return {
    refusedFor(request) {
      const until = refusedUntil.get(request.ip);
      if (until === undefined) return undefined;
      const left = until - Date.now();
      if (left > 0) return Math.ceil(left / 1000);
      refusedUntil.delete(request.ip);
      return undefined;
    },
    async failed(request) {
      const verdict = await countFailure(request);
      if (!verdict.isAllowed && verdict.remaining === 0) refuse(request.ip, Date.now() + verdict.ttl);
    },
  };
}
