import type { FastifyReply, FastifyRequest } from 'fastify';
import { inTransaction, type ServiceContext } from '../lib/context.js';
import { AppError, Invalid } from '../lib/errors.js';
import { floorToHour } from '../lib/time.js';
import { IDEMPOTENCY_RETENTION_MS } from '../http/idempotency.js';
import { claimKey } from '../http/idempotencyRepo.js';
import type { App } from '../http/types.js';
import * as alerts from '../modules/alerts/service.js';
import { createAlertBody } from '../modules/alerts/schemas.js';
import * as accounts from '../modules/account/service.js';
import * as contracts from '../modules/contracts/service.js';
import { creditInput, editContractBody } from '../modules/contracts/schemas.js';
import * as customers from '../modules/customers/service.js';
import * as dashboards from '../modules/dashboards/service.js';
import * as pricing from '../modules/pricing/service.js';
import * as tenants from '../modules/tenants/service.js';
import * as usage from '../modules/usage/service.js';
import { formatAmount, unitIn } from './format.js';
import { accountView, customerSummaries, groupProperties, seatHistories, unitsOf } from './accountView.js';
import type { AssetUrl } from './assets.js';
import { alertForm, creditForm, csrfForm, onceForm, parseForm, seatChangeForm, seatPreviewQuery, signInForm, storedAmount } from './forms.js';
import { html } from './html.js';
import { sendPage } from './layout.js';
import { errorBody, operatorHeader } from './pages/chrome.js';
import { customerPage, type FormChoices } from './pages/customerPage.js';
import { customersPage } from './pages/customersPage.js';
import { seatPreviewPage } from './pages/previewPage.js';
import { seatBalancesCard } from './pages/seatSection.js';
import { parseSeatTableQuery, seatTablePage } from './compute/seatTable.js';
import { seatRows } from './seatView.js';
import { signInPage } from './pages/signInPage.js';
import { unmatchedPage, unmatchedPanel } from './pages/unmatchedSection.js';
import type { SignInGuard } from './signInLimit.js';
import { cookieOptions, currentSession, formIsGenuine, newSignInToken, SESSION_COOKIE, setFlash, SIGN_IN_COOKIE, takeFlash, typedValues, type FormName } from './session.js';

const PAGE_SIZE = 25;
/** Unknown customer ids on the customers page; the rest are a link away. */
const UNMATCHED_ON_CUSTOMERS_PAGE = 5;
const DAY_MS = 24 * 60 * 60 * 1000;
const MONEY_ALERTS = new Set(['low_remaining_contract_credit_and_commit_balance_reached', 'low_remaining_seat_balance_reached', 'spend_threshold_reached', 'monthly_invoice_total_spend_threshold_reached']);
const SEAT_ALERT = 'low_remaining_seat_balance_reached';

type Handler = (request: FastifyRequest, reply: FastifyReply, session: dashboards.Session) => Promise<unknown>;

const customerUrl = (customerId: string, form?: FormName) => `/ui/customers/${encodeURIComponent(customerId)}${form ? `#${form}-form` : ''}`;

