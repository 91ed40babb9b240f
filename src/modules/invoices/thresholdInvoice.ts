import type { ServiceContext } from '../../lib/context.js';
import { Decimal } from '../../lib/money.js';
import { announceFinalizedInvoice } from './finalizedAnnouncement.js';
import * as repo from './repo.js';

/**
 * The invoice of a commit a threshold made (docs/rules.md rules 30–31): type `SCHEDULED`, as
 * Metronome invoices a commit, issued at `at` with one `scheduled` line for the commit's product,
 * in whole cents of the fiat unit. `FINALIZED` when the commit was released (its payment, if
 * gated, succeeded), `VOID` when the payment failed (as Metronome voids it). Its id is the
 * charge's, so writing it twice writes it once. A finalised one is announced with `invoice.finalized`,
 * as every finalised invoice is. In the caller's transaction.
 */
export async function issueThresholdInvoice(
  ctx: ServiceContext,
  {
    tenantId,
    invoiceId,
    customerId,
    contractId,
    productId,
    name,
    creditTypeId,
    amountCents,
    at,
    status,
  }: { tenantId: string; invoiceId: string; customerId: string; contractId: string; productId: string; name: string; creditTypeId: string; amountCents: Decimal; at: Date; status: 'FINALIZED' | 'VOID' },
): Promise<void> {
  const total = amountCents.toFixed();
  const inserted = await repo.insertInvoice(ctx.db, tenantId, {
    id: invoiceId,
    customer_id: customerId,
    contract_id: contractId,
    type: 'SCHEDULED',
    status,
    start_timestamp: at,
    end_timestamp: at,
    issued_at: at,
    credit_type_id: creditTypeId,
    total,
    lines: [
      {
        type: 'scheduled',
        name,
        credit_type_id: creditTypeId,
        total,
        quantity: '1',
        unit_price: total,
        product_id: productId,
        pricing_group_values: null,
        applied: null,
        subscription_id: null,
        starting_at: at.toISOString(),
        ending_before: at.toISOString(),
      },
    ],
    finalized_at: at,
    voided_at: status === 'VOID' ? at : null,
  });
  if (inserted && status === 'FINALIZED') {
    await announceFinalizedInvoice(ctx, tenantId, { id: invoiceId, customerId, contractId, type: 'SCHEDULED', creditTypeId, total: amountCents, startingAt: at, endingBefore: at, issuedAt: at });
  }
}
