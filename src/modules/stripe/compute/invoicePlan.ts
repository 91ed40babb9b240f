import { Decimal } from '../../../lib/money.js';

/** The fiat pricing unit, USD cents: the only one Stripe is sent (the id is Metronome's and Allot's). */
export const USD_CENTS = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';

/** One line of a finalised invoice, as period close stores it in `invoices.lines`. */
export interface FinalizedLine {
  type: string;
  name: string;
  credit_type_id: string;
  /** Decimal text; fiat lines in whole cents. */
  total: string;
  starting_at: string;
  ending_before: string;
}

/** What the push reads of a finalised invoice. */
export interface FinalizedInvoice {
  id: string;
  customer_id: string;
  contract_id: string;
  credit_type_id: string;
  /** Decimal text, whole cents. */
  total: string;
  start_timestamp: Date;
  end_timestamp: Date;
  lines: FinalizedLine[];
}

export interface StripeDestination {
  stripeCustomerId: string;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  /** For `send_invoice` only. */
  daysUntilDue: number;
}

export interface PlannedItem {
  /** The line's index in the Allot invoice: part of its idempotency key. */
  lineIndex: number;
  idempotencyKey: string;
  params: {
    customer: string;
    amount: number;
    currency: 'usd';
    description: string;
    period: { start: number; end: number };
    metadata: Record<string, string>;
  };
}

export type StripeInvoicePlan =
  | { kind: 'skip'; reason: string }
  | { kind: 'error'; message: string }
  | {
      kind: 'push';
      invoice: {
        idempotencyKey: string;
        params: {
          customer: string;
          collection_method: 'charge_automatically' | 'send_invoice';
          days_until_due?: number;
          currency: 'usd';
          auto_advance: false;
          pending_invoice_items_behavior: 'exclude';
          description: string;
          metadata: Record<string, string>;
        };
      };
      items: PlannedItem[];
      finalizeIdempotencyKey: string;
      /** What the Stripe invoice must total before it is finalised, in cents. */
      totalCents: number;
    };

/** The idempotency keys of an invoice's Stripe calls: the same on every attempt, in every process. */
export const idempotencyKeys = {
  invoice: (invoiceId: string) => `allot-invoice-${invoiceId}`,
  item: (invoiceId: string, lineIndex: number) => `allot-invoice-${invoiceId}-line-${lineIndex}`,
  finalize: (invoiceId: string) => `allot-invoice-${invoiceId}-finalize`,
};

const unixSeconds = (instant: Date) => Math.floor(instant.getTime() / 1000);

/**
 * What to send Stripe for a finalised Allot invoice: one invoice item per fiat line (USD cents,
 * `amount` in whole cents, negative for applied credits), a draft invoice with the configured
 * collection method, and its total. Lines in custom pricing units and zero lines are not sent.
 * An invoice whose fiat lines sum to 0 is skipped. A fiat line that is not whole cents, or fiat
 * lines that do not add up to the invoice's total, are an error (Stripe would bill another amount).
 *
 * Lines 1000 (usage), −400 (credit applied) and 50 AI credits give items 1000 and −400, total 600.
 */
export function planStripeInvoice({ invoice, destination }: { invoice: FinalizedInvoice; destination: StripeDestination }): StripeInvoicePlan {
  if (invoice.credit_type_id !== USD_CENTS) return { kind: 'skip', reason: `the invoice is in pricing unit ${invoice.credit_type_id}, not USD cents` };
  const metadata = { allot_invoice_id: invoice.id, allot_customer_id: invoice.customer_id, allot_contract_id: invoice.contract_id };
  const items: PlannedItem[] = [];
  let sum = new Decimal(0);
  for (const [lineIndex, line] of invoice.lines.entries()) {
    if (line.credit_type_id !== USD_CENTS) continue;
    const amount = new Decimal(line.total);
    if (!amount.isInteger() || amount.abs().gt(Number.MAX_SAFE_INTEGER)) {
      return { kind: 'error', message: `line ${lineIndex} (${line.name}) totals ${line.total} cents, not a whole number of cents Stripe can take` };
    }
    sum = sum.add(amount);
    if (amount.isZero()) continue;
    items.push({
      lineIndex,
      idempotencyKey: idempotencyKeys.item(invoice.id, lineIndex),
      params: {
        customer: destination.stripeCustomerId,
        // The one place a cent amount becomes a JS number: Stripe's wire type, checked whole and safe above.
        amount: amount.toNumber(),
        currency: 'usd',
        description: line.name,
        period: { start: unixSeconds(new Date(line.starting_at)), end: unixSeconds(new Date(line.ending_before)) },
        metadata: { ...metadata, allot_line_index: String(lineIndex), allot_line_type: line.type },
      },
    });
  }
  if (!sum.eq(new Decimal(invoice.total))) {
    return { kind: 'error', message: `the fiat lines add up to ${sum.toFixed()} cents but the invoice totals ${invoice.total}` };
  }
  if (sum.isZero()) return { kind: 'skip', reason: 'the invoice totals 0' };
  return {
    kind: 'push',
    invoice: {
      idempotencyKey: idempotencyKeys.invoice(invoice.id),
      params: {
        customer: destination.stripeCustomerId,
        collection_method: destination.collectionMethod,
        ...(destination.collectionMethod === 'send_invoice' && { days_until_due: destination.daysUntilDue }),
        currency: 'usd',
        auto_advance: false,
        pending_invoice_items_behavior: 'exclude',
        description: `Allot invoice ${invoice.id}, ${invoice.start_timestamp.toISOString()} to ${invoice.end_timestamp.toISOString()}`,
        metadata,
      },
    },
    items,
    finalizeIdempotencyKey: idempotencyKeys.finalize(invoice.id),
    totalCents: sum.toNumber(),
  };
}
