import { Decimal } from '../../../lib/money.js';

/** `scheduled`: the charge of a commit a threshold made (auto top-up, threshold billing), on a SCHEDULED invoice of its own. */
export type LineType = 'usage' | 'subscription' | 'applied_commit_or_credit' | 'cpu_conversion' | 'scheduled';

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
  /** For subscription lines (and what was applied to them): the subscription. */
  subscriptionId: string | null;
  startingAt: Date;
  endingBefore: Date;
}

export interface Invoice {
  id: string;
  customerId: string;
  contractId: string;
  /** `USAGE`: a contract's statement period; `SCHEDULED`: a seat increase billed immediately, or a commit a threshold made. */
  type: 'USAGE' | 'SCHEDULED';
  status: 'DRAFT' | 'FINALIZED' | 'VOID';
  period: { startingAt: Date; endingBefore: Date };
  /** When it is (or will be) issued: the period's end, or the instant of an immediately billed change. */
  issuedAt: Date;
  /** The rate card's fiat pricing unit: the invoice's total is in it. */
  creditTypeId: string;
  lines: InvoiceLine[];
  total: Decimal;
  finalizedAt: Date | null;
  voidedAt: Date | null;
}

/** A charged line with what funded it, as drawdown left it. */
export interface FundedLine {
  line: Omit<InvoiceLine, 'type' | 'applied' | 'total'> & { type: 'usage' | 'subscription'; total: Decimal };
  applied: { grantId: string; segmentId: string; kind: 'CREDIT' | 'COMMIT'; name: string | null; amount: Decimal }[];
  overage: Decimal;
}

/**
 * The lines of an invoice from its funded charges: each charge line, then per credit or commit
 * that paid for it a negative `applied_commit_or_credit` line; and, per custom pricing unit, what
 * no credit covered converted to fiat at the rate card's conversion (a `cpu_conversion` line: 50
 * AI credits at 100 cents = 5,000 cents). The total is the sum of the fiat lines: $10 of usage
 * against a $4 prepaid commit gives +1000, −400 and a total of 600.
 */
export function invoiceLines({
  funded,
  fiatCreditTypeId,
  conversions,
  window,
}: {
  funded: readonly FundedLine[];
  fiatCreditTypeId: string;
  conversions: ReadonlyMap<string, Decimal>;
  window: { startingAt: Date; endingBefore: Date };
}): { lines: InvoiceLine[]; total: Decimal } {
  const lines: InvoiceLine[] = [];
  const overage = new Map<string, Decimal>();
  for (const { line, applied, overage: uncovered } of funded) {
    lines.push({ ...line, applied: null });
    for (const application of applied) {
      lines.push({
        type: 'applied_commit_or_credit',
        name: application.name ?? line.name,
        creditTypeId: line.creditTypeId,
        total: application.amount.neg(),
        quantity: null,
        unitPrice: null,
        productId: line.productId,
        pricingGroupValues: line.pricingGroupValues,
        applied: { grantId: application.grantId, segmentId: application.segmentId, kind: application.kind },
        subscriptionId: line.subscriptionId,
        startingAt: line.startingAt,
        endingBefore: line.endingBefore,
      });
    }
    if (line.creditTypeId !== fiatCreditTypeId && !uncovered.isZero()) overage.set(line.creditTypeId, (overage.get(line.creditTypeId) ?? new Decimal(0)).add(uncovered));
  }
  for (const [creditTypeId, units] of overage) {
    const fiatPerUnit = conversions.get(creditTypeId);
    // Rates in a custom unit need a conversion on their card, so this cannot happen; never drop the amount quietly.
    if (!fiatPerUnit) throw new Error(`usage is priced in ${creditTypeId} but the rate card has no conversion for it`);
    lines.push({
      type: 'cpu_conversion',
      name: 'Conversion of uncovered usage to fiat',
      creditTypeId: fiatCreditTypeId,
      total: units.mul(fiatPerUnit),
      quantity: units,
      unitPrice: fiatPerUnit,
      productId: null,
      pricingGroupValues: null,
      applied: null,
      subscriptionId: null,
      ...window,
    });
  }
  return { lines, total: fiatTotal(lines, fiatCreditTypeId) };
}

export function fiatTotal(lines: readonly InvoiceLine[], fiatCreditTypeId: string): Decimal {
  return lines.filter((line) => line.creditTypeId === fiatCreditTypeId).reduce((sum, line) => sum.add(line.total), new Decimal(0));
}

/**
 * An invoice as finalised: every fiat charge line's total rounded once, half away from zero, to
 * whole cents (the precision of USD cents), and the total the sum of the fiat lines, so the lines
 * add up to the total exactly (1000.4 − 400.4 → 1000 − 400 = 600). Applied lines are rounded the
 * same way, so a charge a credit covers nets to 0 (1000.5 − 1000.5 → 1001 − 1001), but what a
 * segment pays in all never exceeds `room`, what it held for this invoice (rounded down): over
 * it, cents come back from the lines rounded up the most. Lines in custom pricing units keep
 * their exact amounts, like the balances they draw from.
 */
export function finalizedLines(
  lines: readonly InvoiceLine[],
  fiatCreditTypeId: string,
  room: ReadonlyMap<string, Decimal> = new Map(),
): { lines: InvoiceLine[]; total: Decimal } {
  const rounded = lines.map((line) =>
    line.creditTypeId === fiatCreditTypeId && !line.applied ? { ...line, total: line.total.toDecimalPlaces(0, Decimal.ROUND_HALF_UP) } : line,
  );
  const bySegment = new Map<string, number[]>();
  rounded.forEach((line, index) => {
    if (line.creditTypeId !== fiatCreditTypeId || !line.applied) return;
    bySegment.set(line.applied.segmentId, [...(bySegment.get(line.applied.segmentId) ?? []), index]);
  });
  for (const [segmentId, indexes] of bySegment) {
    const paid = indexes.map((index) => rounded[index]!.total.abs());
    const sign = indexes.reduce((sum, index) => sum.add(rounded[index]!.total), new Decimal(0)).isNegative() ? -1 : 1;
    const whole = paid.map((amount) => amount.toDecimalPlaces(0, Decimal.ROUND_HALF_UP));
    const limit = room.get(segmentId)?.floor();
    // Over what the segment held: take cents back from the lines rounded up the most.
    let excess = limit ? whole.reduce((sum, amount) => sum.add(amount), new Decimal(0)).sub(limit) : new Decimal(0);
    const byRoundingUp = paid.map((amount, i) => ({ i, up: whole[i]!.sub(amount) })).sort((a, b) => b.up.comparedTo(a.up) || b.i - a.i);
    while (excess.gt(0)) {
      const line = byRoundingUp.find(({ i }) => whole[i]!.gt(0));
      if (!line) break;
      whole[line.i] = whole[line.i]!.sub(1);
      line.up = line.up.sub(1);
      byRoundingUp.sort((a, b) => b.up.comparedTo(a.up) || b.i - a.i);
      excess = excess.sub(1);
    }
    indexes.forEach((index, i) => (rounded[index] = { ...rounded[index]!, total: whole[i]!.mul(sign) }));
  }
  return { lines: rounded, total: fiatTotal(rounded, fiatCreditTypeId) };
}
