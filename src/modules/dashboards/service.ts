import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServiceContext } from '../../lib/context.js';
import { Invalid, Problems } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import { Decimal } from '../../lib/money.js';
import * as contracts from '../contracts/service.js';
import * as customers from '../customers/service.js';
import * as pricing from '../pricing/service.js';
import * as usage from '../usage/service.js';
import * as repo from './repo.js';

/** How long an operator stays signed in without signing in again. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** How long an embeddable URL works after it is made. */
export const EMBED_TTL_MS = 60 * 60 * 1000;
/** The longest an embeddable URL's grant may be, encoded: the URL stays well under what servers accept. */
const MAX_PAYLOAD_CHARACTERS = 8000;

export interface Session {
  tenantId: string;
  tenantName: string;
  apiKeyId: string;
  csrfToken: string;
  expiresAt: Date;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const randomToken = () => randomBytes(32).toString('base64url');

/** Opens a session for an API key's tenant; returns the token the session cookie carries (shown nowhere else). */
export async function openSession(ctx: ServiceContext, { tenantId, apiKeyId }: { tenantId: string; apiKeyId: string }): Promise<{ token: string; expiresAt: Date }> {
  const token = randomToken();
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await repo.purgeSessions(ctx.db, now);
  await repo.insertSession(ctx.db, { token_hash: hashToken(token), tenant_id: tenantId, api_key_id: apiKeyId, csrf_token: randomToken(), created_at: now, expires_at: expiresAt });
  return { token, expiresAt };
}

/** The live session a cookie's token opened, or undefined (unknown, signed out, expired, or its API key revoked). */
export async function findSession(ctx: ServiceContext, token: string): Promise<Session | undefined> {
  const row = await repo.findLiveSession(ctx.db, hashToken(token), ctx.clock.now());
  return row && { tenantId: row.tenant_id, tenantName: row.tenant_name, apiKeyId: row.api_key_id, csrfToken: row.csrf_token, expiresAt: row.expires_at };
}

export async function endSession(ctx: ServiceContext, token: string): Promise<void> {
  await repo.endSession(ctx.db, hashToken(token), ctx.clock.now());
}

/** Compares two secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export type DashboardKind = 'invoices' | 'usage' | 'credits' | 'controls';

/**
 * What the operator lets a customer's admin do in the `controls` view: caps and spend alerts in one
 * pricing unit, on these group keys only, none above these amounts (in the unit; cents for USD).
 */
export interface ControlBounds {
  creditTypeId: string;
  groupKeys: string[];
  maxCapAmount: Decimal;
  maxAlertThreshold: Decimal;
}

/** What an embeddable URL shows: one customer's dashboard, with the options it was made with. */
export interface EmbedGrant {
  tenantId: string;
  customerId: string;
  dashboard: DashboardKind;
  /** Metronome color names to hex values. */
  colors: Record<string, string>;
  options: Record<string, string>;
  /** Display names of group keys and of their values: group key → { name, values }. */
  groupKeyNames: Record<string, { name?: string | undefined; values?: Record<string, string> | undefined }>;
  /** The `controls` view's bounds (that view only). */
  controls?: ControlBounds | undefined;
  /** The one seat a `credits` view shows (Allot's own `seat_id`): that seat's own credits, and the pool it draws on. */
  seatId?: string | undefined;
  expiresAt: Date;
}

interface TokenPayload {
  t: string;
  c: string;
  d: DashboardKind;
  k: Record<string, string>;
  o: Record<string, string>;
  g: EmbedGrant['groupKeyNames'];
  /** The controls view's bounds: unit, group keys, largest cap, largest alert threshold (decimal text). */
  b?: { u: string; k: string[]; c: string; a: string };
  /** The seat a seat-scoped `credits` view shows. */
  s?: string;
  e: number;
}

const sign = (secret: string, payload: string) => createHmac('sha256', Buffer.from(secret, 'base64url')).update(payload).digest('base64url');

/**
 * A token for an embeddable URL: the grant as base64url JSON, a dot, and its HMAC-SHA256 under
 * the tenant's signing key. Nothing is stored per token; changing any character of it makes the
 * signature fail, and it stops working at `expiresAt`.
 */
export async function signEmbedToken(ctx: ServiceContext, grant: Omit<EmbedGrant, 'expiresAt'>): Promise<{ token: string; expiresAt: Date }> {
  await customers.getCustomer(ctx, { tenantId: grant.tenantId, customerId: grant.customerId });
  if (grant.seatId !== undefined) await checkSeat(ctx, { ...grant, seatId: grant.seatId });
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + EMBED_TTL_MS);
  const secret = await repo.signingKey(ctx.db, grant.tenantId, randomToken(), now);
  const bounds = grant.controls;
  const payload: TokenPayload = {
    t: grant.tenantId,
    c: grant.customerId,
    d: grant.dashboard,
    k: grant.colors,
    o: grant.options,
    g: grant.groupKeyNames,
    ...(bounds && { b: { u: bounds.creditTypeId, k: bounds.groupKeys, c: bounds.maxCapAmount.toFixed(), a: bounds.maxAlertThreshold.toFixed() } }),
    ...(grant.seatId !== undefined && { s: grant.seatId }),
    e: expiresAt.getTime(),
  };
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  // Browsers and servers refuse URLs much longer than this (Node's limit on a request's head is 16 KB).
  if (encoded.length > MAX_PAYLOAD_CHARACTERS) {
    throw new Invalid('bm_group_key_overrides', `too many display names: the URL would be ${encoded.length} characters long, and it may be at most ${MAX_PAYLOAD_CHARACTERS}`);
  }
  return { token: `${encoded}.${sign(secret, encoded)}`, expiresAt };
}

