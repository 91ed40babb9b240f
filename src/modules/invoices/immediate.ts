import { announceAccountChange, type ServiceContext } from '../../lib/context.js';
import { Decimal } from '../../lib/money.js';
import { customerContracts, generatedId, loadContracts, seatLinesOf, type Contract, type Subscription } from '../account/service.js';
import * as pricing from '../pricing/service.js';
import { finalizedLines, invoiceLines, type FundedLine } from './compute/buildInvoice.js';
import * as repo from './repo.js';
import { store } from './store.js';

const sum = (values: readonly Decimal[]) => values.reduce((total, value) => total.add(value), new Decimal(0));

/**
 * Seat increases billed immediately (`BILL_IMMEDIATELY`, rule 8) that the clock has reached and
 * that no invoice has billed yet: an invoice of its own (type `SCHEDULED`), issued at the latest
 * such change, for what the period's increases above its high-water mark come to now minus what
 * earlier such invoices of the period billed. $25 seats, +4 at half the period, prorated: 5,000
 * cents. Raising the same change further (14 seats, then 20, at the same instant) bills the
 * difference; lowering it bills nothing and credits nothing.
 */
export async function billImmediateIncreases(
  tx: ServiceContext,
  { tenantId, contracts, subscriptions, now }: { tenantId: string; contracts: Contract[]; subscriptions: readonly Subscription[]; now: Date },
): Promise<string[]> {
  const immediate = subscriptions.filter(
    (s) => s.invoice_behavior === 'BILL_IMMEDIATELY' && s.collection_schedule === 'ADVANCE' && contracts.some((contract) => contract.id === s.contract_id),
  );
  if (immediate.length === 0) return [];
  const billed = await repo.scheduledInvoices(tx.db, tenantId, [...new Set(immediate.map((s) => s.contract_id))]);
  const written: string[] = [];
  for (const subscription of immediate) {
    const contract = contracts.find((c) => c.id === subscription.contract_id)!;
    const window = { startingAt: subscription.starting_at, endingBefore: new Date(now.getTime() + 1) };
    const [rates, rateCard, products] = await Promise.all([
      pricing.ratesDuring(tx, { tenantId, rateCardId: contract.rate_card_id!, from: window.startingAt, to: window.endingBefore }),
      pricing.findRateCard(tx, { tenantId, rateCardId: contract.rate_card_id! }),
      pricing.findProductsAt(tx, { tenantId, productIds: [subscription.product_id], at: now }),
    ]);
    const fiat = rateCard?.fiatCreditTypeId ?? pricing.USD_CREDIT_TYPE_ID;
    const increases = seatLinesOf({ contractId: contract.id, period: window, rates: rates.filter(pricing.isSeatRate), products, subscriptions: [subscription], now }).filter((line) => line.immediate);
    // One billing period at a time: its increases all end with it.
    const periods = new Map<number, typeof increases>();
    for (const increase of increases) periods.set(increase.endingBefore.getTime(), [...(periods.get(increase.endingBefore.getTime()) ?? []), increase]);
    for (const [periodEnd, charges] of periods) {
      const earlier = billed.flatMap((invoice) => invoice.lines.filter((line) => line.subscription_id === subscription.id && new Date(line.ending_before).getTime() === periodEnd));
      const exact = sum(charges.map((charge) => charge.amount));
      // What earlier invoices billed is in whole cents when the price is fiat; custom units stay exact.
      const due = charges[0]!.creditTypeId === fiat ? exact.toDecimalPlaces(0, Decimal.ROUND_HALF_UP) : exact;
      const amount = due.sub(sum(earlier.map((line) => new Decimal(line.total))));
      if (!amount.gt(0)) continue;
      const latest = charges[charges.length - 1]!;
      // Seats not billed before; none to show when backdated changes moved the charge rather than the seats.
      const newSeats = sum(charges.map((charge) => charge.quantity)).sub(sum(earlier.map((l) => new Decimal(l.quantity ?? 0))));
      const id = generatedId(latest.billedAt, subscription.id, periodEnd, earlier.length, 'immediate-invoice');
      const line: FundedLine['line'] = {
        type: 'subscription',
        name: latest.name,
        creditTypeId: latest.creditTypeId,
        total: amount,
        quantity: newSeats.gt(0) ? newSeats : null,
        unitPrice: latest.unitPrice,
        productId: latest.productId,
        pricingGroupValues: null,
        subscriptionId: subscription.id,
        startingAt: latest.billedAt,
        endingBefore: latest.endingBefore,
      };
      // Not funded by credits; a price in a custom unit is converted to fiat at the card's conversion.
      const conversions = new Map((rateCard?.creditTypeConversions ?? []).map((c) => [c.customCreditTypeId, c.fiatPerCustomCredit]));
      const built = invoiceLines({ funded: [{ line, applied: [], overage: amount }], fiatCreditTypeId: fiat, conversions, window: { startingAt: latest.billedAt, endingBefore: latest.endingBefore } });
      const { lines, total } = finalizedLines(built.lines, fiat);
      const stored = await store(tx, tenantId, {
        id,
        customerId: contract.customer_id,
        contractId: contract.id,
        type: 'SCHEDULED',
        status: 'FINALIZED',
        period: { startingAt: latest.billedAt, endingBefore: latest.endingBefore },
        issuedAt: latest.billedAt,
        creditTypeId: fiat,
        lines,
        total,
        finalizedAt: now,
        voidedAt: null,
      });
      if (stored) written.push(id);
    }
  }
  return written;
}

/**
 * Takes the customer's period-close lock for the rest of the caller's transaction, keeping its
 * commit durable (a contract edit's). A caller that also locks contract rows takes this first:
 * period close holds it while its invoices' foreign keys lock contract rows.
 */
export async function holdCustomerClose(tx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<void> {
  await repo.lockCustomerClose(tx.db, tenantId, customerId, { durable: true });
}

/**
 * Bills, in the caller's transaction, the customer's seat increases billed immediately that are in
 * force now (`billImmediateIncreases`): a contract edit that raises seats at or before the clock
 * commits together with its invoice, so each edit's increase is billed as it stood, whatever edit
 * follows. Raising 10 seats to 14 and then to 20 at the same instant bills 4 and then 6 more, and
 * lowering to 16 after that bills nothing, however quickly the edits come. Under the customer's
 * close lock (`holdCustomerClose`, taken here if the caller has not): a period close under way
 * commits first, and nothing is billed twice.
 */
export async function billIncreasesInForce(tx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<string[]> {
  await holdCustomerClose(tx, { tenantId, customerId });
  const all = await customerContracts(tx, { tenantId, customerId });
  const contracts = all.filter((contract) => !contract.archived_at && contract.rate_card_id);
  if (contracts.length === 0) return [];
  const { subscriptions } = await loadContracts(tx, tenantId, contracts);
  const written = await billImmediateIncreases(tx, { tenantId, contracts, subscriptions, now: tx.clock.now() });
  if (written.length > 0) await announceAccountChange(tx, { tenantId, customerIds: [customerId], cause: 'invoice' });
  return written;
}
