import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyError } from 'fastify';
import { describeError } from '../http/errors.js';
import type { ServiceContext } from '../lib/context.js';
import type { App } from '../http/types.js';
import { registerAssets } from './assets.js';
import { registerControlsRoutes } from './controlsRoutes.js';
import { registerEmbedRoutes } from './embedRoutes.js';
import { sendPage } from './layout.js';
import { errorBody } from './pages/chrome.js';
import { registerOperatorRoutes } from './operatorRoutes.js';
import { registerPricingPages } from './pricingRoutes.js';
import { DEFAULT_SIGN_IN_LIMIT, signInGuard, type SignInLimit } from './signInLimit.js';

/**
 * The dashboard: operator pages under `/ui` (an API key signs in; a session cookie follows) and
 * the embeddable customer view under `/embed`. Registered in a plugin of its own, so its cookie
 * and form parsing, its HTML error pages and its freedom from API keys stay out of the API.
 */
export async function registerDashboard(
  app: App,
  {
    bodyLimit,
    publicUrl,
    context,
    signInLimit = DEFAULT_SIGN_IN_LIMIT,
  }: { bodyLimit: number; publicUrl?: string | undefined; context: ServiceContext; signInLimit?: SignInLimit | undefined },
): Promise<void> {
  await app.register(async (ui) => {
    ui.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
      route.schema = { ...route.schema, hide: true };
    });
    await ui.register(fastifyCookie);
    await ui.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
    const assetUrl = registerAssets(ui as App);
    ui.setErrorHandler((error: FastifyError, request, reply) => {
      const { status, body } = describeError(error, request, { bodyLimit });
      return sendPage(reply, assetUrl, { title: 'Error', body: errorBody(status, body.message), embeddable: request.url.startsWith('/embed') }, status);
    });
    const signInGuarded = await signInGuard(ui, signInLimit);
    registerOperatorRoutes(ui as App, assetUrl, { publicHost: publicUrl ? new URL(publicUrl).host : undefined, signInGuard: signInGuarded });
    registerPricingPages(ui as App, assetUrl, { publicHost: publicUrl ? new URL(publicUrl).host : undefined });
    registerEmbedRoutes(ui as App, assetUrl, context);
    registerControlsRoutes(ui as App, assetUrl, { publicHost: publicUrl ? new URL(publicUrl).host : undefined });
  });
}
