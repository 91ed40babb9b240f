import { addExactly, Decimal, ZERO } from '../../../lib/money.js';
import type { Period } from '../../../lib/periods.js';
import { deriveBalances, deriveSettledHistory, mergeById, recordedMovements, type Balance, type StoredGrants } from './balances.js';
import { generatedId } from './derivedGrants.js';
import { drawDown, type Drawdown, type FundingCharge, type FundingSegment } from './drawdown.js';
import { redrawDown } from './redraw.js';
import { ratePeriod, usageWindowOf, type PeriodUsage, type PreparedPeriod, type RatedLine, type RatedPeriod, type UsageWindow } from './rating.js';
import { seatLinesOf, type SeatLine } from './seatLines.js';
import { seatKeyOf, usageFundingCharges, withSeatSelections } from './seatUsage.js';
import type { LedgerEntry } from './segmentLedger.js';
import { archivedContracts, type LoadedContracts } from './terms.js';


/** What a credit or commit paid toward a line of a draft. */
export interface Application {
  grantId: string;
  segmentId: string;
  kind: 'CREDIT' | 'COMMIT';
  name: string | null;
  amount: Decimal;
}

export interface DraftLine extends RatedLine {
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
  rateCard: RatedPeriod['rateCard'];
  lines: DraftLine[];
  seatLines: DraftSeatLine[];
}

/** Everything a customer holds and owes as of now. */
export interface CustomerAccount {
  loaded: LoadedContracts;
  /**
   * Every credit and commit, with the open periods' live deductions in their ledgers, ordered by
   * id. The settled periods of recurring grants (ended before the earliest open period) are
   * derived on first use: a read that needs only `current` never derives a long history.
   */
  readonly balances: Balance[];
  /** The same without the settled periods of recurring grants: everything that can be spent now or drawn by an open period. */
  current: Balance[];
  /** One per live contract with a rate card and a period covering now. */
  drafts: Draft[];
  /** Every seat charge of those open periods, immediately billed increases included (what a seat change would charge: the edit preview). */
  seatCharges: SeatLine[];
  /** The names of the products and pricing units the customer's grants and contracts name (for responses). */
  names: AccountNames;
}

export interface AccountNames {
  products: ReadonlyMap<string, string>;
  creditTypes: ReadonlyMap<string, string>;
}

/**
 * The id of a contract's invoice for a period: derived from what it is, so the draft has the
 * same id on every read (and keeps it when the period closes).
 */
export function invoiceIdFor(contractId: string, period: Period): string {
  return generatedId(period.startingAt, contractId, period.index, 'invoice');
}

/** How many of `products` a grant applies to; Infinity when it applies to all products. */
function productScope(grant: Balance, products: ReadonlyMap<string, readonly string[]>): number {
  if (grant.applicableProductIds === null && grant.applicableProductTags === null) return Infinity;
  const ids = new Set(grant.applicableProductIds ?? []);
  for (const [productId, tags] of products) if (grant.applicableProductTags?.some((tag) => tags.includes(tag))) ids.add(productId);
  return ids.size;
}


/** What the account is computed from: the customer's contract terms, stored grants and entries, and each live contract's open period prepared for rating. */
export interface AccountInputs {
  customerId: string;
  loaded: LoadedContracts;
  stored: StoredGrants;
  /** The periods to rate: each live contract's open period, and its ended periods still in their grace period. */
  prepared: readonly PreparedPeriod[];
  names: AccountNames;
  now: Date;
  /**
   * Invoices among the open periods' that are already finalised (period close, looking at the
   * account as of a period's last instant): their periods are neither drafted nor drawn again,
   * and the deductions they recorded count instead, whatever their date.
   */
  finalized?: ReadonlySet<string> | undefined;
  /** Further instants to cut the rated periods at (a replay cuts them per day, to see when a pool ran out). */
  cuts?: readonly Date[] | undefined;
}

