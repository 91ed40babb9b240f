import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../lib/errors.js';
import type { App } from '../http/types.js';
import * as customers from '../modules/customers/service.js';
import type * as dashboards from '../modules/dashboards/service.js';
import * as pricing from '../modules/pricing/service.js';
import { simulationBody } from '../modules/simulations/schemas.js';
import * as simulations from '../modules/simulations/service.js';
import type { AssetUrl } from './assets.js';
import { simulationView } from './compute/simulationView.js';
import { sendPage } from './layout.js';
import { errorBody, operatorHeader } from './pages/chrome.js';
import { pricingPage, simulationPage } from './pages/pricingPage.js';
import { labelledProblems, simulationBodyOf, type PricingForm } from './pricingForm.js';
import { currentSession, formIsGenuine } from './session.js';

type Handler = (request: FastifyRequest, reply: FastifyReply, session: dashboards.Session) => Promise<unknown>;

const signedIn =
  (handler: Handler) =>
  async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const session = await currentSession(request);
    if (!session) return reply.redirect(request.method === 'GET' ? `/ui/sign-in?${new URLSearchParams({ next: request.url }).toString()}` : '/ui/sign-in', 303);
    return handler(request, reply, session);
  };

/** The first instant of the clock's month and of the next one: the window the form starts with. */
function thisMonth(now: Date): { starting_on: string; ending_before: string } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { starting_on: start.toISOString().replace('.000Z', 'Z'), ending_before: end.toISOString().replace('.000Z', 'Z') };
}

/** The tenant's rate cards, the chosen one (else the first), its flat and tiered usage rates in force now (with names), the usage products it does not price, and its units. */
async function formOf(request: FastifyRequest, session: dashboards.Session, rateCardId: string | undefined, values: Record<string, string>, error?: string): Promise<PricingForm> {
  const ctx = request.context;
  const tenantId = session.tenantId;
  const cards = (await pricing.listRateCards(ctx, { tenantId, query: { limit: 100 } })).rateCards;
  const chosen = cards.find((card) => card.id === rateCardId) ?? cards[0];
  const inForce = chosen ? await pricing.ratesInForce(ctx, { tenantId, rateCardId: chosen.id, at: ctx.clock.now() }) : [];
  const editable = inForce.filter((rate) => !pricing.isSeatRate(rate) && ((rate.rateType === 'FLAT' && rate.price !== null) || (rate.rateType === 'TIERED' && rate.tiers !== null)));
  const unitIds = [...new Set([...editable.map((rate) => rate.creditTypeId), ...(chosen ? [chosen.fiatCreditTypeId, ...chosen.creditTypeConversions.map((conversion) => conversion.customCreditTypeId)] : [])])];
  const [products, creditTypes, live] = await Promise.all([
    pricing.findProducts(ctx, { tenantId, productIds: editable.map((rate) => rate.productId) }),
    pricing.findCreditTypes(ctx, { tenantId, creditTypeIds: unitIds }),
    chosen ? pricing.listProducts(ctx, { tenantId, query: { limit: 100 } }) : { products: [] },
  ]);
  const unit = (id: string) => ({ id, name: creditTypes.get(id)?.name ?? id });
  const rates = editable
    .filter((rate) => products.get(rate.productId)?.type === 'USAGE')
    .map((rate, index) => ({ index, rate, productName: products.get(rate.productId)!.name, unit: unit(rate.creditTypeId) }));
  const priced = new Set(inForce.map((rate) => rate.productId));
  const newProducts = live.products.filter((product) => product.row.type === 'USAGE' && !priced.has(product.row.id)).map((product) => ({ id: product.row.id, name: product.current.name }));
  const units = chosen ? [chosen.fiatCreditTypeId, ...chosen.creditTypeConversions.map((conversion) => conversion.customCreditTypeId)].map(unit) : [];
  return { csrf: session.csrfToken, rateCards: cards.map((card) => ({ id: card.id, name: card.name })), rateCardId: chosen?.id ?? null, rates, newProducts, units, values: { ...thisMonth(ctx.clock.now()), ...values }, error };
}

