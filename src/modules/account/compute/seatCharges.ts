import { Decimal } from '../../../lib/money.js';
import { periodsBetween, type Period, type PeriodSchedule } from '../../../lib/periods.js';
import { coveredFraction, prorate, remainingFraction, WHOLE, type Fraction } from '../../../lib/proration.js';
import { quantityAt, quantityKnownAt, stepsDuring, type QuantityChange, type QuantityStep } from '../../../lib/quantitySchedule.js';

/** A seat subscription as billing sees it. */
export interface BilledSubscription {
  id: string;
  name: string;
  collectionSchedule: 'ADVANCE' | 'ARREARS';
  isProrated: boolean;
  invoiceBehavior: 'BILL_IMMEDIATELY' | 'BILL_ON_NEXT_COLLECTION_DATE';
  /** The subscription's billing periods. */
  schedule: PeriodSchedule;
  changes: readonly QuantityChange[];
  steps: readonly QuantityStep[];
}

/** A subscription rate's price per seat and billing period, from some instant on. */
export interface SeatPrice {
  startingAt: Date;
  endingBefore: Date | null;
  price: Decimal;
  creditTypeId: string;
}

/** One charge for seats. */
export interface SeatCharge {
  subscriptionId: string;
  /** `PERIOD`: the period's seats; `INCREASE`: seats added above the period's high-water mark. */
  kind: 'PERIOD' | 'INCREASE';
  /** The instant that places the charge on an invoice: the invoice whose period contains it. */
  billedAt: Date;
  /** The service window charged for. */
  startingAt: Date;
  endingBefore: Date;
  /** Seats charged (time-weighted for prorated ARREARS). */
  quantity: Decimal;
  unitPrice: Decimal;
  creditTypeId: string;
  amount: Decimal;
  /** A BILL_IMMEDIATELY increase: billed on an invoice of its own at `billedAt`. */
  immediate: boolean;
}

function priceAt(prices: readonly SeatPrice[], at: Date): SeatPrice | undefined {
  return prices
    .filter((price) => price.startingAt <= at && (price.endingBefore === null || at < price.endingBefore))
    .sort((a, b) => b.startingAt.getTime() - a.startingAt.getTime())[0];
}

const LAST_INSTANT_MS = 1;

/**
 * The seat charges of `subscription` placed in `[from, to)` (docs/rules.md rule 8), as of `now` (an
 * increase is charged once the clock reaches it):
 *
 * - `ADVANCE`: at each billing period's start, the quantity at that start × the price (times the
 *   covered fraction of a short first or last period when prorated). Raising the quantity to
 *   `q` above the period's high-water mark `H` at `t` charges `(q − H) × price`, times the
 *   remaining fraction at `t` when prorated, and sets `H = q`; a decrease charges nothing and
 *   credits nothing. 10 seats at 1,000: 10→15 charges 5,000; 10→5 charges 0; 10→5→15 charges
 *   5,000; 10→15→20 charges 5,000 twice. $25 seats, +4 at half the period, prorated: 5,000.
 *   An increase is billed at `t` (on the invoice whose period contains it), or on an invoice of
 *   its own when `BILL_IMMEDIATELY`.
 * - `ARREARS`: at the period's end, the time-weighted quantity × price when prorated (10 seats
 *   for the first half and 20 for the second bill 15), else the quantity in force at the end.
 *
 * A price of 0 is legal (another system bills the seats): each billing period yields one charge
 * of 0, for its start (or its end, in arrears), and an increase at a price of 0 none, so that
 * 10 → 15 → 20 seats at 0 is one line of 0, not three.
 */
