import { inTransaction, type ServiceContext } from '../../lib/context.js';
import { Conflict, Invalid, Problems } from '../../lib/errors.js';
import * as pricing from '../pricing/service.js';
import { customerContracts } from '../account/service.js';
import * as repo from './repo.js';
import { getSimulation } from './service.js';

/** What shipping added: per rate card, the ids of the rates, in the order of the simulation's rate changes. */
export interface Shipped {
  rateCards: { rateCardId: string; rateIds: string[] }[];
}

/**
 * Ships a completed simulation's rate changes: adds them, from `startingAt`, to the rate cards
 * they were simulated on — the scenario's `rate_card_id`, or the cards of the simulated
 * customers' live contracts (every customer on those cards gets the new rates) — narrowed to
 * `rateCardIds` when given, through `pricing`'s `addRates`, the function behind the SDK's
 * `rateCards.rates.addMany`: the same checks, and every card in one transaction, all or none.
 * Rates are appended, never edited: from `startingAt` each change is the product's rate for its
 * pricing group values (the latest `starting_at` wins), and what was billed before stays.
 * Contract changes (credits per seat, seat price) are terms of each contract and are not shipped.
 */
export async function shipSimulation(
  ctx: ServiceContext,
  { tenantId, id, startingAt, rateCardIds }: { tenantId: string; id: string; startingAt: Date; rateCardIds: string[] | undefined },
): Promise<Shipped> {
  const simulation = await getSimulation(ctx, { tenantId, id });
  if (simulation.status !== 'completed') throw new Conflict(`The pricing simulation ${id} is ${simulation.status}: only a completed one can be shipped`);
  const { scenario } = simulation.request;
  const problems = new Problems();
  problems.check(scenario.rateChanges.length > 0, 'id', 'the simulation changes no rates: nothing to ship (contract changes are edits of each contract)');
  problems.check(startingAt >= ctx.clock.now(), 'starting_at', 'must not be in the past: shipped rates change prices from now on, never what was used');
  const simulated = scenario.rateCardId ? [scenario.rateCardId] : await cardsOf(ctx, tenantId, (await repo.findSimulation(ctx.db, tenantId, id))!.customer_ids);
  const cards = rateCardIds?.map((rateCardId) => rateCardId.toLowerCase()) ?? simulated;
  rateCardIds?.forEach((rateCardId, index) => problems.check(simulated.includes(rateCardId.toLowerCase()), `rate_card_ids.${index}`, `the simulation did not rate any customer with the rate card ${rateCardId}`));
  problems.throwIfAny();
  if (cards.length === 0) throw new Invalid('id', 'none of the simulated customers has a live contract with a rate card: nothing to ship to');
  const rates: pricing.RateInput[] = scenario.rateChanges.map((change) => ({
    product_id: change.productId,
    entitled: true,
    rate_type: change.rateType,
    starting_at: startingAt,
    credit_type_id: change.creditTypeId,
    ...(change.price !== null && { price: change.price }),
    ...(change.tiers !== null && { tiers: change.tiers.map((tier) => ({ ...(tier.size !== null && { size: tier.size }), price: tier.price })) }),
    ...(change.pricingGroupValues !== null && { pricing_group_values: change.pricingGroupValues }),
  }));
  return inTransaction(ctx, async (tx) => {
    const shipped: Shipped['rateCards'] = [];
    for (const rateCardId of cards) {
      const added = await pricing.addRates(tx, { tenantId, rateCardId, rates, fieldPrefix: (index) => `rate_changes.${index}.` });
      shipped.push({ rateCardId, rateIds: added.map((rate) => rate.id) });
    }
    return { rateCards: shipped };
  });
}

/** The rate cards of the customers' live contracts, each once, in the order first seen. */
async function cardsOf(ctx: ServiceContext, tenantId: string, customerIds: readonly string[]): Promise<string[]> {
  const cards = new Set<string>();
  for (const customerId of customerIds) {
    for (const contract of await customerContracts(ctx, { tenantId, customerId })) if (!contract.archived_at && contract.rate_card_id) cards.add(contract.rate_card_id);
  }
  return [...cards];
}
