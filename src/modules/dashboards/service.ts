import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServiceContext } from '../../lib/context.js';
import { Invalid } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import * as customers from '../customers/service.js';
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

export type DashboardKind = 'invoices' | 'usage' | 'credits';

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
  expiresAt: Date;
}

interface TokenPayload {
  t: string;
  c: string;
  d: DashboardKind;
  k: Record<string, string>;
  o: Record<string, string>;
  g: EmbedGrant['groupKeyNames'];
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
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + EMBED_TTL_MS);
  const secret = await repo.signingKey(ctx.db, grant.tenantId, randomToken(), now);
  const payload: TokenPayload = { t: grant.tenantId, c: grant.customerId, d: grant.dashboard, k: grant.colors, o: grant.options, g: grant.groupKeyNames, e: expiresAt.getTime() };
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
  return {
    ok: true,
    grant: { tenantId: payload.t, customerId: payload.c, dashboard: payload.d, colors: payload.k, options: payload.o, groupKeyNames: payload.g, expiresAt: new Date(payload.e) },
  };
}