/** The operator pages: sign-in, the customers, one customer, and the forms that act on it. */
export function registerOperatorRoutes(
  app: App,
  assetUrl: AssetUrl,
  { publicHost, signInGuard }: { publicHost?: string | undefined; signInGuard: SignInGuard },
): void {
  const signedIn =
    (handler: Handler) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const session = await currentSession(request);
      if (!session) return reply.redirect(request.method === 'GET' ? `/ui/sign-in?${new URLSearchParams({ next: request.url }).toString()}` : '/ui/sign-in', 303);
      return handler(request, reply, session);
    };
  // A form post: from this session (CSRF token, origin), and its refusal shown on the customer page.
  // It runs in one transaction with the claim of the form's one-time token: sent twice, it acts once.
  const action =
    (form: FormName, handler: (request: FastifyRequest, ctx: ServiceContext, session: dashboards.Session, customerId: string) => Promise<string>) =>
    signedIn(async (request, reply, session) => {
      const customerId = (request.params as { id: string }).id;
      const body = request.body as Record<string, unknown> | undefined;
      if (!formIsGenuine(request, session, body?.csrf, publicHost)) {
        return sendPage(reply, assetUrl, { title: 'Access denied', header: operatorHeader(session), body: errorBody(403, 'This form did not come from your session. Reload the page and try again.') }, 403);
      }
      try {
        const { once } = parseForm(onceForm, body);
        const notice = await inTransaction(request.context, async (ctx) => {
          const now = ctx.clock.now();
          const key = `dashboard-form:${once}`;
          const claimed = await claimKey(ctx.db, { tenantId: session.tenantId, key, fingerprint: form, now, expiredBefore: new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS) });
          return claimed ? handler(request, ctx, session, customerId) : 'This form was already sent; it was applied once.';
        });
        setFlash(reply, request, { notice, form, customerId });
      } catch (error) {
        if (!(error instanceof AppError && error.status < 500)) throw error;
        setFlash(reply, request, { error: error.message, form, customerId, values: typedValues(body) });
      }
      return reply.redirect(customerUrl(customerId, form), 303);
    });

  app.get('/ui', async (_request, reply) => reply.redirect('/ui/customers', 303));

  app.get('/ui/sign-in', async (request, reply) => {
    const next = afterSignIn((request.query as { next?: unknown }).next);
    if (await currentSession(request)) return reply.redirect(next, 303);
    return sendPage(reply, assetUrl, { title: 'Sign in', body: signInPage({ token: newSignInToken(reply, request), next }) });
  });

  app.post('/ui/sign-in', async (request, reply) => {
    const form = parseForm(signInForm, request.body);
    const next = afterSignIn(form.next);
    const waitSeconds = signInGuard.refusedFor(request);
    if (waitSeconds !== undefined) {
      reply.header('retry-after', String(waitSeconds));
      const error = `Too many sign-ins with a wrong key from your address. Try again in ${waitSeconds} s.`;
      return sendPage(reply, assetUrl, { title: 'Sign in', body: signInPage({ token: newSignInToken(reply, request), next, error }) }, 429);
    }
    const expected = request.cookies[SIGN_IN_COOKIE];
    if (!expected || !dashboards.sameSecret(form.token, expected)) {
      return sendPage(reply, assetUrl, { title: 'Sign in', body: signInPage({ token: newSignInToken(reply, request), next, error: 'The sign-in form expired. Try again.' }) }, 403);
    }
    const auth = await tenants.authenticate(request.context, form.api_key);
    if (!auth) {
      await signInGuard.failed(request);
      return sendPage(reply, assetUrl, { title: 'Sign in', body: signInPage({ token: newSignInToken(reply, request), next, error: 'That API key is unknown or revoked.' }) }, 401);
    }
    const session = await dashboards.openSession(request.context, { tenantId: auth.tenantId, apiKeyId: auth.apiKeyId });
    reply.clearCookie(SIGN_IN_COOKIE, cookieOptions(request, '/ui/sign-in'));
    reply.setCookie(SESSION_COOKIE, session.token, cookieOptions(request, '/ui', Math.floor(dashboards.SESSION_TTL_MS / 1000)));
    return reply.redirect(next, 303);
  });

  app.post(
    '/ui/sign-out',
    signedIn(async (request, reply, session) => {
      const form = csrfForm.safeParse(request.body ?? {});
      if (!form.success || !formIsGenuine(request, session, form.data.csrf, publicHost)) {
        return sendPage(reply, assetUrl, { title: 'Access denied', body: errorBody(403, 'This form did not come from your session.') }, 403);
      }
      await dashboards.endSession(request.context, request.cookies[SESSION_COOKIE]!);
      reply.clearCookie(SESSION_COOKIE, cookieOptions(request, '/ui'));
      return reply.redirect('/ui/sign-in', 303);
    }),
  );

  app.get(
    '/ui/customers',
    signedIn(async (request, reply, session) => {
      const query = request.query as { q?: string; after?: string };
      const search = typeof query.q === 'string' ? query.q.trim().slice(0, 200) : '';
      if (/[\u0000-\u001f\u007f]/.test(search)) throw new Invalid('q', 'must not hold control characters');
      const page = await customers.listCustomers(request.context, {
        tenantId: session.tenantId,
        query: { limit: PAGE_SIZE, nextPage: typeof query.after === 'string' && query.after ? query.after : undefined, search: search || undefined },
      });
      const firstPage = !query.after && !search;
      const [rows, unmatched] = await Promise.all([
        customerSummaries(request.context, { tenantId: session.tenantId, page: page.customers }),
        firstPage ? usage.listUnmatchedEvents(request.context, { tenantId: session.tenantId, limit: UNMATCHED_ON_CUSTOMERS_PAGE }) : undefined,
      ]);
      const panel = unmatched ? unmatchedPanel({ references: unmatched.references, more: unmatched.nextPage !== null }) : '';
      return sendPage(reply, assetUrl, { title: 'Customers', header: operatorHeader(session), body: html`${customersPage({ rows, search, nextPage: page.nextPage })}${panel}` });
    }),
  );

  app.get(
    '/ui/usage/unmatched',
    signedIn(async (request, reply, session) => {
      const after = (request.query as { after?: unknown }).after;
      const page = await usage.listUnmatchedEvents(request.context, { tenantId: session.tenantId, limit: PAGE_SIZE, nextPage: typeof after === 'string' && after ? after : undefined });
      return sendPage(reply, assetUrl, { title: 'Usage for unknown customers', header: operatorHeader(session), body: unmatchedPage({ references: page.references, nextPage: page.nextPage }) });
    }),
  );

  app.get(
    '/ui/customers/:id',
    signedIn(async (request, reply, session) => {
      const customerId = (request.params as { id: string }).id;
      const seatQuery = parseSeatTableQuery(request.query as Record<string, unknown>);
      const [view, choices] = await Promise.all([accountView(request.context, { tenantId: session.tenantId, customerId }), formChoices(request, session.tenantId)]);
      // The seats table, when the customer has SEAT_BASED seats: sorted, searched and paged here, from the query.
      const seatBalances = view.seats.some((seat) => seat.seatIds)
        ? seatBalancesCard({
            base: customerUrl(customerId),
            table: seatTablePage(await seatRows(request.context, { tenantId: session.tenantId, customerId, seats: view.seats }), seatQuery),
            query: seatQuery,
            units: view.units,
            // The contracts with seats: a Contract column only when there are several.
            contractNames: new Map(view.contracts.filter((contract) => view.seats.some((seat) => seat.seatIds && seat.contractId === contract.id)).map((contract) => [contract.id, contract.name ?? contract.id])),
          })
        : undefined;
      return sendPage(reply, assetUrl, {
        title: view.customer.name,
        header: operatorHeader(session),
        body: customerPage({ view, csrf: session.csrfToken, choices, flash: takeFlash(request, reply, customerId), seatBalances }),
      });
    }),
  );

  app.get(
    '/ui/customers/:id/seats/preview',
    signedIn(async (request, reply, session) => {
      const customerId = (request.params as { id: string }).id;
      try {
        const form = parseForm(seatPreviewQuery, request.query);
        const ctx = request.context;
        // Seats change at the instant asked for; the confirmation posts this same instant.
        const startingAt = ctx.clock.now();
        const body = seatEdit(customerId, form, startingAt);
        const [preview, account, customer] = await Promise.all([
          contracts.previewEdit(ctx, { tenantId: session.tenantId, body }),
          accounts.customerAccount(ctx, { tenantId: session.tenantId, customerId }),
          customers.getCustomer(ctx, { tenantId: session.tenantId, customerId }),
        ]);
        const seat = seatHistories(account, ctx.clock.now()).find((s) => s.subscriptionId === form.subscription_id);
        const units = await unitsOf(ctx, session.tenantId, [...preview.granted.keys(), ...preview.charged.keys()]);
        return sendPage(reply, assetUrl, {
          title: 'Change seats',
          header: operatorHeader(session),
          body: seatPreviewPage({
            customerId,
            customerName: customer.name,
            seatName: seat?.name ?? 'Seats',
            from: seat?.quantity ?? 0,
            to: form.quantity,
            startingAt,
            granted: preview.granted,
            charged: preview.charged,
            units,
            confirm: { csrf: session.csrfToken, contractId: form.contract_id, subscriptionId: form.subscription_id },
          }),
        });
      } catch (error) {
        if (!(error instanceof AppError && error.status < 500)) throw error;
        setFlash(reply, request, { error: error.message, form: 'seats', customerId, values: typedValues(request.query) });
        return reply.redirect(customerUrl(customerId, 'seats'), 303);
      }
    }),
  );

  app.post(
    '/ui/customers/:id/seats',
    action('seats', async (request, ctx, session, customerId) => {
      const form = parseForm(seatChangeForm, request.body);
      await contracts.editContract(ctx, { tenantId: session.tenantId, body: seatEdit(customerId, form, new Date(form.starting_at)) });
      return `Seats changed to ${form.quantity}.`;
    }),
  );

  app.post(
    '/ui/customers/:id/credits',
    action('credit', async (request, ctx, session, customerId) => {
      const form = parseForm(creditForm, request.body);
      const now = ctx.clock.now();
      const input = parseForm(creditInput, {
        access_schedule: {
          credit_type_id: form.credit_type_id,
          schedule_items: [
            {
              amount: storedAmount(form.amount, form.credit_type_id).toFixed(),
              starting_at: floorToHour(now).toISOString(),
              // "Usable until" a date includes that day.
              ending_before: new Date(Date.parse(`${form.ending_before}T00:00:00Z`) + DAY_MS).toISOString(),
            },
          ],
        },
        product_id: form.product_id,
        ...(form.name && { name: form.name }),
      });
      await contracts.createCustomerGrant(ctx, { tenantId: session.tenantId, customerId, kind: 'CREDIT', input, applicableContractIds: null });
      const units = await unitsOf(ctx, session.tenantId, [form.credit_type_id]);
      return `Credit of ${formatAmount(storedAmount(form.amount, form.credit_type_id), unitIn(units, form.credit_type_id))} added.`;
    }),
  );

  app.post(
    '/ui/customers/:id/alerts',
    action('alert', async (request, ctx, session, customerId) => {
      const form = parseForm(alertForm, request.body);
      const usageAlert = form.alert_type === 'usage_threshold_reached';
      const body = parseForm(createAlertBody, {
        alert_type: form.alert_type,
        name: form.name,
        // A money alert without a credit type is in USD, as the API defaults it: typed in dollars.
        threshold: storedAmount(form.threshold, MONEY_ALERTS.has(form.alert_type) ? form.credit_type_id || pricing.USD_CREDIT_TYPE_ID : undefined).toFixed(),
        customer_id: customerId,
        ...(usageAlert ? { billable_metric_id: form.billable_metric_id || undefined } : { credit_type_id: form.credit_type_id || undefined }),
        ...(form.group_key && { group_values: [{ key: form.group_key }] }),
        // The seat fields count for a seat alert only; without a seat key the API names seat_filter as required.
        ...(form.alert_type === SEAT_ALERT && form.seat_group_key && { seat_filter: { seat_group_key: form.seat_group_key, ...(form.seat_group_value && { seat_group_value: form.seat_group_value }) } }),
      });
      await alerts.createAlert(ctx, { tenantId: session.tenantId, body });
      return `Alert “${form.name}” created.`;
    }),
  );
}

