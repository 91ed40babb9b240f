import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceContext } from '../lib/context.js';
import type { App } from '../http/types.js';
import * as dashboards from '../modules/dashboards/service.js';
import { accountView } from './accountView.js';
import type { AssetUrl } from './assets.js';
import { Html } from './html.js';
import { sendPage } from './layout.js';
import { errorBody } from './pages/chrome.js';
import { embedContent } from './pages/embedPage.js';
import { seatEmbedContent } from './pages/seatEmbedPage.js';
import { seatEmbedView } from './seatView.js';

/** How often a live view is computed again when nothing was signalled (usage ingested by another process, a period closing). */
const REFRESH_MS = 15_000;
/** The least time between two computations for one viewer, however fast usage arrives. */
const MIN_INTERVAL_MS = 1_000;

const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/**
 * The views, shared by everyone watching one customer (or one seat of it): one computed less than
 * a second ago is used again, so many viewers cost one computation a second, not one each. A
 * customer's views are forgotten as soon as its usage or account changes, so no viewer is shown
 * one from before the change it was told about.
 */
function sharedViews(context: ServiceContext): { render: (ctx: ServiceContext, grant: dashboards.EmbedGrant) => Promise<string>; stop: () => void } {
  const recent = new Map<string, { at: number; view: Promise<unknown> }>();
  const forget = ({ tenantId, customerIds }: { tenantId: string; customerIds: readonly string[] }) => {
    for (const customerId of customerIds) {
      const prefix = `${tenantId}/${customerId}/`;
      for (const key of [...recent.keys()]) if (key.startsWith(prefix)) recent.delete(key);
    }
  };
  const unsubscribe = [context.signals?.on('usageCommitted', forget), context.signals?.on('accountChanged', forget)];
  const shared = <T>(key: string, compute: () => Promise<T>): Promise<T> => {
    const now = Date.now();
    const hit = recent.get(key);
    if (hit && now - hit.at < MIN_INTERVAL_MS) return hit.view as Promise<T>;
    for (const [other, entry] of recent) if (now - entry.at >= MIN_INTERVAL_MS) recent.delete(other);
    const view = compute();
    recent.set(key, { at: now, view });
    view.catch(() => recent.delete(key));
    return view;
  };
  return {
    async render(ctx, grant) {
      const { tenantId, customerId, seatId } = grant;
      const base = `${tenantId}/${customerId}/`;
      if (seatId === undefined) return embedContent(await shared(base, () => accountView(ctx, { tenantId, customerId })), grant).value;
      const contractId = grant.options.contract_id;
      const view = await shared(`${base}seat/${contractId ?? ''}/${seatId}`, () => seatEmbedView(ctx, { tenantId, customerId, seatId, contractId }));
      return seatEmbedContent(view, grant).value;
    },
    stop: () => unsubscribe.forEach((off) => off?.()),
  };
}

/**
 * The embeddable view at `/embed?token=…`: one customer's dashboard, read-only, following usage as
 * it arrives over server-sent events at `/embed/events?token=…`. A token that fails its signature
 * or has expired gets a 403 page (and its event stream a 403).
 */