export type EmbedCheck = { ok: true; grant: EmbedGrant } | { ok: false; reason: 'invalid' | 'expired' };

/** Checks an embeddable URL's token: its signature under its tenant's key, then its expiry. */
export async function verifyEmbedToken(ctx: ServiceContext, token: string): Promise<EmbedCheck> {
  const [encoded, signature, extra] = token.split('.');
  if (!encoded || !signature || extra !== undefined) return { ok: false, reason: 'invalid' };
  let payload: TokenPayload;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as TokenPayload;
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (typeof payload?.t !== 'string' || !isUuid(payload.t)) return { ok: false, reason: 'invalid' };
  const secret = await repo.findSigningKey(ctx.db, payload.t);
  if (!secret || !sameSecret(sign(secret, encoded), signature)) return { ok: false, reason: 'invalid' };
  if (!(payload.e > ctx.clock.now().getTime())) return { ok: false, reason: 'expired' };
  // Only this server signs tokens, and it gives a controls view its bounds, and no other view any.
  if ((payload.d === 'controls') !== (payload.b !== undefined)) return { ok: false, reason: 'invalid' };
  if (payload.s !== undefined && (payload.d !== 'credits' || typeof payload.s !== 'string')) return { ok: false, reason: 'invalid' };
  return {
    ok: true,
    grant: {
      tenantId: payload.t,
      customerId: payload.c,
      dashboard: payload.d,
      colors: payload.k,
      options: payload.o,
      groupKeyNames: payload.g,
      ...(payload.b && {
        controls: { creditTypeId: payload.b.u, groupKeys: payload.b.k, maxCapAmount: new Decimal(payload.b.c), maxAlertThreshold: new Decimal(payload.b.a) },
      }),
      ...(payload.s !== undefined && { seatId: payload.s }),
      expiresAt: new Date(payload.e),
    },
  };
}

/**
 * Checks a `controls` view's bounds against the tenant's catalog, naming every refusal in one 400:
 * the pricing unit must exist, and each group key must be a group key of a live billable metric on
 * its own (the property caps and per-group spend alerts split usage by).
 */
export async function checkControlBounds(ctx: ServiceContext, { tenantId, bounds }: { tenantId: string; bounds: ControlBounds }): Promise<void> {
  const problems = new Problems();
  const [creditType, metrics] = await Promise.all([pricing.findCreditType(ctx, { tenantId, creditTypeId: bounds.creditTypeId }), usage.liveMetrics(ctx, tenantId)]);
  problems.check(creditType !== undefined, 'credit_type_id', `no pricing unit with id ${bounds.creditTypeId}`);
  const groupable = new Set(metrics.flatMap((metric) => (metric.group_keys ?? []).flat()));
  bounds.groupKeys.forEach((key, index) =>
    problems.check(groupable.has(key), `group_keys.${index}`, `no live billable metric has ${JSON.stringify(key)} among its group keys: usage cannot be split by it`),
  );
  problems.throwIfAny();
}

/**
 * A seat-scoped view's seat must be one the customer's SEAT_BASED subscriptions have assigned (now
 * or earlier in their schedule) on a live contract, on the `contract_id` option's contract when the
 * URL names one: anything else is a 400 naming `seat_id`.
 */
async function checkSeat(ctx: ServiceContext, grant: Omit<EmbedGrant, 'expiresAt'> & { seatId: string }): Promise<void> {
  const holding = await contracts.contractsWithSeat(ctx, { tenantId: grant.tenantId, customerId: grant.customerId, seatId: grant.seatId });
  const contractId = grant.options.contract_id?.toLowerCase();
  if (contractId !== undefined && !holding.includes(contractId)) {
    throw new Invalid('seat_id', `seat ${grant.seatId} is not on the SEAT_BASED subscriptions of contract ${contractId} (the contract_id option)`);
  }
  if (holding.length === 0) throw new Invalid('seat_id', `seat ${grant.seatId} is not on any SEAT_BASED subscription of customer ${grant.customerId}'s live contracts`);
}
