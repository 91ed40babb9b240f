import { Decimal } from '../../../lib/money.js';

/**
 * Auto top-up (docs/rules.md rule 30): when the balance in the configuration's pricing unit is at
 * or below `threshold`, the commit that brings it back to `rechargeTo`; null while it is above.
 * USD, threshold 1,000 cents, recharge to 5,000: a balance of 900 → 4,100; 1,000 → 4,000; 1,001 →
 * nothing. A balance is never below 0 (an overdrawn segment counts as 0), so the commit is at most
 * `rechargeTo`.
 */
export function rechargeAmount({ balance, threshold, rechargeTo }: { balance: Decimal; threshold: Decimal; rechargeTo: Decimal }): Decimal | null {
  if (balance.gt(threshold)) return null;
  const amount = rechargeTo.sub(Decimal.max(balance, 0));
  return amount.gt(0) ? amount : null;
}

/**
 * What a payment gate charges for a commit of `amount`, in whole cents of the fiat unit: the
 * amount itself when it is fiat, else the amount at the rate card's `fiat_per_custom_credit`;
 * rounded half up to the cent once, here. 4,100 cents → 4,100; 250 AI credits at 2.5 cents →
 * 625; 100.5 cents → 101.
 */
export function chargeCents({ amount, fiatPerUnit }: { amount: Decimal; fiatPerUnit: Decimal | null }): Decimal {
  return (fiatPerUnit ? amount.mul(fiatPerUnit) : amount).toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
}

/**
 * Threshold billing (docs/rules.md rule 31): when the period's spend not yet paid for reaches
 * `threshold`, a commit of all of it is charged, and the running spend starts again from 0; null
 * below it. Threshold 1,000 cents: a spend of 1,200 → 1,200; 1,000 → 1,000; 999.99 → nothing.
 */
export function thresholdBillingAmount({ spend, threshold }: { spend: Decimal; threshold: Decimal }): Decimal | null {
  return spend.gte(threshold) && spend.gt(0) ? spend : null;
}
