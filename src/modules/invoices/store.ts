import type { ServiceContext } from '../../lib/context.js';
import { toNumericText } from '../../lib/money.js';
import type { Invoice, InvoiceLine } from './compute/buildInvoice.js';
import { announceFinalizedInvoice } from './finalizedAnnouncement.js';
import * as repo from './repo.js';

export function toStoredLine(line: InvoiceLine): repo.StoredLine {
  return {
    type: line.type,
    name: line.name,
    credit_type_id: line.creditTypeId,
    total: toNumericText(line.total),
    quantity: line.quantity === null ? null : toNumericText(line.quantity),
    unit_price: line.unitPrice === null ? null : toNumericText(line.unitPrice),
    product_id: line.productId,
    pricing_group_values: line.pricingGroupValues,
    applied: line.applied && { grant_id: line.applied.grantId, segment_id: line.applied.segmentId, kind: line.applied.kind },
    subscription_id: line.subscriptionId,
    starting_at: line.startingAt.toISOString(),
    ending_before: line.endingBefore.toISOString(),
  };
}

/** Stores a finalised invoice and its `invoice.finalized` webhook; false when it was already stored. */
export async function store(tx: ServiceContext, tenantId: string, invoice: Invoice): Promise<boolean> {
  const inserted = await repo.insertInvoice(tx.db, tenantId, {
    id: invoice.id,
    customer_id: invoice.customerId,
    contract_id: invoice.contractId,
    type: invoice.type,
    status: 'FINALIZED',
    start_timestamp: invoice.period.startingAt,
    end_timestamp: invoice.period.endingBefore,
    issued_at: invoice.issuedAt,
    credit_type_id: invoice.creditTypeId,
    total: invoice.total.toFixed(),
    lines: invoice.lines.map(toStoredLine),
    finalized_at: invoice.finalizedAt!,
    voided_at: null,
  });
  if (!inserted) return false;
  await announceFinalizedInvoice(tx, tenantId, {
    id: invoice.id,
    customerId: invoice.customerId,
    contractId: invoice.contractId,
    type: invoice.type,
    creditTypeId: invoice.creditTypeId,
    total: invoice.total,
    startingAt: invoice.period.startingAt,
    endingBefore: invoice.period.endingBefore,
    issuedAt: invoice.issuedAt,
  });
  return true;
}
