import type * as pricing from '../../pricing/service.js';
import { seatCharges, type SeatCharge, type SeatPrice } from './seatCharges.js';
import type { Subscription } from './terms.js';

/** A seat charge on a contract's invoice, with what it is called there. */
export interface SeatLine extends SeatCharge {
  /** Stable within the period: the contract, the subscription, the kind and the instant billed. */
  id: string;
  productId: string;
  productTags: string[];
  name: string;
}

/** The seat rates of `rates` (rates of SUBSCRIPTION products) that price `subscription`'s seats, as prices over time. */
export function seatPrices(rates: readonly pricing.Rate[], subscription: Subscription): SeatPrice[] {
  return rates
    .filter((rate) => rate.productId === subscription.product_id && rate.billingFrequency === subscription.billing_frequency && rate.price)
    .map((rate) => ({ startingAt: rate.startingAt, endingBefore: rate.endingBefore, price: rate.price!, creditTypeId: rate.creditTypeId }));
}

/**
 * The seat charges of a contract's subscriptions placed in `period` as of `now`
 * (`seatCharges.ts`), named after the subscription (or its product). `rates`
 * are the rate card's seat rates in force during the period, `products` its subscription products.
 */
export function seatLinesOf({
  contractId,
  period,
  rates,
  products,
  subscriptions,
  now,
}: {
  contractId: string;
  period: { startingAt: Date; endingBefore: Date };
  rates: readonly pricing.Rate[];
  products: ReadonlyMap<string, pricing.Product>;
  subscriptions: readonly Subscription[];
  now: Date;
}): SeatLine[] {
  return subscriptions
    .filter((subscription) => subscription.contract_id === contractId)
    .flatMap((subscription) => {
      const product = products.get(subscription.product_id);
      const name = subscription.name ?? product?.name ?? 'Seats';
      return seatCharges({
        subscription: {
          id: subscription.id,
          name,
          collectionSchedule: subscription.collection_schedule,
          isProrated: subscription.is_prorated,
          invoiceBehavior: subscription.invoice_behavior,
          schedule: subscription.schedule,
          changes: subscription.changes,
          steps: subscription.steps,
        },
        prices: seatPrices(rates, subscription),
        from: period.startingAt,
        to: period.endingBefore,
        now,
      }).map((charge) => ({
        ...charge,
        id: JSON.stringify([contractId, 'subscription', subscription.id, charge.kind, charge.billedAt.toISOString()]),
        productId: subscription.product_id,
        productTags: product?.tags ?? [],
        name,
      }));
    });
}
