import type { ServiceContext } from '../../lib/context.js';
import { Decimal } from '../../lib/money.js';
import type { Period } from '../../lib/periods.js';
import { drawDown, type FundingCharge, type FundingSegment } from '../credits/compute/drawdown.js';
import { generatedId } from '../credits/compute/derivedGrants.js';
import type { LedgerEntry } from '../credits/compute/segmentLedger.js';
import * as credits from '../credits/service.js';
import type * as pricing from '../pricing/service.js';
import * as rating from '../rating/service.js';
import { archivedContracts, loadContracts, type LoadedContracts } from './load.js';
import { seatLinesOf, type SeatLine } from './seatLines.js';
import { prepareOpenPeriods } from './spend.js';
import * as repo from './repo.js';

/** What a credit or commit paid toward a line of a draft. */
export interface Application {
  grantId: string;
  segmentId: string;
  kind: 'CREDIT' | 'COMMIT';
  name: string | null;
  amount: Decimal;
}

export interface DraftLine extends rating.RatedLine {
  applied: Application[];
  /** What no credit or commit covered, in the line's pricing unit. */
  overage: Decimal;
}

/** A seat charge of the period (rule 8), with what funded it. Immediately billed increases are not on the draft: they are invoices of their own. */
export interface DraftSeatLine extends SeatLine {
  applied: Application[];
  overage: Decimal;
}

/** A contract's open period as its draft invoice will bill it: usage lines, what funded them, what is left over. */
export interface Draft {
  invoiceId: string;
  contractId: string;
  customerId: string;
  period: Period;
  rateCard: pricing.RateCard;
  lines: DraftLine[];
  seatLines: DraftSeatLine[];
}

/** Everything a customer holds and owes as of now. */
export interface CustomerAccount {
  loaded: LoadedContracts;
  /** Every credit and commit, with the open periods' live deductions in their ledgers. */
  balances: credits.Balance[];
  /** One per live contract with a rate card and a period covering now. */
  drafts: Draft[];
}

/**
 * The id of a contract's invoice for a period: derived from what it is, so the draft has the
 * same id on every read (and keeps it when the period closes).
 */
export function invoiceIdFor(contractId: string, period: Period): string {
  return generatedId(period.startingAt, contractId, period.index, 'invoice');
}

/** How many of `products` a grant applies to; Infinity when it applies to all products. */
function productScope(grant: credits.Balance, products: ReadonlyMap<string, readonly string[]>): number {
  if (grant.applicableProductIds === null && grant.applicableProductTags === null) return Infinity;
  const ids = new Set(grant.applicableProductIds ?? []);
  for (const [productId, tags] of products) if (grant.applicableProductTags?.some((tag) => tags.includes(tag))) ids.add(productId);
  return ids.size;
}

/**
 * A customer's account as of the clock's now (DESIGN rules 9–11): its credits and commits are
 * derived; each live contract's open period is rated from the usage rollups; the charges draw the
 * credits and commits down in drawdown order; and the draws appear in the ledgers as live
 * deductions of each contract's draft invoice, dated at the invoice's date (the period's end, or
 * the segment's end when it comes first). Nothing is stored: two reads at the same instant agree.
 */
