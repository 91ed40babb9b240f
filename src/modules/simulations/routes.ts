import { z } from 'zod';
import { Decimal, wireNumber } from '../../lib/money.js';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import { simulationBody, simulationOut } from './schemas.js';
import * as service from './service.js';

/** A simulation on the wire: amounts as numbers (cents for totals, the credit type's units for credits), instants as RFC 3339. */
export function presentSimulation(simulation: service.Simulation) {
  const sum = (pick: (result: service.CustomerResult) => Decimal) => wireNumber(simulation.results.reduce((total, result) => total.add(pick(result)), new Decimal(0)));
  const done = simulation.customerCount === 0 ? 100 : Math.floor((simulation.results.length * 100) / simulation.customerCount);
  return {
    id: simulation.id,
    status: simulation.status,
    percent: simulation.status === 'completed' ? 100 : done,
    created_at: toRfc3339(simulation.createdAt),
    starting_on: toRfc3339(simulation.request.startingOn),
    ending_before: toRfc3339(simulation.request.endingBefore),
    customer_count: simulation.customerCount,
    error: simulation.error,
    totals: { actual: sum((result) => result.actualTotal), simulated: sum((result) => result.simulatedTotal) },
    customers: simulation.results.map((result) => ({
      customer_id: result.customerId,
      credit_type_id: result.creditTypeId,
      actual_total: wireNumber(result.actualTotal),
      simulated_total: wireNumber(result.simulatedTotal),
      credits_burned_actual: wireNumber(result.creditsBurnedActual),
      credits_burned_simulated: wireNumber(result.creditsBurnedSimulated),
      runs_out_at_actual: result.runsOutAtActual && toRfc3339(result.runsOutAtActual),
      runs_out_at_simulated: result.runsOutAtSimulated && toRfc3339(result.runsOutAtSimulated),
      crosses_pool_simulated: result.crossesPoolSimulated,
    })),
  };
}

/** Pricing experiments, Allot's own: replay stored usage under a proposed rate card or contract terms. */
export function registerSimulationRoutes(app: App): void {
  const tags = ['allot'];
  app.post(
    '/v1/allot/pricing/simulations',
    {
      // Read-only: replaying the same scenario twice gives the same answer.
      config: { idempotency: false },
      schema: {
        tags,
        description:
          'Replays the stored usage of `customer_ids` (default: every live customer) over `[starting_on, ending_before)` — a past period or the open one so far — with the engine that bills them, as their contracts stand and under the scenario: an existing rate card (`rate_card_id`), `rate_changes` on a copy of each contract’s card, and/or `contract_changes`. Totals are in cents; credits in `credit_type_id` (default: each customer’s pooled credit’s unit). Nothing billed changes.',
        body: simulationBody,
        response: { 200: z.object({ data: simulationOut }) },
      },
    },
    async (request) => ({ data: presentSimulation(await service.simulate(request.context, { tenantId: request.auth.tenantId, body: request.body })) }),
  );
}