export function seatCharges({
  subscription,
  prices,
  from,
  to,
  now,
}: {
  subscription: BilledSubscription;
  prices: readonly SeatPrice[];
  from: Date;
  to: Date;
  now: Date;
}): SeatCharge[] {
  const charges: SeatCharge[] = [];
  // A charge is placed at its period's start, an instant inside it, or its last instant: every
  // period with a charge in [from, to) overlaps it.
  const periods = periodsBetween(subscription.schedule, { from, to });
  const inRange = (at: Date) => at >= from && at < to && at <= now;
  for (const period of periods) {
    if (subscription.collectionSchedule === 'ADVANCE') charges.push(...advanceCharges(subscription, prices, period).filter((charge) => inRange(charge.billedAt)));
    else {
      const charge = arrearsCharge(subscription, prices, period);
      if (charge && inRange(charge.billedAt)) charges.push(charge);
    }
  }
  return charges;
}

function charge(
  subscription: BilledSubscription,
  price: SeatPrice,
  fields: { kind: SeatCharge['kind']; billedAt: Date; startingAt: Date; endingBefore: Date; quantity: Decimal; fraction: Fraction },
): SeatCharge {
  const { fraction, ...rest } = fields;
  return {
    subscriptionId: subscription.id,
    ...rest,
    unitPrice: price.price,
    creditTypeId: price.creditTypeId,
    amount: prorate(price.price.mul(fields.quantity), fraction),
    immediate: fields.kind === 'INCREASE' && subscription.invoiceBehavior === 'BILL_IMMEDIATELY',
  };
}

function advanceCharges(subscription: BilledSubscription, prices: readonly SeatPrice[], period: Period): SeatCharge[] {
  const charges: SeatCharge[] = [];
  const startPrice = priceAt(prices, period.startingAt);
  // The period's start is billed for the quantity as it stood then; a change backdated to it is an increase at the start.
  let highWaterMark = quantityKnownAt(subscription.changes, period.startingAt);
  if (startPrice) {
    charges.push(
      charge(subscription, startPrice, {
        kind: 'PERIOD',
        billedAt: period.startingAt,
        startingAt: period.startingAt,
        endingBefore: period.endingBefore,
        quantity: new Decimal(highWaterMark),
        fraction: subscription.isProrated ? coveredFraction(period) : WHOLE,
      }),
    );
  }
  for (const step of stepsDuring(subscription.steps, period)) {
    if (step.quantity <= highWaterMark) continue;
    const price = priceAt(prices, step.startingAt);
    // An increase at a price of 0 would be a line of 0 per seat change: the period's line shows the subscription once.
    if (price && !price.price.isZero()) {
      charges.push(
        charge(subscription, price, {
          kind: 'INCREASE',
          billedAt: step.startingAt,
          startingAt: step.startingAt,
          endingBefore: period.endingBefore,
          quantity: new Decimal(step.quantity - highWaterMark),
          fraction: subscription.isProrated ? remainingFraction(period, step.startingAt) : WHOLE,
        }),
      );
    }
    highWaterMark = step.quantity;
  }
  return charges;
}

function arrearsCharge(subscription: BilledSubscription, prices: readonly SeatPrice[], period: Period): SeatCharge | undefined {
  const last = new Date(period.endingBefore.getTime() - LAST_INSTANT_MS);
  const price = priceAt(prices, period.startingAt);
  if (!price) return undefined;
  const base = { kind: 'PERIOD' as const, billedAt: last, startingAt: period.startingAt, endingBefore: period.endingBefore };
  if (!subscription.isProrated) return charge(subscription, price, { ...base, quantity: new Decimal(quantityAt(subscription.steps, last)), fraction: WHOLE });
  // Seat-time over the whole period's length: each step's quantity × the share of the period it held.
  const full = BigInt(period.fullEndingBefore.getTime() - period.fullStartingAt.getTime());
  let weighted = new Decimal(0);
  const boundaries = [period.startingAt, ...stepsDuring(subscription.steps, period).map((step) => step.startingAt), period.endingBefore];
  for (let i = 0; i + 1 < boundaries.length; i++) {
    const [start, end] = [boundaries[i]!, boundaries[i + 1]!];
    if (end <= start) continue;
    weighted = weighted.add(prorate(new Decimal(quantityAt(subscription.steps, start)), { numerator: BigInt(end.getTime() - start.getTime()), denominator: full }));
  }
  return charge(subscription, price, { ...base, quantity: weighted, fraction: WHOLE });
}
