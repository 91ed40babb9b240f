import { signalAfterCommit, type ServiceContext } from '../../lib/context.js';
import { wireNumber, type Decimal } from '../../lib/money.js';
import * as webhooks from '../webhooks/service.js';

/** What the `invoice.finalized` webhook says of an invoice. */
export interface FinalizedInvoiceFacts {
  id: string;
  customerId: string;
  contractId: string;
  type: string;
  creditTypeId: string;
  total: Decimal;
  startingAt: Date;
  endingBefore: Date;
  issuedAt: Date;
}

/**
 * In the transaction that stores a newly finalised invoice (a period's, a seat increase's or a
 * threshold's): its `invoice.finalized` webhook, and, once committed, a nudge to the webhook
 * sender and to billing providers (Stripe pushes finalised invoices; it need not wait for its poll).
 */
export async function announceFinalizedInvoice(tx: ServiceContext, tenantId: string, invoice: FinalizedInvoiceFacts): Promise<void> {
  await webhooks.enqueueWebhookEvent(tx.db, {
    tenantId,
    type: 'invoice.finalized',
    fields: {
      properties: {
        invoice_id: invoice.id,
        customer_id: invoice.customerId,
        contract_id: invoice.contractId,
        invoice_type: invoice.type,
        credit_type_id: invoice.creditTypeId,
        total: wireNumber(invoice.total),
        start_timestamp: invoice.startingAt.toISOString(),
        end_timestamp: invoice.endingBefore.toISOString(),
        issued_at: invoice.issuedAt.toISOString(),
      },
    },
    at: invoice.issuedAt,
  });
  webhooks.signalOutboxWritten(tx, tenantId);
  signalAfterCommit(tx, 'invoicesFinalized', { tenantId });
}