/** Where to go once signed in: the operator page asked for (only a path under /ui/), else the customers. */
function afterSignIn(next: unknown): string {
  // Printable ASCII only: anything else could not go in a Location header as it is.
  return typeof next === 'string' && next.length <= 1000 && /^\/ui\/[\x21-\x7e]*$/.test(next) && !next.includes('//') && !next.includes('\\')
    ? next
    : '/ui/customers';
}

function seatEdit(customerId: string, form: { contract_id: string; subscription_id: string; quantity: number }, startingAt: Date) {
  return parseForm(editContractBody, {
    customer_id: customerId,
    contract_id: form.contract_id,
    update_subscriptions: [{ subscription_id: form.subscription_id, quantity_updates: [{ starting_at: startingAt.toISOString(), quantity: form.quantity }] }],
  });
}

async function formChoices(request: FastifyRequest, tenantId: string): Promise<FormChoices> {
  const ctx = request.context;
  const [creditTypes, products, metrics] = await Promise.all([
    pricing.listCreditTypes(ctx, { tenantId, query: { limit: 100 } }),
    pricing.listProducts(ctx, { tenantId, query: { limit: 100 } }),
    usage.liveMetrics(ctx, tenantId),
  ]);
  return {
    creditTypes: creditTypes.creditTypes.map((type) => ({ id: type.id, name: type.name })),
    products: products.products.filter((product) => product.row.type === 'FIXED').map((product) => ({ id: product.row.id, name: product.current.name })),
    metrics: metrics.map((metric) => ({ id: metric.id, name: metric.name })),
    groupProperties: groupProperties(metrics),
  };
}


