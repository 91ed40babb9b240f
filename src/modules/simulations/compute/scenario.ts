import type { Decimal } from '../../../lib/money.js';
import type { Period } from '../../../lib/periods.js';
import type { Rate, Tier } from '../../pricing/service.js';

/** A rate the scenario adds to a copy of the rate card: from `startingAt`, the product's price for `pricingGroupValues` (all values when null). */
export interface RateChange {
  productId: string;
  startingAt: Date;
  rateType: 'FLAT' | 'TIERED';
  price: Decimal | null;
  tiers: Tier[] | null;
  creditTypeId: string;
  pricingGroupValues: Record<string, string> | null;
}

/** What a simulation changes: a rate card instead of each contract's own, rates on a copy of it, and contract terms. */
export interface Scenario {
  rateCardId: string | null;
  rateChanges: RateChange[];
  /** Credits per seat of every pooled recurring credit or commit. */
  creditsPerSeat: Decimal | null;
  /** The price of every seat rate (the rates of SUBSCRIPTION products), in its own pricing unit. */
  seatPrice: Decimal | null;
}

const sameValues = (a: Readonly<Record<string, string>> | null, b: Readonly<Record<string, string>> | null) =>
  a === null || b === null ? a === b : Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((key) => a[key] === b[key]);

/**
 * The id of the scenario's `index`-th rate: it sorts after every stored rate id (UUIDs are
 * hexadecimal), and after the scenario's earlier rates, so that between rates with the same
 * `starting_at` the scenario's wins, as the latest added does on a card.
 */
export function scenarioRateId(index: number): string {
  return `simulated-rate-${String(index).padStart(4, '0')}`;
}

/**
 * A period's rates on a copy of the card, as the scenario changes them (pure). Each rate change
 * **replaces** the product's rate for its pricing group values from its `starting_at`: the card's
 * rates for the same product and values that start at or after it are dropped, those that start
 * before it end there, and the change is added. A product the card does not price is priced from
 * then on (a new product). `seatPrice` replaces the price of every seat rate.
 *
 * Example: Chat at 5 AI credits a unit since January; a change to 10 from April 1 prices April's
 * usage at 10, and March's still at 5.
 */
export function scenarioRates(scenario: Scenario, rates: readonly Rate[], period: Pick<Period, 'endingBefore'>, isSeatRate: (rate: Rate) => boolean): Rate[] {
  let result = rates.map((rate) => (scenario.seatPrice !== null && isSeatRate(rate) ? { ...rate, price: scenario.seatPrice } : rate));
  scenario.rateChanges.forEach((change, index) => {
    if (change.startingAt >= period.endingBefore) return;
    result = result.flatMap((rate) => {
      if (rate.productId !== change.productId || !sameValues(rate.pricingGroupValues, change.pricingGroupValues) || isSeatRate(rate)) return [rate];
      if (rate.startingAt >= change.startingAt) return [];
      return [{ ...rate, endingBefore: rate.endingBefore && rate.endingBefore < change.startingAt ? rate.endingBefore : change.startingAt }];
    });
    result.push({
      id: scenarioRateId(index),
      productId: change.productId,
      startingAt: change.startingAt,
      endingBefore: null,
      entitled: true,
      rateType: change.rateType,
      price: change.price,
      tiers: change.tiers,
      creditTypeId: change.creditTypeId,
      billingFrequency: null,
      isProrated: false,
      quantity: null,
      pricingGroupValues: change.pricingGroupValues,
    });
  });
  return result;
}
