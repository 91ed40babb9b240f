import type { ServiceContext } from '../../lib/context.js';
import { inTransaction, signalAfterCommit } from '../../lib/context.js';
import { Invalid, NotFound } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import { Decimal } from '../../lib/money.js';
import { fetchPage } from '../../lib/pagination.js';
import { customerAccount, type Draft } from '../account/service.js';
import * as customers from '../customers/service.js';
import { finalizedLines, invoiceLines, type FundedLine, type Invoice, type InvoiceLine } from './compute/buildInvoice.js';
import * as repo from './repo.js';

export type { Invoice, InvoiceLine, LineType } from './compute/buildInvoice.js';
export { issueThresholdInvoice } from './thresholdInvoice.js';
export { billIncreasesInForce, holdCustomerClose } from './immediate.js';
export { toStoredLine } from './store.js';

/**
 * A contract's draft invoice for its open period, built from the rated and funded charges: per
 * usage line (a product, and a pricing group value where the product has a key) and per seat
 * charge (rule 8) the charge; per credit or commit that paid for it a negative applied line; and,
 * for custom pricing units, what no credit covered converted to fiat at the rate card's
 * conversion. The total is the sum of the fiat lines.
 */
export function draftInvoice(draft: Draft): Invoice {
  const window = { startingAt: draft.period.startingAt, endingBefore: draft.period.endingBefore };
  const funded: FundedLine[] = [
    ...draft.lines.map((line): FundedLine => {
      const rates = new Set(line.charges.map((charge) => charge.rate.id));
      const only = line.charges[0]?.rate.price;
      return {
        line: {
          type: 'usage',
          name: line.productName,
          creditTypeId: line.creditTypeId,
          total: line.total,
          quantity: line.quantity,
          // A unit price only where it explains the total: one flat rate priced all of the period's usage.
          unitPrice: rates.size === 1 && only?.rateType === 'FLAT' && only.price.mul(line.quantity).eq(line.total) ? only.price : null,
          productId: line.productId,
          pricingGroupValues: line.pricingGroupValues,
          subscriptionId: null,
          ...window,
        },
        applied: line.applied,
        overage: line.overage,
      };
    }),
    ...draft.seatLines.map(
      (line): FundedLine => ({
        line: {
          type: 'subscription',
          name: line.name,
          creditTypeId: line.creditTypeId,
          total: line.amount,
          quantity: line.quantity,
          unitPrice: line.unitPrice,
          productId: line.productId,
          pricingGroupValues: null,
          subscriptionId: line.subscriptionId,
          startingAt: line.startingAt,
          endingBefore: line.endingBefore,
        },
        applied: line.applied,
        overage: line.overage,
      }),
    ),
  ];
  const conversions = new Map(draft.rateCard.creditTypeConversions.map((c) => [c.customCreditTypeId, c.fiatPerCustomCredit]));
  const { lines, total } = invoiceLines({ funded, fiatCreditTypeId: draft.rateCard.fiatCreditTypeId, conversions, window });
  return {
    id: draft.invoiceId,
    customerId: draft.customerId,
    contractId: draft.contractId,
    type: 'USAGE',
    status: 'DRAFT',
    period: window,
    issuedAt: draft.period.endingBefore,
    creditTypeId: draft.rateCard.fiatCreditTypeId,
    lines,
    total,
    finalizedAt: null,
    voidedAt: null,
  };
}


export function fromRow(row: repo.InvoiceRow): Invoice {
  return {
    id: row.id,
    customerId: row.customer_id,
    contractId: row.contract_id,
    type: row.type,
    status: row.status,
    period: { startingAt: row.start_timestamp, endingBefore: row.end_timestamp },
    issuedAt: row.issued_at,
    creditTypeId: row.credit_type_id,
    total: new Decimal(row.total),
    finalizedAt: row.finalized_at,
    voidedAt: row.voided_at,
    lines: row.lines.map((line) => ({
      type: line.type as InvoiceLine['type'],
      name: line.name,
      creditTypeId: line.credit_type_id,
      total: new Decimal(line.total),
      quantity: line.quantity === null ? null : new Decimal(line.quantity),
      unitPrice: line.unit_price === null ? null : new Decimal(line.unit_price),
      productId: line.product_id,
      pricingGroupValues: line.pricing_group_values,
      applied: line.applied && { grantId: line.applied.grant_id, segmentId: line.applied.segment_id, kind: line.applied.kind },
      subscriptionId: line.subscription_id,
      startingAt: new Date(line.starting_at),
      endingBefore: new Date(line.ending_before),
    })),
  };
}

export interface InvoiceQuery {
  contractId?: string | undefined;
  creditTypeId?: string | undefined;
  status?: string | undefined;
  type?: 'USAGE' | 'SCHEDULED' | undefined;
  /** Periods starting at or after this instant. */
  startingOn?: Date | undefined;
  /** Periods ending before this instant. */
  endingBefore?: Date | undefined;
  sort?: 'date_asc' | 'date_desc' | undefined;
  limit: number;
  nextPage?: string | undefined;
}

/**
 * A customer's invoices: those finalised (or voided), and the live draft of each live contract's
 * open period, ordered by id (ids follow the period's start).
 */