/** The pricing page (`/ui/pricing`): edit prices on a copy of a rate card, run a simulation, see its results. */
export function registerPricingPages(app: App, assetUrl: AssetUrl, { publicHost }: { publicHost?: string | undefined }): void {
  const list = async (request: FastifyRequest, session: dashboards.Session) =>
    (await simulations.listSimulations(request.context, { tenantId: session.tenantId, query: { limit: 20 } })).simulations;

  app.get(
    '/ui/pricing',
    signedIn(async (request, reply, session) => {
      const rateCardId = (request.query as { rate_card_id?: unknown }).rate_card_id;
      const form = await formOf(request, session, typeof rateCardId === 'string' ? rateCardId : undefined, {});
      return sendPage(reply, assetUrl, { title: 'Pricing experiments', header: operatorHeader(session), body: pricingPage({ form, simulations: await list(request, session) }) });
    }),
  );

  app.post(
    '/ui/pricing',
    signedIn(async (request, reply, session) => {
      const values = Object.fromEntries(Object.entries((request.body as Record<string, unknown> | undefined) ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
      if (!formIsGenuine(request, session, values.csrf, publicHost)) {
        return sendPage(reply, assetUrl, { title: 'Access denied', header: operatorHeader(session), body: errorBody(403, 'This form did not come from your session. Reload the page and try again.') }, 403);
      }
      const form = await formOf(request, session, values.rate_card_id, values);
      const refuse = async (error: string) =>
        sendPage(reply, assetUrl, { title: 'Pricing experiments', header: operatorHeader(session), body: pricingPage({ form: { ...form, error }, simulations: await list(request, session) }) }, 400);
      const { body, problems } = simulationBodyOf(form, values);
      if (problems) return refuse(problems.join('; '));
      const parsed = simulationBody.safeParse(body);
      if (!parsed.success) return refuse(labelledProblems(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '), form, body));
      try {
        const simulation = await simulations.createSimulation(request.context, { tenantId: session.tenantId, body: parsed.data });
        return reply.redirect(`/ui/pricing/${simulation.id}`, 303);
      } catch (failure) {
        if (failure instanceof AppError && failure.status < 500) return refuse(labelledProblems(failure.message, form, body));
        throw failure;
      }
    }),
  );

  app.get(
    '/ui/pricing/:id',
    signedIn(async (request, reply, session) => {
      const simulation = await simulations.getSimulation(request.context, { tenantId: session.tenantId, id: (request.params as { id: string }).id.toLowerCase() });
      const results = simulation.results ?? [];
      const view = simulationView({ results: results.map((result) => ({ customerId: result.customerId, actual: result.actualTotal, simulated: result.simulatedTotal })) });
      const shown = [...new Set([...view.winners, ...view.losers].map((row) => row.customerId).concat(results.slice(0, 200).map((result) => result.customerId)))];
      const names = new Map(await Promise.all(shown.map(async (customerId) => [customerId, (await customers.getCustomer(request.context, { tenantId: session.tenantId, customerId })).name] as const)));
      const { rateChanges } = simulation.request.scenario;
      const [creditTypes, products] = await Promise.all([
        pricing.findCreditTypes(request.context, { tenantId: session.tenantId, creditTypeIds: [...new Set([...results.map((result) => result.creditTypeId), ...rateChanges.map((change) => change.creditTypeId)])] }),
        pricing.findProducts(request.context, { tenantId: session.tenantId, productIds: rateChanges.map((change) => change.productId) }),
      ]);
      const productNames = new Map([...products].map(([id, product]) => [id, product.name]));
      const units = new Map([...creditTypes].map(([id, type]) => [id, { id, name: type.name }]));
      // The customer whose burn-down is shown: the one asked for, else the biggest increase, else the biggest saving, else the first.
      const asked = (request.query as { customer?: unknown }).customer;
      const selected = results.find((result) => result.customerId === (typeof asked === 'string' ? asked.toLowerCase() : undefined))?.customerId ?? (view.losers[0] ?? view.winners[0] ?? results[0])?.customerId;
      if (selected && !names.has(selected)) names.set(selected, (await customers.getCustomer(request.context, { tenantId: session.tenantId, customerId: selected })).name);
      return sendPage(reply, assetUrl, { title: 'Simulation', header: operatorHeader(session), body: simulationPage({ simulation, view, names, units, selected, productNames }) });
    }),
  );
}
