import { Decimal } from '../../../lib/money.js';

export type DenialReason = 'insufficient_balance' | 'no_contract';

export interface Decision {
  allowed: boolean;
  /** What can still be spent after this request (after its hold, when it reserves and is allowed); never below 0. */
  remaining: Decimal;
  reason?: DenialReason;
}

/**
 * Whether `amount` can be spent now: the pool (what the customer's credits and commits of the unit
 * hold now) less the open holds must cover it. `remaining` is what is left after it when allowed,
 * and what is left without it when not. With no live contract nothing is allowed.
 *
 * Pool 10, holds 7: 3 is allowed (remaining 0), 4 is not (remaining 3, insufficient_balance).
 */
export function decide({ pool, held, amount, hasContract }: { pool: Decimal; held: Decimal; amount: Decimal; hasContract: boolean }): Decision {
  const available = Decimal.max(pool.minus(held), 0);
  if (!hasContract) return { allowed: false, remaining: new Decimal(0), reason: 'no_contract' };
  if (available.lt(amount)) return { allowed: false, remaining: available, reason: 'insufficient_balance' };
  return { allowed: true, remaining: available.minus(amount) };
}
