import type { ServiceContext } from '../../lib/context.js';
import { Invalid, NotFound } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import { Decimal } from '../../lib/money.js';
import { fetchPage } from '../../lib/pagination.js';
import type { Period } from '../../lib/periods.js';
import { customerAccount, type Draft } from '../contracts/account.js';
import * as customers from '../customers/service.js';

export type LineType = 'usage' | 'applied_commit_or_credit' | 'cpu_conversion';

export interface InvoiceLine {
  type: LineType;
  name: string;
  creditTypeId: string;
  total: Decimal;
  quantity: Decimal | null;
  unitPrice: Decimal | null;
  productId: string | null;
  pricingGroupValues: Record<string, string> | null;
  /** For applied lines: the credit or commit, and the segment it was drawn from. */
  applied: { grantId: string; segmentId: string; kind: 'CREDIT' | 'COMMIT' } | null;
  startingAt: Date;
  endingBefore: Date;
}

export interface Invoice {
  id: string;
  customerId: string;
  contractId: string;
  status: 'DRAFT';
  period: Period;
  /** The rate card's fiat pricing unit: the invoice's total is in it. */
  creditTypeId: string;
  lines: InvoiceLine[];
  total: Decimal;
}

/**
 * A contract's draft invoice for its open period, built from the rated and funded usage: per usage
 * line (a product, and a pricing group value where the product has a key) the charge; per credit
 * or commit that paid for it a negative applied line; and, for custom pricing units, what no
 * credit covered converted to fiat at the rate card's conversion (a `cpu_conversion` line: 50 AI
 * credits at 100 cents = 5,000 cents). The total is the sum of the fiat lines.
 */
export function draftInvoice(draft: Draft): Invoice {
  const fiat = draft.rateCard.fiatCreditTypeId;
  const window = { startingAt: draft.period.startingAt, endingBefore: draft.period.endingBefore };
  const lines: InvoiceLine[] = [];
  const overage = new Map<string, Decimal>();
  for (const line of draft.lines) {
    const rates = new Set(line.charges.map((charge) => charge.rate.id));
    const only = line.charges[0]?.rate.price;
    lines.push({
      type: 'usage',
      name: line.productName,
      creditTypeId: line.creditTypeId,
      total: line.total,
      quantity: line.quantity,
      // A unit price only where it explains the total: one flat rate priced all of the period's usage.
      unitPrice: rates.size === 1 && only?.rateType === 'FLAT' && only.price.mul(line.quantity).eq(line.total) ? only.price : null,
      productId: line.productId,
      pricingGroupValues: line.pricingGroupValues,
      applied: null,
      ...window,
    });
    for (const application of line.applied) {
      lines.push({
        type: 'applied_commit_or_credit',
        name: application.name ?? line.productName,
        creditTypeId: line.creditTypeId,
        total: application.amount.neg(),
        quantity: null,
        unitPrice: null,
        productId: line.productId,
        pricingGroupValues: line.pricingGroupValues,
        applied: { grantId: application.grantId, segmentId: application.segmentId, kind: application.kind },
        ...window,
      });
    }
    if (line.creditTypeId !== fiat && !line.overage.isZero()) overage.set(line.creditTypeId, (overage.get(line.creditTypeId) ?? new Decimal(0)).add(line.overage));
  }
  for (const [creditTypeId, units] of overage) {
    const conversion = draft.rateCard.creditTypeConversions.find((c) => c.customCreditTypeId === creditTypeId);
    // Rates in a custom unit need a conversion on their card, so this cannot happen; never drop the amount quietly.
    if (!conversion) throw new Error(`rate card ${draft.rateCard.id} prices usage in ${creditTypeId} but has no conversion for it`);
    lines.push({
      type: 'cpu_conversion',
      name: 'Conversion of uncovered usage to fiat',
      creditTypeId: fiat,
      total: units.mul(conversion.fiatPerCustomCredit),
      quantity: units,
      unitPrice: conversion.fiatPerCustomCredit,
      productId: null,
      pricingGroupValues: null,
      applied: null,
      ...window,
    });
  }
  const total = lines.filter((line) => line.creditTypeId === fiat).reduce((sum, line) => sum.add(line.total), new Decimal(0));
  return { id: draft.invoiceId, customerId: draft.customerId, contractId: draft.contractId, status: 'DRAFT', period: draft.period, creditTypeId: fiat, lines, total };
}

export interface InvoiceQuery {
  contractId?: string | undefined;
  creditTypeId?: string | undefined;
  status?: string | undefined;
  /** Periods starting at or after this instant. */
  startingOn?: Date | undefined;
  /** Periods ending before this instant. */
  endingBefore?: Date | undefined;
  sort?: 'date_asc' | 'date_desc' | undefined;
  limit: number;
  nextPage?: string | undefined;
}

/** A customer's invoices: for now the draft of each live contract's open period, as of the clock's now. */
export async function listInvoices(ctx: ServiceContext, { tenantId, customerId, query }: { tenantId: string; customerId: string; query: InvoiceQuery }) {
  await customers.getCustomer(ctx, { tenantId, customerId });
  const invoices = (await customerAccount(ctx, { tenantId, customerId })).drafts
    .map(draftInvoice)
    .filter(
      (invoice) =>
        (!query.contractId || invoice.contractId === query.contractId) &&
        (!query.creditTypeId || invoice.creditTypeId === query.creditTypeId) &&
        (!query.status || query.status.toUpperCase() === invoice.status) &&
        (!query.startingOn || invoice.period.startingAt >= query.startingOn) &&
        (!query.endingBefore || invoice.period.endingBefore <= query.endingBefore),
    )
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (query.sort === 'date_desc') invoices.reverse();
  const page = await fetchPage(query, async ({ afterId, limit }) => {
    const position = afterId ? invoices.findIndex((invoice) => invoice.id === afterId) : -1;
    if (afterId && position < 0) throw new Invalid('next_page', 'names no invoice of this list (a draft is replaced when its period ends); list again from the start');
    const start = position + 1;
    return invoices.slice(start, start + limit);
  });
  return { invoices: page.rows, nextPage: page.nextPage };
}

export async function getInvoice(ctx: ServiceContext, { tenantId, customerId, invoiceId }: { tenantId: string; customerId: string; invoiceId: string }): Promise<Invoice> {
  await customers.getCustomer(ctx, { tenantId, customerId });
  const draft = isUuid(invoiceId) ? (await customerAccount(ctx, { tenantId, customerId })).drafts.find((d) => d.invoiceId === invoiceId) : undefined;
  if (!draft) throw new NotFound(`No invoice ${invoiceId} for customer ${customerId}`);
  return draftInvoice(draft);
}