export async function customerAccount(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    contracts: given,
    finalized,
  }: {
    tenantId: string;
    customerId: string;
    /** The customer's contracts, when the caller has just read them. */
    contracts?: repo.ContractRow[];
    /**
     * Invoices among the open periods' that are already finalised (period close, looking at the
     * account as of a period's last instant): their periods are neither drafted nor drawn again,
     * and the deductions they recorded count instead, whatever their date.
     */
    finalized?: ReadonlySet<string>;
  },
): Promise<CustomerAccount> {
  // What the credits module stores for the customer does not depend on its contracts: load it alongside them.
  const stored = credits.loadStoredGrants(ctx, { tenantId, customerId });
  stored.catch(() => undefined);
  const contracts = given ?? (await repo.listContracts(ctx.db, tenantId, customerId));
  // The catalog each open period is rated with loads alongside the contracts and their grants.
  const prepared = prepareOpenPeriods(ctx, tenantId, contracts);
  // Neither promise is left unobserved: a failure surfaces where it is awaited, or not at all when loading the contracts failed first.
  prepared.catch(() => undefined);
  const loaded = await loadContracts(ctx, tenantId, contracts);
  let drafts: Draft[] = [];
  const balances = await credits.customerBalances(ctx, {
    tenantId,
    customerId,
    recurring: loaded.sources,
    archivedContracts: archivedContracts(contracts),
    settledInvoices: finalized,
    stored,
    liveDeductions: async (before) => {
      const cuts = before.flatMap((grant) => grant.segments.flatMap((segment) => [segment.startingAt, segment.endingBefore]));
      const open = (await prepared).filter(
        (period): period is rating.PreparedPeriod => period !== undefined && !finalized?.has(invoiceIdFor(period.contractId, period.period)),
      );
      const rated = await Promise.all(open.map((period) => rating.rateOpenPeriod(ctx, { tenantId, customerId, prepared: period, cuts })));
      const now = ctx.clock.now();
      const seats = open.map((period) =>
        seatLinesOf({ contractId: period.contractId, period: period.period, rates: period.rates, products: period.seatProducts, subscriptions: loaded.subscriptions, now }).filter(
          (line) => !line.immediate,
        ),
      );
      const live = new Map<string, LedgerEntry[]>();
      if (rated.length === 0) return live;

      // Every usage product the contracts' rate cards price, used or not, so a grant's scope does not move with usage.
      const productTags = new Map(open.flatMap((period) => period.products.map((product) => [product.id, product.tags] as const)));
      const grants = new Map(before.map((grant) => [grant.id, grant]));
      const segments: FundingSegment[] = before
        .filter((grant) => !grant.archivedAt)
        .flatMap((grant) =>
          grant.segments.map((segment) => ({
            grantId: grant.id,
            segmentId: segment.id,
            kind: grant.kind,
            priority: grant.priority,
            creditTypeId: grant.creditTypeId,
            applicableProductIds: grant.applicableProductIds,
            applicableProductTags: grant.applicableProductTags,
            productScope: productScope(grant, productTags),
            contractId: grant.contractId,
            applicableContractIds: grant.applicableContractIds,
            startingAt: segment.startingAt,
            endingBefore: segment.endingBefore,
            available: segment.ledger.held,
            rolloverOf: segment.rolloverOf,
          })),
        );
      const segmentGrant = new Map(segments.map((segment) => [segment.segmentId, grants.get(segment.grantId)!]));
      const segmentEnd = new Map(segments.map((segment) => [segment.segmentId, segment.endingBefore]));
      const charges: FundingCharge[] = rated.flatMap((period, i) => [
        ...period.lines.flatMap((line) =>
          line.charges.map((charge) => ({
            lineId: line.id,
            contractId: period.contractId,
            productId: line.productId,
            productTags: line.productTags,
            creditTypeId: line.creditTypeId,
            startingAt: charge.slice.startingAt,
            endingBefore: charge.slice.endingBefore,
            amount: charge.amount,
          })),
        ),
        ...seats[i]!.map((line) => ({
          lineId: line.id,
          contractId: period.contractId,
          productId: line.productId,
          productTags: line.productTags,
          creditTypeId: line.creditTypeId,
          // A seat charge is funded by segments active at the instant it is billed.
          startingAt: line.billedAt,
          endingBefore: new Date(line.billedAt.getTime() + 1),
          amount: line.amount,
          seat: true,
        })),
      ]);
      const funded = drawDown({ segments, charges });

      drafts = rated.map((period, i) => {
        const invoiceId = invoiceIdFor(period.contractId, period.period);
        const perSegment = new Map<string, Decimal>();
        const fundingOf = (lineId: string) => {
          const applied: Application[] = [];
          for (const [segmentId, amount] of funded.applied.get(lineId) ?? []) {
            if (amount.isZero()) continue;
            const grant = segmentGrant.get(segmentId)!;
            applied.push({ grantId: grant.id, segmentId, kind: grant.kind, name: grant.name, amount });
            perSegment.set(segmentId, (perSegment.get(segmentId) ?? new Decimal(0)).add(amount));
          }
          return { applied, overage: funded.overage.get(lineId) ?? new Decimal(0) };
        };
        const lines = period.lines.map((line): DraftLine => ({ ...line, ...fundingOf(line.id) }));
        const seatLines = seats[i]!.map((line): DraftSeatLine => ({ ...line, ...fundingOf(line.id) }));
        for (const [segmentId, amount] of perSegment) {
          if (amount.isZero()) continue;
          const end = segmentEnd.get(segmentId)!;
          const timestamp = end < period.period.endingBefore ? end : period.period.endingBefore;
          const entries = live.get(segmentId) ?? [];
          entries.push({ kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: amount.neg(), timestamp, invoiceId, live: true });
          live.set(segmentId, entries);
        }
        return { invoiceId, contractId: period.contractId, customerId, period: period.period, rateCard: period.rateCard, lines, seatLines };
      });
      return live;
    },
  });
  return { loaded, balances, drafts };
}
