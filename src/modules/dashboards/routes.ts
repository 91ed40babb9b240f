import { z } from 'zod';
import type { App } from '../../http/types.js';
import { Decimal } from '../../lib/money.js';
import { COLOR_VARIABLES, controlsUrlBody, getEmbeddableUrlBody } from './schemas.js';
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
        colors: colorsOf(body.color_overrides),
        options: Object.fromEntries((body.dashboard_options ?? []).map((option) => [option.key, option.value])),
        groupKeyNames: groupKeyNamesOf(body.bm_group_key_overrides),
        ...(body.seat_id !== undefined && { seatId: body.seat_id }),
      });
      return { data: { url: `${baseOf(request)}/embed?token=${token}` } };
    },
  );

  // The `controls` view is Allot's own: the SDK types `dashboard` as Metronome's four views, so it is
  // asked for here, with its bounds, rather than as a fifth value of Metronome's enum.
  app.post(
    '/v1/allot/dashboards/controls-url',
    {
      schema: {
        tags: ['allot'],
        description:
          'A signed URL for the customer\'s `controls` view (Allot\'s own): its admin sets per-group spend caps (enforced by `/v1/allot/entitlements/check`) and per-group spend alerts in `credit_type_id`, on the `group_keys` given, none above `max_cap_amount` / `max_alert_threshold`. The URL carries these bounds, signed; it works for an hour.',
        body: controlsUrlBody,
        response: { 200: z.object({ data: z.object({ url: z.string() }) }) },
      },
    },
    async (request) => {
      const { body } = request;
      const tenantId = request.auth.tenantId;
      const bounds = {
        creditTypeId: body.credit_type_id.toLowerCase(),
        groupKeys: body.group_keys,
        maxCapAmount: body.max_cap_amount,
        maxAlertThreshold: body.max_alert_threshold ?? new Decimal(body.max_cap_amount),
      };
      await service.checkControlBounds(request.context, { tenantId, bounds });
      const { token } = await service.signEmbedToken(request.context, {
        tenantId,
        customerId: body.customer_id.toLowerCase(),
        dashboard: 'controls',
        colors: colorsOf(body.color_overrides),
        options: {},
        groupKeyNames: groupKeyNamesOf(body.bm_group_key_overrides),
        controls: bounds,
      });
      return { data: { url: `${baseOf(request)}/embed/controls?token=${token}` } };
    },
  );

  const baseOf = (request: { protocol: string; host: string }) => (publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
}

const colorsOf = (overrides: { name: keyof typeof COLOR_VARIABLES; value: string }[] | undefined) =>
  Object.fromEntries((overrides ?? []).map((color) => [COLOR_VARIABLES[color.name], color.value]));

const groupKeyNamesOf = (overrides: { group_key_name: string; display_name?: string | undefined; value_display_names?: Record<string, string> | undefined }[] | undefined) =>
  Object.fromEntries((overrides ?? []).map((override) => [override.group_key_name, { name: override.display_name, values: override.value_display_names }]));
