import { Decimal, toNumericText } from '../../lib/money.js';
import type { RateChange } from './compute/scenario.js';
import type { SimulationRequest } from './request.js';
import type { CustomerResult } from './simulate.js';

/** A simulation's request as stored (`pricing_simulations.request`): amounts as decimal text, instants as ISO text. */
export interface StoredRequest {
  starting_on: string;
  ending_before: string;
  as_of: string;
  credit_type_id: string | null;
  customer_ids: string[] | null;
  rate_card_id: string | null;
  rate_changes: {
    product_id: string;
    starting_at: string;
    rate_type: 'FLAT' | 'TIERED';
    price: string | null;
    tiers: { size: string | null; price: string }[] | null;
    credit_type_id: string;
    pricing_group_values: Record<string, string> | null;
  }[];
  credits_per_seat: string | null;
  seat_price: string | null;
}

/** One customer's result as stored (`pricing_simulation_results.result`). */
export interface StoredResult {
  credit_type_id: string;
  actual_total: string;
  simulated_total: string;
  credits_burned_actual: string;
  credits_burned_simulated: string;
  runs_out_at_actual: string | null;
  runs_out_at_simulated: string | null;
  crosses_pool_simulated: boolean;
  /** Absent from results stored before it was kept. */
  burn_down?: { at: string; actual_remaining: string | null; simulated_remaining: string | null }[];
}

const text = (value: Decimal | null) => (value === null ? null : toNumericText(value));
const decimal = (value: string | null) => (value === null ? null : new Decimal(value));
const date = (value: string | null) => (value === null ? null : new Date(value));

export function storedRequest(request: SimulationRequest, asOf: Date): StoredRequest {
  const { scenario } = request;
  return {
    starting_on: request.startingOn.toISOString(),
    ending_before: request.endingBefore.toISOString(),
    as_of: asOf.toISOString(),
    credit_type_id: request.creditTypeId,
    customer_ids: request.customerIds,
    rate_card_id: scenario.rateCardId,
    rate_changes: scenario.rateChanges.map((change) => ({
      product_id: change.productId,
      starting_at: change.startingAt.toISOString(),
      rate_type: change.rateType,
      price: text(change.price),
      tiers: change.tiers && change.tiers.map((tier) => ({ size: text(tier.size), price: toNumericText(tier.price) })),
      credit_type_id: change.creditTypeId,
      pricing_group_values: change.pricingGroupValues,
    })),
    credits_per_seat: text(scenario.creditsPerSeat),
    seat_price: text(scenario.seatPrice),
  };
}

export function requestOf(stored: StoredRequest): { request: SimulationRequest; asOf: Date } {
  const rateChanges = stored.rate_changes.map(
    (change): RateChange => ({
      productId: change.product_id,
      startingAt: new Date(change.starting_at),
      rateType: change.rate_type,
      price: decimal(change.price),
      tiers: change.tiers && change.tiers.map((tier) => ({ size: decimal(tier.size), price: new Decimal(tier.price) })),
      creditTypeId: change.credit_type_id,
      pricingGroupValues: change.pricing_group_values,
    }),
  );
  return {
    request: {
      startingOn: new Date(stored.starting_on),
      endingBefore: new Date(stored.ending_before),
      customerIds: stored.customer_ids,
      creditTypeId: stored.credit_type_id,
      scenario: { rateCardId: stored.rate_card_id, rateChanges, creditsPerSeat: decimal(stored.credits_per_seat), seatPrice: decimal(stored.seat_price) },
    },
    asOf: new Date(stored.as_of),
  };
}

export function storedResult(result: CustomerResult): StoredResult {
  return {
    credit_type_id: result.creditTypeId,
    actual_total: toNumericText(result.actualTotal),
    simulated_total: toNumericText(result.simulatedTotal),
    credits_burned_actual: toNumericText(result.creditsBurnedActual),
    credits_burned_simulated: toNumericText(result.creditsBurnedSimulated),
    runs_out_at_actual: result.runsOutAtActual?.toISOString() ?? null,
    runs_out_at_simulated: result.runsOutAtSimulated?.toISOString() ?? null,
    crosses_pool_simulated: result.crossesPoolSimulated,
    burn_down: result.burnDown.map((point) => ({ at: point.at.toISOString(), actual_remaining: text(point.actualRemaining), simulated_remaining: text(point.simulatedRemaining) })),
  };
}

export function resultOf(customerId: string, stored: StoredResult): CustomerResult {
  return {
    customerId,
    creditTypeId: stored.credit_type_id,
    actualTotal: new Decimal(stored.actual_total),
    simulatedTotal: new Decimal(stored.simulated_total),
    creditsBurnedActual: new Decimal(stored.credits_burned_actual),
    creditsBurnedSimulated: new Decimal(stored.credits_burned_simulated),
    runsOutAtActual: date(stored.runs_out_at_actual),
    runsOutAtSimulated: date(stored.runs_out_at_simulated),
    crossesPoolSimulated: stored.crosses_pool_simulated,
    burnDown: (stored.burn_down ?? []).map((point) => ({ at: new Date(point.at), actualRemaining: decimal(point.actual_remaining), simulatedRemaining: decimal(point.simulated_remaining) })),
  };
}
