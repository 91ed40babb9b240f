import { Decimal } from '../../../lib/money.js';

export type DenialReason = 'insufficient_balance' | 'cap_reached' | 'no_contract';

export interface Decision {
  allowed: boolean;
  /** What can still be spent after this request (after its hold, when it reserves and is allowed); never below 0. */
  remaining: Decimal;
  reason?: DenialReason;
}

/**
 * Whether `amount` can be spent now. The pool (what the customer's credits and commits of the unit
 * hold now) less the open holds must cover it, and so must what is left of every cap named (a
 * user's or a team's: its amount less what the group spent this period and holds). `remaining` is
 * the smallest of those, after the amount when allowed, without it when not. With no live contract
 * nothing is allowed.
 *
 * Pool 10, holds 7: 3 is allowed (remaining 0), 4 is not (remaining 3, insufficient_balance).
 * Pool 10, ada's cap left 2: 2 is allowed (remaining 0), 3 is not (remaining 2, cap_reached).
 */
export function decide({ pool, held, caps = [], amount, hasContract }: { pool: Decimal; held: Decimal; caps?: readonly Decimal[]; amount: Decimal; hasContract: boolean }): Decision {
  if (!hasContract) return { allowed: false, remaining: new Decimal(0), reason: 'no_contract' };
  const inPool = Decimal.max(pool.minus(held), 0);
  const underCaps = caps.length ? Decimal.max(Decimal.min(...caps), 0) : null;
  const available = underCaps === null ? inPool : Decimal.min(inPool, underCaps);
  if (inPool.lt(amount)) return { allowed: false, remaining: available, reason: 'insufficient_balance' };
  if (underCaps !== null && underCaps.lt(amount)) return { allowed: false, remaining: available, reason: 'cap_reached' };
  return { allowed: true, remaining: available.minus(amount) };
}
