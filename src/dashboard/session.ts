import { randomBytes } from 'node:crypto';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as dashboards from '../modules/dashboards/service.js';

export const SESSION_COOKIE = 'allot_session';
/** The sign-in form's double-submit token: a login form cannot be posted from another site. */
export const SIGN_IN_COOKIE = 'allot_sign_in';
/** What a form's post has to say on the page it redirects to, for one minute (never in the URL, where any link could forge it). */
export const FLASH_COOKIE = 'allot_flash';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Cookies are `Secure` whenever the browser will keep a Secure cookie: over HTTPS (behind a
 * proxy, with Fastify's `trustProxy`), and on a loopback address, which browsers treat as a
 * secure origin. Over plain HTTP to another host they could not be set at all, so they go without.
 */
function secure(request: FastifyRequest): boolean {
  return request.protocol === 'https' || LOOPBACK.has(request.hostname.toLowerCase());
}

export function cookieOptions(request: FastifyRequest, path: string, maxAgeSeconds?: number): CookieSerializeOptions {
  return { path, httpOnly: true, sameSite: 'strict', secure: secure(request), ...(maxAgeSeconds !== undefined && { maxAge: maxAgeSeconds }) };
}

/** A new one-time token for a form (see `forms.ts`). */
export function formNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function newSignInToken(reply: FastifyReply, request: FastifyRequest): string {
  const token = randomBytes(24).toString('base64url');
  reply.setCookie(SIGN_IN_COOKIE, token, cookieOptions(request, '/ui/sign-in', 3600));
  return token;
}

/** The signed-in operator's session, or undefined. */
export async function currentSession(request: FastifyRequest): Promise<dashboards.Session | undefined> {
  const token = request.cookies[SESSION_COOKIE];
  return token ? dashboards.findSession(request.context, token) : undefined;
}

/**
 * A form post belongs to the session: it echoes the session's CSRF token, and, when the browser
 * says where it comes from, it comes from this server (the host it was asked for, or the public
 * URL's, for a proxy that rewrites the host). The session cookie is also SameSite=Strict.
 */
export function formIsGenuine(request: FastifyRequest, session: dashboards.Session, token: unknown, publicHost?: string): boolean {
  return fromThisServer(request, publicHost) && typeof token === 'string' && dashboards.sameSecret(token, session.csrfToken);
}

/** A post comes from a page of this server, when the browser says where it comes from: the host it was asked for, or the public URL's. */
export function fromThisServer(request: FastifyRequest, publicHost?: string): boolean {
  const origin = request.headers.origin;
  if (!origin || origin === 'null') return true;
  try {
    const host = new URL(origin).host;
    return host === request.host || host === publicHost;
  } catch {
    return false;
  }
}

/** Where a form's outcome is shown: beside the form it came from. */
export type FormName = 'seats' | 'credit' | 'alert';

export interface Flash {
  notice?: string | undefined;
  error?: string | undefined;
  form?: FormName | undefined;
  /** The customer whose page shows it (a flash never shows on another customer's page). */
  customerId?: string | undefined;
  /** What a refused form held, to fill it in again (its CSRF token left out). */
  values?: Record<string, string> | undefined;
}

/** A form's fields to fill it in again: short text values only, never its CSRF or one-time token (the cookie stays well under 4 KB). */
export function typedValues(body: unknown): Record<string, string> {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(
    Object.entries(body as Record<string, unknown>)
      .filter(([key, value]) => key !== 'csrf' && key !== 'once' && typeof value === 'string')
      .slice(0, 10)
      .map(([key, value]) => [key.slice(0, 40), (value as string).slice(0, 100)]),
  );
}

export function setFlash(reply: FastifyReply, request: FastifyRequest, flash: Flash): void {
  reply.setCookie(FLASH_COOKIE, Buffer.from(JSON.stringify(flash)).toString('base64url'), cookieOptions(request, '/ui', 60));
}

/** The flash a redirect left for `customerId`'s page, once: it is cleared as it is read. */
export function takeFlash(request: FastifyRequest, reply: FastifyReply, customerId: string): Flash {
  const value = request.cookies[FLASH_COOKIE];
  if (!value) return {};
  reply.clearCookie(FLASH_COOKIE, cookieOptions(request, '/ui'));
  try {
    const flash = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Flash;
    if (flash.customerId !== customerId) return {};
    const text = (field: unknown) => (typeof field === 'string' ? field.slice(0, 500) : undefined);
    return { customerId, notice: text(flash.notice), error: text(flash.error), form: (['seats', 'credit', 'alert'] as const).find((name) => name === flash.form), values: typedValues(flash.values) };
  } catch {
    return {};
  }
}
