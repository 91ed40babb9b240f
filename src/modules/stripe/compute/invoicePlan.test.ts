import { describe, expect, it } from 'vitest';
import { planStripeInvoice, USD_CENTS, type FinalizedInvoice, type FinalizedLine } from './invoicePlan.js';

const AI_CREDITS = '0190f1a0-0000-7000-8000-00000000a1c0';

function line(name: string, total: string, creditTypeId = USD_CENTS, type = 'usage'): FinalizedLine {
  return { type, name, credit_type_id: creditTypeId, total, starting_at: '2024-03-01T00:00:00.000Z', ending_before: '2024-04-01T00:00:00.000Z' };
}

function invoice(lines: FinalizedLine[], total: string, creditTypeId = USD_CENTS): FinalizedInvoice {
  return {
    id: 'inv-1',
    customer_id: 'cust-1',
    contract_id: 'con-1',
    credit_type_id: creditTypeId,
    total,
    start_timestamp: new Date('2024-03-01T00:00:00Z'),
    end_timestamp: new Date('2024-04-01T00:00:00Z'),
    lines,
  };
}

const charge = { stripeCustomerId: 'cus_1', collectionMethod: 'charge_automatically' as const, daysUntilDue: 30 };

describe('planStripeInvoice', () => {
  it('sends the fiat lines as items (1000, −400), leaves custom units out, and expects 600', () => {
    const plan = planStripeInvoice({
      invoice: invoice([line('API calls', '1000'), line('Credit', '-400', USD_CENTS, 'applied_commit_or_credit'), line('Tokens', '50', AI_CREDITS)], '600'),
      destination: charge,
    });
    expect(plan.kind).toBe('push');
    if (plan.kind !== 'push') return;
    expect(plan.totalCents).toBe(600);
    expect(plan.items.map((item) => [item.lineIndex, item.params.amount, item.params.description, item.idempotencyKey])).toEqual([
      [0, 1000, 'API calls', 'allot-invoice-inv-1-line-0'],
      [1, -400, 'Credit', 'allot-invoice-inv-1-line-1'],
    ]);
    expect(plan.items[0]!.params.period).toEqual({ start: 1709251200, end: 1711929600 });
    expect(plan.invoice).toMatchObject({ idempotencyKey: 'allot-invoice-inv-1', params: { collection_method: 'charge_automatically', currency: 'usd' } });
    expect(plan.invoice.params).not.toHaveProperty('days_until_due');
    expect(plan.finalizeIdempotencyKey).toBe('allot-invoice-inv-1-finalize');
  });

  it('gives send_invoice its days until due', () => {
    const plan = planStripeInvoice({ invoice: invoice([line('Seats', '2500')], '2500'), destination: { ...charge, collectionMethod: 'send_invoice', daysUntilDue: 14 } });
    expect(plan).toMatchObject({ kind: 'push', invoice: { params: { collection_method: 'send_invoice', days_until_due: 14 } } });
  });

  it('skips zero totals, zero lines and invoices in a custom unit', () => {
    expect(planStripeInvoice({ invoice: invoice([line('API calls', '500'), line('Commit', '-500')], '0'), destination: charge })).toEqual({ kind: 'skip', reason: 'the invoice totals 0' });
    expect(planStripeInvoice({ invoice: invoice([], '0'), destination: charge })).toEqual({ kind: 'skip', reason: 'the invoice totals 0' });
    expect(planStripeInvoice({ invoice: invoice([line('Tokens', '50', AI_CREDITS)], '50', AI_CREDITS), destination: charge })).toMatchObject({ kind: 'skip' });
    const withZero = planStripeInvoice({ invoice: invoice([line('Seats', '0'), line('API calls', '10')], '10'), destination: charge });
    expect(withZero.kind === 'push' && withZero.items.map((item) => item.lineIndex)).toEqual([1]);
  });

  it('refuses fractional cents and lines that do not add up to the total', () => {
    expect(planStripeInvoice({ invoice: invoice([line('API calls', '10.5')], '10.5'), destination: charge })).toMatchObject({ kind: 'error', message: expect.stringContaining('whole number of cents') });
    expect(planStripeInvoice({ invoice: invoice([line('API calls', '1000')], '900'), destination: charge })).toMatchObject({ kind: 'error', message: expect.stringContaining('add up to 1000') });
  });
});