/** The first step of the computation: balances before the open periods' charges, and what each open period reads from the usage rollups. */
export interface AccountPlan {
  /** Balances before the open periods' charges, the settled periods of recurring grants left out. */
  before: Balance[];
  /** The balances of the settled periods of recurring grants (none of which an open period draws), derived on first use. */
  history: () => Balance[];
  recorded: Map<string, LedgerEntry[]>;
  open: PreparedPeriod[];
  windows: UsageWindow[];
  /** Per open period, the window rating it split per seat (a contract with INDIVIDUAL grants: rule 29); its rows are read with `windows`. */
  seatWindows: (UsageWindow | undefined)[];
}

/** Balances as they stand before the open periods' charges, and the usage windows the charges need (cut where segments start or end). */
export function planAccount({ loaded, stored, prepared, now, finalized, cuts: extraCuts = [] }: AccountInputs): AccountPlan {
  const recorded = recordedMovements(stored.entries, finalized);
  const open = prepared.filter((period) => !finalized?.has(invoiceIdFor(period.contractId, period.period)));
  // Segments ended by the earliest open period's start (or now) hold nothing and fund nothing: settled.
  const settledBefore = new Date(Math.min(now.getTime(), ...open.map((period) => period.period.startingAt.getTime())));
  const before = deriveBalances({ grants: stored.grants, recurring: loaded.sources, archivedContracts: archivedContracts(loaded.contracts), recorded, now, settledBefore });
  const cuts = [...before.flatMap((grant) => grant.segments.flatMap((segment) => [segment.startingAt, segment.endingBefore])), ...extraCuts];
  let history: Balance[] | undefined;
  const seatWindows = open.map((period) => {
    const seatKey = seatKeyOf(loaded, period.contractId);
    return seatKey === undefined ? undefined : usageWindowOf({ prepared: period, cuts, splitBy: seatKey });
  });
  return {
    before,
    history: () => (history ??= deriveSettledHistory({ recurring: loaded.sources, recorded, now, settledBefore })),
    recorded,
    open,
    windows: open.map((period, i) => withSeatSelections(usageWindowOf({ prepared: period, cuts }), seatWindows[i])),
    seatWindows,
  };
}

/**
 * The account with `current` balances, its full `balances` joining the settled history on first
 * use, and its drafts made on first use when given as a function.
 */
function accountOf(
  plan: AccountPlan,
  { drafts, ...rest }: Omit<CustomerAccount, 'balances' | 'current' | 'drafts'> & { drafts: Draft[] | (() => Draft[]) },
  current: Balance[],
): CustomerAccount {
  let all: Balance[] | undefined;
  const account = Object.defineProperty({ ...rest, current } as CustomerAccount, 'balances', {
    get: () => (all ??= mergeById(current, plan.history())),
    enumerable: true,
  });
  if (Array.isArray(drafts)) return Object.assign(account, { drafts });
  let made: Draft[] | undefined;
  return Object.defineProperty(account, 'drafts', { get: () => (made ??= drafts()), enumerable: true });
}

/** What can fund a plan's charges: its segments, and each one's grant and end. */
interface Funding {
  segments: FundingSegment[];
  segmentGrant: Map<string, Balance>;
  segmentEnd: Map<string, Date>;
}

const fundings = new WeakMap<AccountPlan, Funding>();

/**
 * The segments that can fund the open periods' charges, as drawdown sees them: those of the plan's
 * balances (before the charges) that overlap an open period, a long history's ended ones left out.
 * They depend on the plan alone, which kept terms keep: worked out once per plan.
 */
function fundingSegmentsOf(plan: AccountPlan): Funding {
  const known = fundings.get(plan);
  if (known) return known;
  const { before, open } = plan;
  // Every usage product the contracts' rate cards price, used or not, so a grant's scope does not move with usage.
  const productTags = new Map(open.flatMap((period) => period.products.map((product) => [product.id, product.tags] as const)));
  const grants = new Map(before.map((grant) => [grant.id, grant]));
  const from = Math.min(...open.map((period) => period.period.startingAt.getTime()));
  const to = Math.max(...open.map((period) => period.period.endingBefore.getTime()));
  const overlaps = (segment: { startingAt: Date; endingBefore: Date }) => segment.endingBefore.getTime() > from && segment.startingAt.getTime() < to;
  const segments: FundingSegment[] = before
    .filter((grant) => !grant.archivedAt && grant.segments.some(overlaps))
    .flatMap((grant) =>
      grant.segments.filter(overlaps).map((segment) => ({
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
        ...(grant.seatId !== undefined && { seatId: grant.seatId }),
      })),
    );
  const funding = {
    segments,
    segmentGrant: new Map(segments.map((segment) => [segment.segmentId, grants.get(segment.grantId)!])),
    segmentEnd: new Map(segments.map((segment) => [segment.segmentId, segment.endingBefore])),
  };
  fundings.set(plan, funding);
  return funding;
}

