import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.js';
import { wireNumber } from '../../lib/money.js';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import { simulationBody, simulationOut, simulationSummaryOut } from './schemas.js';
import * as service from './service.js';
import { shipSimulation } from './ship.js';
import { hourInstant } from '../../lib/time.js';

/** A simulation on the wire, without its customers: amounts as numbers (cents), instants as RFC 3339. */
function presentSummary(simulation: service.Simulation) {
  const percent = simulation.status === 'completed' || simulation.customerCount === 0 ? 100 : Math.floor((simulation.done * 100) / simulation.customerCount);
  return {
    id: simulation.id,
    status: simulation.status,
    percent,
    created_at: toRfc3339(simulation.createdAt),
    starting_on: toRfc3339(simulation.request.startingOn),
    ending_before: toRfc3339(simulation.request.endingBefore),
    customer_count: simulation.customerCount,
    error: simulation.error,
    totals: { actual: wireNumber(simulation.totals.actual), simulated: wireNumber(simulation.totals.simulated) },
  };
}

/** A simulation on the wire with each customer's result so far (credits in the customer's `credit_type_id`). */
export function presentSimulation(simulation: service.Simulation) {
  return {
    ...presentSummary(simulation),
    customers: (simulation.results ?? []).map((result) => ({
      customer_id: result.customerId,
      credit_type_id: result.creditTypeId,
      actual_total: wireNumber(result.actualTotal),
      simulated_total: wireNumber(result.simulatedTotal),
      credits_burned_actual: wireNumber(result.creditsBurnedActual),
      credits_burned_simulated: wireNumber(result.creditsBurnedSimulated),
      runs_out_at_actual: result.runsOutAtActual && toRfc3339(result.runsOutAtActual),
      runs_out_at_simulated: result.runsOutAtSimulated && toRfc3339(result.runsOutAtSimulated),
      crosses_pool_simulated: result.crossesPoolSimulated,
      burn_down: result.burnDown.map((point) => ({
        date: toRfc3339(point.at),
        actual_remaining: point.actualRemaining && wireNumber(point.actualRemaining),
        simulated_remaining: point.simulatedRemaining && wireNumber(point.simulatedRemaining),
      })),
    })),
  };
}

const idParams = z.strictObject({ id: z.string() });
const shipBody = z.strictObject({
  starting_at: hourInstant,
  rate_card_ids: z.array(z.string().min(1, 'must not be empty')).min(1, 'must name at least one rate card, or be left out for all').optional(),
});

/** Pricing experiments, Allot's own: replay stored usage under a proposed rate card or contract terms, as jobs kept and listed. */
export function registerSimulationRoutes(app: App): void {
  const tags = ['allot'];
  app.post(
    '/v1/allot/pricing/simulations',
    {
      schema: {
        tags,
        description: `Replays the stored usage of \`customer_ids\` (default: every live customer) over \`[starting_on, ending_before)\` — a past period or the open one so far — with the engine that bills them, as their contracts stand and under the scenario: an existing rate card (\`rate_card_id\`), \`rate_changes\` on a copy of each contract’s card, and/or \`contract_changes\`. Totals are in cents; credits in \`credit_type_id\` (default: each customer’s pooled credit’s unit). Nothing billed changes. Up to ${service.INLINE_CUSTOMERS} customers are answered \`completed\`; more are answered \`queued\` and run as a job (\`GET /v1/allot/pricing/simulations/{id}\`).`,
        body: simulationBody,
        response: { 200: z.object({ data: simulationOut }) },
      },
    },
    async (request) => ({ data: presentSimulation(await service.createSimulation(request.context, { tenantId: request.auth.tenantId, body: request.body })) }),
  );
  app.get(
    '/v1/allot/pricing/simulations',
    { schema: { tags, description: 'The simulations, newest first, with their status, progress and totals so far.', querystring: pageQuery, response: { 200: z.object({ data: z.array(simulationSummaryOut), next_page: z.string().nullable() }) } } },
    async (request) => {
      const { simulations, nextPage } = await service.listSimulations(request.context, { tenantId: request.auth.tenantId, query: { limit: request.query.limit, nextPage: request.query.next_page } });
      return { data: simulations.map(presentSummary), next_page: nextPage };
    },
  );
  app.get(
    '/v1/allot/pricing/simulations/:id',
    { schema: { tags, description: 'A simulation: its status, percent done, and each customer’s result so far.', params: idParams, response: { 200: z.object({ data: simulationOut }) } } },
    async (request) => ({ data: presentSimulation(await service.getSimulation(request.context, { tenantId: request.auth.tenantId, id: request.params.id.toLowerCase() })) }),
  );
  app.post(
    '/v1/allot/pricing/simulations/:id/cancel',
    { schema: { tags, description: 'Stops a queued or running simulation before its next customer; the results so far are kept. A finished one is a 409.', params: idParams, response: { 200: z.object({ data: simulationOut }) } } },
    async (request) => ({ data: presentSimulation(await service.cancelSimulation(request.context, { tenantId: request.auth.tenantId, id: request.params.id.toLowerCase() })) }),
  );
  app.post(
    '/v1/allot/pricing/simulations/:id/ship',
    {
      schema: {
        tags,
        description:
          'Ships a completed simulation’s rate changes: adds them from `starting_at` (not in the past) to the rate cards they were simulated on — the scenario’s `rate_card_id`, or the cards of the simulated customers’ live contracts, narrowed by `rate_card_ids` — as `rateCards.rates.addMany` does, all or none. Contract changes are not shipped.',
        params: idParams,
        body: shipBody,
        response: { 200: z.object({ data: z.object({ rate_cards: z.array(z.object({ rate_card_id: z.string(), rate_ids: z.array(z.string()) })) }) }) },
      },
    },
    async (request) => {
      const shipped = await shipSimulation(request.context, { tenantId: request.auth.tenantId, id: request.params.id.toLowerCase(), startingAt: request.body.starting_at, rateCardIds: request.body.rate_card_ids });
      return { data: { rate_cards: shipped.rateCards.map((card) => ({ rate_card_id: card.rateCardId, rate_ids: card.rateIds })) } };
    },
  );
}