export async function listInvoices(ctx: ServiceContext, { tenantId, customerId, query }: { tenantId: string; customerId: string; query: InvoiceQuery }) {
  await customers.getCustomer(ctx, { tenantId, customerId });
  const status = query.status?.toUpperCase();
  const [stored, drafts] = await Promise.all([
    repo.listCustomerInvoices(ctx.db, tenantId, customerId),
    status && status !== 'DRAFT' ? Promise.resolve([]) : customerAccount(ctx, { tenantId, customerId }).then((account) => account.drafts.map(draftInvoice)),
  ]);
  const finalized = new Set(stored.map((row) => row.id));
  const invoices = [...stored.map(fromRow), ...drafts.filter((draft) => !finalized.has(draft.id))]
    .filter(
      (invoice) =>
        (!query.contractId || invoice.contractId === query.contractId) &&
        (!query.creditTypeId || invoice.creditTypeId === query.creditTypeId) &&
        (!status || status === invoice.status) &&
        (!query.type || query.type === invoice.type) &&
        (!query.startingOn || invoice.period.startingAt >= query.startingOn) &&
        (!query.endingBefore || invoice.period.endingBefore <= query.endingBefore),
    )
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (query.sort === 'date_desc') invoices.reverse();
  const page = await fetchPage(query, async ({ afterId, limit }) => {
    const position = afterId ? invoices.findIndex((invoice) => invoice.id === afterId) : -1;
    if (afterId && position < 0) throw new Invalid('next_page', 'names no invoice of this list; list again from the start');
    const start = position + 1;
    return invoices.slice(start, start + limit);
  });
  return { invoices: page.rows, nextPage: page.nextPage };
}

/** A customer's finalised and voided invoices (no drafts), newest period first. */
export async function finalizedInvoices(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<Invoice[]> {
  const rows = await repo.listCustomerInvoices(ctx.db, tenantId, customerId);
  return rows.map(fromRow).sort((a, b) => b.period.startingAt.getTime() - a.period.startingAt.getTime() || (a.id < b.id ? 1 : -1));
}

export async function getInvoice(ctx: ServiceContext, { tenantId, customerId, invoiceId }: { tenantId: string; customerId: string; invoiceId: string }): Promise<Invoice> {
  await customers.getCustomer(ctx, { tenantId, customerId });
  if (isUuid(invoiceId)) {
    const stored = await repo.findInvoice(ctx.db, tenantId, invoiceId.toLowerCase());
    if (stored && stored.customer_id === customerId.toLowerCase()) return fromRow(stored);
    const draft = stored ? undefined : (await customerAccount(ctx, { tenantId, customerId })).drafts.find((d) => d.invoiceId === invoiceId.toLowerCase());
    if (draft) return draftInvoice(draft);
  }
  throw new NotFound(`No invoice ${invoiceId} for customer ${customerId}`);
}

/**
 * Voids a finalised invoice: it stays listed with status `VOID` and is no longer sent anywhere.
 * The credits it drew stay drawn (a manual ledger entry gives them back). A draft cannot be
 * voided: its period has not closed.
 */
export async function voidInvoice(ctx: ServiceContext, { tenantId, invoiceId }: { tenantId: string; invoiceId: string }): Promise<{ id: string }> {
  if (!isUuid(invoiceId)) throw new NotFound(`No invoice ${invoiceId}`);
  const id = invoiceId.toLowerCase();
  return inTransaction(ctx, async (tx) => {
    const stored = await repo.findInvoice(tx.db, tenantId, id);
    if (!stored) throw new NotFound(`No finalized invoice ${invoiceId} (a draft cannot be voided before its period closes)`);
    if (stored.status === 'VOID') return { id };
    await repo.voidInvoice(tx.db, tenantId, id, tx.clock.now());
    // A billing provider that already has the invoice voids its copy: it need not wait for its next poll.
    signalAfterCommit(tx, 'invoicesFinalized', { tenantId });
    return { id };
  });
}

/** The end of a contract's latest finalised invoice (voided ones do not count), or null: how far the contract is billed. */
export async function finalizedUntil(ctx: ServiceContext, { tenantId, contractId }: { tenantId: string; contractId: string }): Promise<Date | null> {
  return repo.finalizedUntil(ctx.db, tenantId, contractId);
}

/**
 * Voids every finalised invoice of a contract, in the caller's transaction (archiving with
 * `void_invoices`), as `voidInvoice` does one: the credits they drew stay drawn.
 */
export async function voidContractInvoices(ctx: ServiceContext, { tenantId, contractId }: { tenantId: string; contractId: string }): Promise<string[]> {
  const voided = await repo.voidContractInvoices(ctx.db, tenantId, contractId, ctx.clock.now());
  if (voided.length > 0) signalAfterCommit(ctx, 'invoicesFinalized', { tenantId });
  return voided;
}

/** The tenant's finalised (and voided) invoices whose period starts in `[from, to)`, for reports: April's report holds April's invoice, issued May 1. */
export async function invoicesStartingBetween(ctx: ServiceContext, { tenantId, from, to }: { tenantId: string; from: Date; to: Date }): Promise<Invoice[]> {
  return (await repo.invoicesStartingBetween(ctx.db, tenantId, { from, to })).map(fromRow);
}

/**
 * What a draft's invoice totals once finalised (rule 17: fiat lines rounded to cents), without
 * storing anything: the pricing simulations compare totals as period close would write them.
 * `held`: what each segment holds with the draft's draws (the account's segments' `ledger.held`).
 */
export function finalizedTotalOf(draft: Draft, held: ReadonlyMap<string, Decimal>): Decimal {
  const invoice = draftInvoice(draft);
  const room = new Map<string, Decimal>();
  for (const line of invoice.lines) {
    if (!line.applied) continue;
    room.set(line.applied.segmentId, (room.get(line.applied.segmentId) ?? held.get(line.applied.segmentId) ?? new Decimal(0)).sub(line.total));
  }
  return finalizedLines(invoice.lines, invoice.creditTypeId, room).total;
}