/**
 * A customer's account as of `now` (docs/rules.md rules 9–11), from its plan and the usage each open
 * period's window holds: each live contract's open period is rated, the charges draw the credits
 * and commits down in drawdown order, and the draws appear in the ledgers as live deductions of
 * each contract's draft invoice, dated at the invoice's date (the period's end, or the segment's
 * end when it comes first). Pure: the same inputs give the same account.
 */
export function completeAccount(inputs: AccountInputs, plan: AccountPlan, usage: readonly PeriodUsage[], previous?: CustomerAccount): CustomerAccount {
  const { customerId, loaded, stored, names, now } = inputs;
  const { before, recorded, open } = plan;
  const rated = open.map((period, i) => ratePeriod({ prepared: period, window: plan.windows[i]!, usage: usage[i]! }));
  if (rated.length === 0) return accountOf(plan, { loaded, drafts: [], seatCharges: [], names }, before);
  const allSeats = seatLinesOfPlan(plan, () =>
    open.map((period) =>
      seatLinesOf({ contractId: period.contractId, period: period.period, rates: period.seatRates, products: period.seatProducts, subscriptions: loaded.subscriptions, now }),
    ),
  );
  // Immediately billed increases are invoices of their own, not lines of the draft.
  const seats = allSeats.map((lines) => lines.filter((line) => !line.immediate));
  const live = new Map<string, LedgerEntry[]>();
  const { segments, segmentGrant, segmentEnd } = fundingSegmentsOf(plan);
  const endedAt = (period: Period) => (period.endingBefore <= now ? period.endingBefore : undefined);
  const bySeat = open.map((period, i) => {
    const seatWindow = plan.seatWindows[i];
    return seatWindow && ratePeriod({ prepared: period, window: seatWindow, usage: usage[i]! });
  });
  // A contract's line has the same id in each of its periods (an ended one in its grace period and
  // the open one): funded, it is told apart by its period.
  const fundingLineId = (i: number, lineId: string) => (rated.length === 1 ? lineId : `${lineId}\u0000${i}`);
  const charges: FundingCharge[] = rated.flatMap((period, i) => [
    ...usageFundingCharges({ rated: period, bySeat: bySeat[i], periodEnded: endedAt(period.period), lineIdOf: (line) => fundingLineId(i, line.id) }),
    ...seats[i]!.map((line) => ({
      periodEnded: endedAt(period.period),
      lineId: fundingLineId(i, line.id),
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
  // The previous account of the same plan drew the same charges, most of them for the same amounts:
  // when only some seats' amounts changed, only their charges are drawn again (`redraw.ts`).
  const earlier = previous && derivations.get(previous);
  const funded = redrawDown(earlier?.plan === plan ? earlier.funded : undefined, { segments, charges }) ?? drawDown({ segments, charges });

  // The live deductions: what the charges of each period's draft drew from each segment.
  const invoiceIds = rated.map((period) => invoiceIdFor(period.contractId, period.period));
  const addLive = (segmentId: string, amount: Decimal, i: number) => {
    if (amount.isZero()) return;
    const { period } = rated[i]!;
    const end = segmentEnd.get(segmentId)!;
    const timestamp = end < period.endingBefore ? end : period.endingBefore;
    const entries = live.get(segmentId) ?? [];
    entries.push({ kind: 'AUTOMATED_INVOICE_DEDUCTION', amount: amount.neg(), timestamp, invoiceId: invoiceIds[i]!, live: true });
    live.set(segmentId, entries);
  };
  if (rated.length === 1) {
    // Every charge is of the one period: what it drew from a segment is that segment's deduction.
    for (const [segmentId, amount] of funded.drawn) addLive(segmentId, amount, 0);
  } else {
    rated.forEach((period, i) => {
      const perSegment = new Map<string, Decimal>();
      for (const line of [...period.lines, ...seats[i]!]) {
        for (const [segmentId, amount] of funded.applied.get(fundingLineId(i, line.id)) ?? []) perSegment.set(segmentId, addExactly(perSegment.get(segmentId) ?? ZERO, amount));
      }
      for (const [segmentId, amount] of perSegment) addLive(segmentId, amount, i);
    });
  }
  // The drafts, with what funded each line, on first use: balance reads never look at them.
  const drafts = () =>
    rated.map((period, i): Draft => {
      const fundingOf = (ownId: string) => {
        const lineId = fundingLineId(i, ownId);
        const applied: Application[] = [];
        for (const [segmentId, amount] of funded.applied.get(lineId) ?? []) {
          if (amount.isZero()) continue;
          const grant = segmentGrant.get(segmentId)!;
          applied.push({ grantId: grant.id, segmentId, kind: grant.kind, name: grant.name, amount });
        }
        return { applied, overage: funded.overage.get(lineId) ?? ZERO };
      };
      const lines = period.lines.map((line): DraftLine => ({ ...line, ...fundingOf(line.id) }));
      const seatLines = seats[i]!.map((line): DraftSeatLine => ({ ...line, ...fundingOf(line.id) }));
      return { invoiceId: invoiceIds[i]!, contractId: period.contractId, customerId, period: period.period, rateCard: period.rateCard, lines, seatLines };
    });
  const seatCharges = allSeats.flat();
  if (live.size === 0) {
    const account = accountOf(plan, { loaded, drafts, seatCharges, names }, before);
    derivations.set(account, { plan, live, funded });
    return account;
  }
  const withLive = new Map(recorded);
  for (const [segmentId, deductions] of live) withLive.set(segmentId, [...(recorded.get(segmentId) ?? []), ...deductions]);
  // Only the grants the live deductions touch change: the rest stand as derived before them, or as
  // the previous account of the same plan derived them when their live deductions are the same.
  const reuse = earlier?.plan === plan ? { before: previous!.current, changed: changedSegments(earlier.live, live) } : { before, changed: new Set(live.keys()) };
  const balances = deriveBalances({
    grants: stored.grants,
    recurring: loaded.sources,
    archivedContracts: archivedContracts(loaded.contracts),
    recorded: withLive,
    now,
    reuse,
  });
  const account = accountOf(plan, { loaded, drafts, seatCharges, names }, balances);
  derivations.set(account, { plan, live, funded });
  return account;
}

/**
 * The seat lines of a plan's open periods: they depend on the terms and the clock alone, and a
 * plan stands only while neither moves a seat charge (kept terms are loaded again at the next
 * hour, or at an instant a quantity change names): worked out once per plan.
 */
function seatLinesOfPlan(plan: AccountPlan, lines: () => SeatLine[][]): SeatLine[][] {
  let known = seatLinesOfPlans.get(plan);
  if (!known) seatLinesOfPlans.set(plan, (known = lines()));
  return known;
}

const seatLinesOfPlans = new WeakMap<AccountPlan, SeatLine[][]>();

/** What an account was completed from: its plan, its drawdown and its live deductions per segment (for the next account of the same plan: `completeAccount`'s `previous`). */
const derivations = new WeakMap<CustomerAccount, { plan: AccountPlan; live: ReadonlyMap<string, readonly LedgerEntry[]>; funded: Drawdown }>();

/** The segments whose live deductions differ between two drawdowns. */
function changedSegments(before: ReadonlyMap<string, readonly LedgerEntry[]>, after: ReadonlyMap<string, readonly LedgerEntry[]>): Set<string> {
  const same = (a: readonly LedgerEntry[] | undefined, b: readonly LedgerEntry[] | undefined) =>
    a !== undefined &&
    b !== undefined &&
    a.length === b.length &&
    a.every((entry, i) => entry.amount.eq(b[i]!.amount) && entry.timestamp.getTime() === b[i]!.timestamp.getTime() && entry.invoiceId === b[i]!.invoiceId);
  const changed = new Set<string>();
  for (const segmentId of new Set([...before.keys(), ...after.keys()])) if (!same(before.get(segmentId), after.get(segmentId))) changed.add(segmentId);
  return changed;
}
