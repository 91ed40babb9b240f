import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { inTransaction, type ServiceContext } from '../lib/context.js';
import { AppError, Invalid, NotFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { IDEMPOTENCY_RETENTION_MS } from '../http/idempotency.js';
import { claimKey } from '../http/idempotencyRepo.js';
import type { App } from '../http/types.js';
import { createAlertBody } from '../modules/alerts/schemas.js';
import * as alerts from '../modules/alerts/service.js';
import * as customers from '../modules/customers/service.js';
import * as dashboards from '../modules/dashboards/service.js';
import * as entitlements from '../modules/entitlements/service.js';
import * as pricing from '../modules/pricing/service.js';
import type { AssetUrl } from './assets.js';
import {
  alertForm,
  alertRemoveForm,
  beyondBounds,
  BeyondBounds,
  capForm,
  capRemoveForm,
  CONTROLS_ALERT_KEY_PREFIX,
  MAX_CONTROL_ENTRIES,
  parseControlsForm,
  typedFields,
} from './controlsForms.js';
import { tokenOf } from './embedRoutes.js';
import { formatAmount, type Unit } from './format.js';
import { sendPage } from './layout.js';
import { errorBody } from './pages/chrome.js';
import { controlsPage, names, type ControlsOutcome, type ControlsView } from './pages/controlsPage.js';
import { fromThisServer } from './session.js';

type ControlsGrant = dashboards.EmbedGrant & { controls: dashboards.ControlBounds };

/** The alerts the view shows: per-group spend alerts of the customer in the view's unit. */
const shownAlert = (alert: alerts.CustomerAlertView, creditTypeId: string) =>
  alert.alert.alert_type === 'spend_threshold_reached' && (alert.alert.group_values?.length ?? 0) > 0 && alert.alert.credit_type_id === creditTypeId;

/** An alert the view's admin made (and so may remove): the customer's own, marked by its uniqueness key. */
const madeHere = (alert: alerts.Alert, customerId: string) => alert.customer_id === customerId && (alert.uniqueness_key?.startsWith(CONTROLS_ALERT_KEY_PREFIX) ?? false);

async function controlsView(ctx: ServiceContext, grant: ControlsGrant): Promise<ControlsView> {
  const { tenantId, customerId } = grant;
  const creditTypeId = grant.controls.creditTypeId;
  const [customer, creditType, caps, listed] = await Promise.all([
    customers.getCustomer(ctx, { tenantId, customerId }),
    pricing.findCreditType(ctx, { tenantId, creditTypeId }),
    entitlements.capStandings(ctx, { tenantId, customerId, creditTypeId }),
    alerts.listCustomerAlerts(ctx, { tenantId, customerId, statuses: undefined, nextPage: undefined }),
  ]);
  return {
    customerName: customer.name,
    unit: { id: creditTypeId, name: creditType?.name ?? creditTypeId },
    caps: caps.sort((a, b) => a.cap.group_key.localeCompare(b.cap.group_key) || a.cap.group_value.localeCompare(b.cap.group_value)),
    alerts: listed.alerts.filter((alert) => shownAlert(alert, creditTypeId)),
    madeHere: (alert) => madeHere(alert.alert, customerId),
  };
}

/** A group as the page names it: `user ada`. */
const who = (grant: dashboards.EmbedGrant, form: { group_key: string; group_value: string }) =>
  `${names(grant).key(form.group_key)} ${names(grant).value(form.group_key, form.group_value)}`;

/** A spend alert's refusal, named by the form's fields rather than the API's. */
function inFormTerms(error: Invalid): Invalid {
  const fields: Record<string, string> = { 'group_values.0.key': 'group_key', 'group_values.0.value': 'group_value', group_values: 'group_key' };
  const [first, ...others] = error.problems.map((problem) => ({ field: fields[problem.field] ?? problem.field, message: problem.message }));
  return Invalid.all([first!, ...others]);
}

/**
 * The embeddable `controls` view at `/embed/controls?token=…`: the customer's admin sets per-group
 * caps and spend alerts within the bounds signed into the URL. Its forms post the token (the
 * credential) and a one-time token; the answer is the page again, with the outcome beside the
 * form: 200, or 400 (bad input) / 403 (beyond the bounds, or not from this page) / 404 naming
 * every offending field. Nothing is kept in cookies: the view lives in another site's frame.
 */
export function registerControlsRoutes(app: App, assetUrl: AssetUrl, { publicHost }: { publicHost?: string | undefined }): void {
  const refuse = (reply: FastifyReply, message: string) =>
    sendPage(reply, assetUrl, { title: 'Access denied', bodyClass: 'embed', embeddable: true, body: errorBody(403, message) }, 403);

  /** The controls grant a token opens, or the message refusing it. */
  const open = async (ctx: ServiceContext, token: string): Promise<ControlsGrant | string> => {
    const check = await dashboards.verifyEmbedToken(ctx, token);
    if (!check.ok) return check.reason === 'expired' ? 'This link has expired. Open the controls again from the application that showed them.' : 'This link is not valid.';
    if (check.grant.dashboard !== 'controls' || !check.grant.controls) return 'This link does not open the spending controls.';
    return check.grant as ControlsGrant;
  };

  const render = async (request: FastifyRequest, reply: FastifyReply, grant: ControlsGrant, token: string, outcome: ControlsOutcome, status = 200) =>
    sendPage(
      reply,
      assetUrl,
      { title: 'Spending controls', bodyClass: 'embed', embeddable: true, colors: grant.colors, body: controlsPage(await controlsView(request.context, grant), grant, token, outcome) },
      status,
    );

  app.get('/embed/controls', async (request, reply) => {
    const token = tokenOf(request);
    const grant = await open(request.context, token);
    if (typeof grant === 'string') return refuse(reply, grant);
    return render(request, reply, grant, token, {});
  });

  /**
   * A form post: the token opens a controls grant, the post comes from this server's page, the form
   * is well formed, and its one-time token is claimed in the transaction that makes the change.
   */
  const post = <S extends z.ZodType>(
    form: 'cap' | 'alert',
    name: string,
    schema: S,
    handler: (ctx: ServiceContext, grant: ControlsGrant, unit: Unit, body: z.infer<S>) => Promise<string>,
  ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body as Record<string, unknown> | undefined;
      const token = typeof body?.token === 'string' ? body.token : '';
      const grant = await open(request.context, token);
      if (typeof grant === 'string') return refuse(reply, grant);
      if (!fromThisServer(request, publicHost)) return refuse(reply, 'This form did not come from the spending controls page. Nothing was changed.');
      try {
        const parsed = parseControlsForm(schema, body) as z.infer<S> & { once: string };
        const creditType = await pricing.findCreditType(request.context, { tenantId: grant.tenantId, creditTypeId: grant.controls.creditTypeId });
        const unit = { id: grant.controls.creditTypeId, name: creditType?.name ?? grant.controls.creditTypeId };
        const notice = await inTransaction(request.context, async (ctx) => {
          const now = ctx.clock.now();
          const claimed = await claimKey(ctx.db, { tenantId: grant.tenantId, key: `dashboard-form:${parsed.once}`, fingerprint: name, now, expiredBefore: new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS) });
          return claimed ? handler(ctx, grant, unit, parsed) : 'This form was already sent; it was applied once.';
        });
        return render(request, reply, grant, token, { notice, form });
      } catch (error) {
        if (!(error instanceof AppError && error.status < 500)) throw error;
        return render(request, reply, grant, token, { error: error.message, form, values: typedFields(body) }, error.status);
      }
    };

  app.post(
    '/embed/controls/caps',
    post('cap', 'controls-cap', capForm, async (ctx, grant, unit, form) => {
      const bounds = grant.controls;
      const { problems, stored } = beyondBounds(bounds, unit, { group_key: form.group_key, amount: { field: 'amount', typed: form.amount, max: bounds.maxCapAmount, what: 'cap' } });
      const caps = await entitlements.listCaps(ctx, { tenantId: grant.tenantId, customerId: grant.customerId });
      const known = caps.some((cap) => cap.credit_type_id === bounds.creditTypeId && cap.group_key === form.group_key && cap.group_value === form.group_value);
      if (!known && caps.length >= MAX_CONTROL_ENTRIES) problems.push({ field: 'group_value', message: `this account holds ${MAX_CONTROL_ENTRIES} caps, the most it may: remove one first` });
      if (problems.length > 0) throw new BeyondBounds(problems);
      await entitlements.setCap(ctx, { tenantId: grant.tenantId, customerId: grant.customerId, creditTypeId: bounds.creditTypeId, group: { key: form.group_key, value: form.group_value }, amount: stored! });
      return `Cap for ${who(grant, form)} set to ${formatAmount(stored!, unit)} a period.`;
    }),
  );

  app.post(
    '/embed/controls/caps/remove',
    post('cap', 'controls-cap-remove', capRemoveForm, async (ctx, grant, unit, form) => {
      const { problems } = beyondBounds(grant.controls, unit, { group_key: form.group_key });
      if (problems.length > 0) throw new BeyondBounds(problems);
      await entitlements.removeCap(ctx, { tenantId: grant.tenantId, customerId: grant.customerId, creditTypeId: grant.controls.creditTypeId, group: { key: form.group_key, value: form.group_value } });
      return `Cap for ${who(grant, form)} removed.`;
    }),
  );

  app.post(
    '/embed/controls/alerts',
    post('alert', 'controls-alert', alertForm, async (ctx, grant, unit, form) => {
      const bounds = grant.controls;
      const { problems, stored } = beyondBounds(bounds, unit, { group_key: form.group_key, amount: { field: 'threshold', typed: form.threshold, max: bounds.maxAlertThreshold, what: 'alert threshold' } });
      const listed = await alerts.listCustomerAlerts(ctx, { tenantId: grant.tenantId, customerId: grant.customerId, statuses: undefined, nextPage: undefined });
      if (listed.alerts.filter((alert) => madeHere(alert.alert, grant.customerId)).length >= MAX_CONTROL_ENTRIES) {
        problems.push({ field: 'group_value', message: `this account holds ${MAX_CONTROL_ENTRIES} alerts made here, the most it may: remove one first` });
      }
      if (problems.length > 0) throw new BeyondBounds(problems);
      const name = form.name || `Spend of ${who(grant, form)}`;
      const body = parseControlsForm(createAlertBody, {
        alert_type: 'spend_threshold_reached',
        name,
        threshold: stored!.toFixed(),
        customer_id: grant.customerId,
        credit_type_id: bounds.creditTypeId,
        group_values: [{ key: form.group_key, value: form.group_value }],
        uniqueness_key: `${CONTROLS_ALERT_KEY_PREFIX}${newId()}`,
      });
      try {
        await alerts.createAlert(ctx, { tenantId: grant.tenantId, body });
      } catch (error) {
        throw error instanceof Invalid ? inFormTerms(error) : error;
      }
      return `Alert “${name}” added: at ${formatAmount(stored!, unit)} spent this period.`;
    }),
  );

  app.post(
    '/embed/controls/alerts/remove',
    post('alert', 'controls-alert-remove', alertRemoveForm, async (ctx, grant, _unit, form) => {
      const view = await alerts.getCustomerAlert(ctx, { tenantId: grant.tenantId, customerId: grant.customerId, alertId: form.alert_id });
      if (view.alert.archived_at) throw new NotFound(`No alert ${form.alert_id}`);
      if (!madeHere(view.alert, grant.customerId)) throw new BeyondBounds([{ field: 'alert_id', message: 'this alert was set by your provider: ask them to change it' }]);
      await alerts.archiveAlert(ctx, { tenantId: grant.tenantId, alertId: view.alert.id, releaseKey: true });
      return `Alert “${view.alert.name}” removed.`;
    }),
  );
}
