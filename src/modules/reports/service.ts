import type { ServiceContext } from '../../lib/context.js';
import { Decimal, sumExactly } from '../../lib/money.js';
import { customerAccount } from '../account/service.js';
import * as credits from '../credits/service.js';
import * as customers from '../customers/service.js';
import * as invoices from '../invoices/service.js';
import { segmentSummary, type SegmentSummary } from './compute/segmentSummary.js';
import { checkWindow, type Window } from './window.js';

export type { Window } from './window.js';
export { unbilledUsageReport, type UnbilledUsageRow } from './unbilled.js';

export interface LedgerReportRow extends SegmentSummary {
  customerId: string;
  contractId: string | null;
  grantId: string;
  grantName: string | null;
  /** The seat a seat's own credit or commit belongs to (INDIVIDUAL allocation); null otherwise. */
  seatId: string | null;
  kind: 'CREDIT' | 'COMMIT';
  creditTypeId: string;
  segmentId: string;
  segmentStartingAt: Date;
  segmentEndingBefore: Date;
}

export interface InvoiceReportRow {
  invoiceId: string;
  customerId: string;
  contractId: string;
  type: string;
  status: string;
  startingAt: Date;
  endingBefore: Date;
  issuedAt: Date;
  creditTypeId: string;
  /** Fiat lines by type. */
  subscriptions: Decimal;
  usage: Decimal;
  applied: Decimal;
  conversions: Decimal;
  total: Decimal;
  /** The invoice's fiat lines add up to its total. */
  linesAddUp: boolean;
  /** What its applied lines took, in every pricing unit, and what the ledger recorded for it. */
  appliedAllUnits: Decimal;
  ledgerDeductions: Decimal;
  /** The ledger's deductions for the invoice equal its applied lines. */
  ledgerAgrees: boolean;
}


async function customerIds(ctx: ServiceContext, tenantId: string, customerId: string | undefined): Promise<string[]> {
  if (customerId) return [(await customers.getCustomer(ctx, { tenantId, customerId })).id];
  const ids: string[] = [];
  for await (const id of customers.liveCustomerIds(ctx, { tenantId })) ids.push(id);
  return ids;
}

/**
 * For each customer and each credit or commit segment that was active during the window (or had
 * a movement in it): the opening balance, grants, seat adjustments, invoice deductions, manual
 * entries, rollovers, expirations and closing balance, with a check that they add up. For a
 * window that reaches now, the closing balance is the engine's current balance of the segment.
 */
export async function ledgerReport(ctx: ServiceContext, { tenantId, window, customerId }: { tenantId: string; window: Window; customerId?: string | undefined }): Promise<LedgerReportRow[]> {
  checkWindow(window);
  const now = ctx.clock.now();
  const rows: LedgerReportRow[] = [];
  for (const id of await customerIds(ctx, tenantId, customerId)) {
    const { balances } = await customerAccount(ctx, { tenantId, customerId: id });
    for (const grant of balances) {
      for (const segment of grant.segments) {
        if (segment.startingAt >= window.to || segment.endingBefore < window.from) continue;
        const summary = segmentSummary({
          entries: segment.ledger.entries,
          segmentEnd: segment.endingBefore,
          ...window,
          closing: window.to > now ? segment.ledger.balance : undefined,
          now,
        });
        rows.push({
          customerId: id,
          contractId: grant.contractId,
          grantId: grant.id,
          grantName: grant.name,
          seatId: grant.seatId ?? null,
          kind: grant.kind,
          creditTypeId: grant.creditTypeId,
          segmentId: segment.id,
          segmentStartingAt: segment.startingAt,
          segmentEndingBefore: segment.endingBefore,
          ...summary,
        });
      }
    }
  }
  return rows;
}

/**
 * Every invoice finalised (or voided) whose period starts in the window (April's invoice, issued
 * May 1, is in April's report; an immediately billed seat increase is in the window of its date): its fiat lines by type and
 * total, with two checks — its lines add up to its total, and the ledger's deductions recorded
 * for it equal what its applied lines say the credits and commits paid.
 */
export async function invoiceReport(ctx: ServiceContext, { tenantId, window, customerId }: { tenantId: string; window: Window; customerId?: string | undefined }): Promise<InvoiceReportRow[]> {
  checkWindow(window);
  if (customerId) await customers.getCustomer(ctx, { tenantId, customerId });
  const issued = (await invoices.invoicesStartingBetween(ctx, { tenantId, ...window })).filter((invoice) => !customerId || invoice.customerId === customerId.toLowerCase());
  const deductions = await credits.invoiceDeductionTotals(ctx.db, { tenantId, invoiceIds: issued.map((invoice) => invoice.id) });
  return issued.map((invoice) => {
    const fiat = invoice.lines.filter((line) => line.creditTypeId === invoice.creditTypeId);
    const sumOf = (lines: typeof fiat) => sumExactly(lines.map((line) => line.total));
    const byType = (type: string) => sumOf(fiat.filter((line) => line.type === type));
    const appliedAllUnits = sumOf(invoice.lines.filter((line) => line.applied !== null));
    const ledgerDeductions = deductions.get(invoice.id) ?? new Decimal(0);
    return {
      invoiceId: invoice.id,
      customerId: invoice.customerId,
      contractId: invoice.contractId,
      type: invoice.type,
      status: invoice.status,
      startingAt: invoice.period.startingAt,
      endingBefore: invoice.period.endingBefore,
      issuedAt: invoice.issuedAt,
      creditTypeId: invoice.creditTypeId,
      subscriptions: byType('subscription'),
      usage: byType('usage'),
      applied: byType('applied_commit_or_credit'),
      conversions: byType('cpu_conversion'),
      total: invoice.total,
      linesAddUp: sumOf(fiat).eq(invoice.total),
      appliedAllUnits,
      ledgerDeductions,
      ledgerAgrees: ledgerDeductions.eq(appliedAllUnits),
    };
  });
}