export function registerEmbedRoutes(app: App, assetUrl: AssetUrl, context: ServiceContext): void {
  // Open event streams end before the server closes (it would otherwise wait for every viewer to leave).
  const streams = new Set<() => void>();
  const views = sharedViews(context);
  const render = views.render;
  app.addHook('preClose', async () => {
    for (const stop of [...streams]) stop();
    views.stop();
  });
  const refuse = (reply: FastifyReply, reason: 'invalid' | 'expired') =>
    sendPage(
      reply,
      assetUrl,
      {
        title: 'Access denied',
        bodyClass: 'embed',
        embeddable: true,
        body: errorBody(403, reason === 'expired' ? 'This link has expired. Open the dashboard again from the application that showed it.' : 'This link is not valid.'),
      },
      403,
    );

  app.get('/embed', async (request, reply) => {
    const token = tokenOf(request);
    const check = await dashboards.verifyEmbedToken(request.context, token);
    if (!check.ok) return refuse(reply, check.reason);
    // The controls view has forms, and a page of its own (`controlsRoutes.ts`) that does not swap itself live.
    if (check.grant.dashboard === 'controls') return reply.redirect(`/embed/controls?${new URLSearchParams({ token }).toString()}`, 303);
    const content = await render(request.context, check.grant);
    return sendPage(reply, assetUrl, {
      title: 'Billing',
      bodyClass: 'embed',
      embeddable: true,
      colors: check.grant.colors,
      live: `/embed/events?${new URLSearchParams({ token, v: digest(content) }).toString()}`,
      body: new Html(content),
    });
  });

  app.get('/embed/events', async (request, reply) => {
    const token = tokenOf(request);
    const check = await dashboards.verifyEmbedToken(request.context, token);
    if (!check.ok) return reply.code(403).type('text/plain').send(check.reason === 'expired' ? 'expired' : 'invalid');
    if (check.grant.dashboard === 'controls') return reply.code(403).type('text/plain').send('invalid');
    followLive(request, reply, check.grant, { streams, render });
  });
}

// The token rides in the query string: it is longer than a path segment may be.
export function tokenOf(request: FastifyRequest): string {
  const { token } = request.query as { token?: unknown };
  return typeof token === 'string' ? token : '';
}

/** Streams the view's content whenever it changes, until the viewer leaves or the token expires. */
function followLive(
  request: FastifyRequest,
  reply: FastifyReply,
  grant: dashboards.EmbedGrant,
  { streams, render }: { streams: Set<() => void>; render: (ctx: ServiceContext, grant: dashboards.EmbedGrant) => Promise<string> },
): void {
  const ctx = request.context;
  let shown = typeof (request.query as { v?: unknown }).v === 'string' ? (request.query as { v: string }).v : '';
  let closed = false;
  let running = false;
  let again = false;
  let lastRun = 0;
  let timer: NodeJS.Timeout | undefined;

  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  out.write('retry: 3000\n\n');

  const stop = () => {
    if (closed) return;
    closed = true;
    streams.delete(stop);
    clearTimeout(timer);
    clearInterval(refresh);
    unsubscribeUsage?.();
    unsubscribeAccount?.();
    out.end();
  };

  const update = async () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      if (ctx.clock.now() >= grant.expiresAt) {
        out.write('event: expired\ndata: {}\n\n');
        stop();
        return;
      }
      lastRun = Date.now();
      const content = await render(ctx, grant);
      const version = digest(content);
      if (!closed && version !== shown) {
        shown = version;
        out.write(`event: update\ndata: ${JSON.stringify({ html: content })}\n\n`);
      } else if (!closed) {
        out.write(': unchanged\n\n');
      }
    } catch (error) {
      request.log.error({ err: error }, 'live dashboard update failed');
    } finally {
      running = false;
      if (again && !closed) {
        again = false;
        schedule();
      }
    }
  };
  // Bursts of usage make one computation, at most one a second.
  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        void update();
      },
      Math.max(0, lastRun + MIN_INTERVAL_MS - Date.now()),
    );
  };

  const unsubscribeUsage = ctx.signals?.on('usageCommitted', ({ tenantId, customerIds }) => {
    if (tenantId === grant.tenantId && customerIds.includes(grant.customerId)) schedule();
  });
  const unsubscribeAccount = ctx.signals?.on('accountChanged', ({ tenantId, customerIds }) => {
    if (tenantId === grant.tenantId && customerIds.includes(grant.customerId)) schedule();
  });
  const refresh = setInterval(schedule, REFRESH_MS);
  streams.add(stop);
  // The viewer may have left while the token was being checked: its close event has then passed.
  if (request.raw.destroyed || out.destroyed || out.writableEnded) {
    stop();
    return;
  }
  request.raw.on('close', stop);
  out.on('close', stop);
  // The page may have been rendered before a change this stream would otherwise miss.
  void update();
}
