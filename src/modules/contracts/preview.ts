import type { ServiceContext } from '../../lib/context.js';
import { inTransaction } from '../../lib/context.js';
import { Decimal } from '../../lib/money.js';
import { customerAccount } from '../account/service.js';
import * as repo from './repo.js';

/** What an edit would change, per pricing unit: credits and commits granted, and seat charges of the open periods. */
export interface EditPreview {
  /** Balance after minus before, by credit type (a seat increase's prorated pooled credit). */
  granted: Map<string, Decimal>;
  /** Seat charges of the open periods after minus before, by pricing unit (immediately billed increases included). */
  charged: Map<string, Decimal>;
}

interface Totals {
  balances: Map<string, Decimal>;
  charges: Map<string, Decimal>;
}

function add(totals: Map<string, Decimal>, key: string, amount: Decimal): void {
  totals.set(key, (totals.get(key) ?? new Decimal(0)).add(amount));
}

async function totalsNow(ctx: ServiceContext, tenantId: string, customerId: string): Promise<Totals> {
  const contracts = await repo.listContracts(ctx.db, tenantId, customerId);
  const account = await customerAccount(ctx, { tenantId, customerId, contracts });
  const balances = new Map<string, Decimal>();
  // Settled periods of recurring grants have ended with nothing left: `current` has every balance that moves.
  for (const balance of account.current) if (!balance.archivedAt) add(balances, balance.creditTypeId, balance.balance);
  const charges = new Map<string, Decimal>();
  for (const line of account.seatCharges) add(charges, line.creditTypeId, line.amount);
  return { balances, charges };
}

function difference(after: Map<string, Decimal>, before: Map<string, Decimal>): Map<string, Decimal> {
  const out = new Map<string, Decimal>();
  for (const key of new Set([...after.keys(), ...before.keys()])) {
    const delta = (after.get(key) ?? new Decimal(0)).sub(before.get(key) ?? new Decimal(0));
    if (!delta.isZero()) out.set(key, delta);
  }
  return out;
}

class Discard extends Error {
  constructor(readonly preview: EditPreview) {
    super('preview: discarded');
  }
}

/**
 * What `change` (an edit of the customer's contracts, `previewEdit` in service.ts) would do to the
 * customer's balances and seat charges, without doing it: the change runs, by the same code, in a
 * transaction that is rolled back once the account has been read before and after it (nothing is
 * written, no webhook is sent). Refused as the change would be.
 *
 * Example: 100 seats at $10 with 50 pooled credits each, +10 seats at half of April → granted
 * +250 credits, charged +$50 (5,000 cents).
 */
export async function previewChange(
  ctx: ServiceContext,
  { tenantId, customerId, change }: { tenantId: string; customerId: string; change: (txContext: ServiceContext) => Promise<unknown> },
): Promise<EditPreview> {
  try {
    await inTransaction(ctx, async (txContext) => {
      const before = await totalsNow(txContext, tenantId, customerId);
      await change(txContext);
      const after = await totalsNow(txContext, tenantId, customerId);
      throw new Discard({ granted: difference(after.balances, before.balances), charged: difference(after.charges, before.charges) });
    });
  } catch (error) {
    if (error instanceof Discard) return error.preview;
    throw error;
  }
  throw new Error('unreachable: a preview always rolls back');
}
