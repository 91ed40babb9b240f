import { z } from 'zod';
import type { App } from '../../http/types.js';
import { COLOR_VARIABLES, getEmbeddableUrlBody } from './schemas.js';
import * as service from './service.js';

/**
 * `v1.dashboards.getEmbeddableURL`: a signed URL showing one customer's dashboard, read-only and
 * live, that stops working an hour after it is made. `publicUrl` is where browsers reach this
 * server; without it, the URL is built from the request's own scheme and host.
 */
export function registerDashboardRoutes(app: App, { publicUrl }: { publicUrl?: string | undefined }): void {
  app.post(
    '/v1/dashboards/getEmbeddableUrl',
    { schema: { tags: ['dashboards'], body: getEmbeddableUrlBody, response: { 200: z.object({ data: z.object({ url: z.string() }) }) } } },
    async (request) => {
      const { body } = request;
      const { token } = await service.signEmbedToken(request.context, {
        tenantId: request.auth.tenantId,
        customerId: body.customer_id.toLowerCase(),
        dashboard: body.dashboard === 'commits_and_credits' ? 'credits' : body.dashboard,
        colors: Object.fromEntries((body.color_overrides ?? []).map((color) => [COLOR_VARIABLES[color.name], color.value])),
        options: Object.fromEntries((body.dashboard_options ?? []).map((option) => [option.key, option.value])),
        groupKeyNames: Object.fromEntries(
          (body.bm_group_key_overrides ?? []).map((override) => [override.group_key_name, { name: override.display_name, values: override.value_display_names }]),
        ),
      });
      const base = (publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
      return { data: { url: `${base}/embed?token=${token}` } };
    },
  );
}
