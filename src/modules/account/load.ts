import type { ServiceContext } from '../../lib/context.js';
import { periodAt, periodsBetween, type Period } from '../../lib/periods.js';
import { floorToDay } from '../../lib/time.js';
import * as contractsRepo from '../contracts/repo.js';
import * as creditsRepo from '../credits/repo.js';
import * as invoicesRepo from '../invoices/repo.js';
import * as pricing from '../pricing/service.js';
import * as tenants from '../tenants/service.js';
import * as usageRepo from '../usage/sliceRepo.js';
import { invoiceIdFor, type AccountNames } from './compute/account.js';
import type { StoredGrants } from './compute/balances.js';
import { hourlyFromFor, usagePrice, type PeriodUsage, type PreparedPeriod, type UsageWindow } from './compute/rating.js';
import type { RateVersion } from './compute/charges.js';
import { overridesFor, rateOverrideOf, type RateOverride } from './compute/overrides.js';
import { contractTerms, statementScheduleOf, type Contract, type LoadedContracts } from './compute/terms.js';

/**
 * The account's one reader. Everything the computation needs comes through here, from the repos
 * of `contracts`, `credits` and `usage` and from the pricing catalog; nothing in `compute/` reads.
 */

/** What an account is computed from, apart from usage: it changes only when a contract, a grant, an entry or the catalog does, or when a period turns. */
export interface AccountTerms {
  loaded: LoadedContracts;
  stored: StoredGrants;
  /**
   * The periods to rate, prepared: per live contract with a rate card, its open period (covering
   * now) and the ended periods still in their grace period and not finalised, oldest first.
   */
  prepared: PreparedPeriod[];
  /** The names of the products and pricing units its grants and contracts name. */
  names: AccountNames;
}

/**
 * A catalog to rate with instead of the contracts' own (the pricing simulations): another rate
 * card for every contract, and/or the rates of each period as the scenario changes them.
 */
export interface CatalogScenario {
  /** Rates every contract with this rate card (its rates and conversions) instead of its own. */
  rateCardId?: string | undefined;
  /** The rates to rate a period with, from those of the card in force during it. */
  rates?: ((rates: pricing.Rate[], period: Period) => pricing.Rate[]) | undefined;
}

/** Which periods `loadTerms` prepares instead of the open ones: every statement period of each live contract overlapping `[from, to)`, rated with `scenario`. */
export interface ReplayWindow {
  from: Date;
  to: Date;
  scenario?: CatalogScenario | undefined;
}

/**
 * Reads a customer's contracts and their terms, its stored grants and ledger entries, and the
 * catalog its live contracts' open periods (as of the clock's now) are rated with: three round
 * trips at most (contracts; then terms, grants, entries and the rate cards together; then the
 * products and metrics the rates name).
 */
export async function loadTerms(
  ctx: ServiceContext,
  { tenantId, customerId, contracts: given, replay }: { tenantId: string; customerId: string; contracts?: Contract[] | undefined; replay?: ReplayWindow | undefined },
): Promise<AccountTerms> {
  // The grants and entries do not depend on the contracts: they load alongside them.
  const stored = loadStoredGrants(ctx, tenantId, customerId);
  stored.catch(() => undefined);
  const settings = tenants.settingsOfTenant(ctx, tenantId);
  settings.catch(() => undefined);
  const contracts = given ?? (await contractsRepo.listContracts(ctx.db, tenantId, customerId));
  const terms = contractsRepo.loadContractTerms(
    ctx.db,
    tenantId,
    contracts.map((c) => c.id),
  );
  terms.catch(() => undefined);
  // Rating needs the overrides only once it knows the products: they load alongside the catalog.
  const overrides = terms.then((rows) => rows.overrides.map(rateOverrideOf));
  overrides.catch(() => undefined);
  const toRate = replay ? Promise.resolve(periodsOverlapping(contracts, replay)) : settings.then((tenant) => periodsToRate(ctx, { tenantId, contracts, settings: tenant }));
  const prepared = toRate
    .then((periods) => Promise.all(periods.map(({ contract, period }) => preparePeriod(ctx, { tenantId, contract, period, overrides, scenario: replay?.scenario }))))
    .then((periods) => periods.filter((period) => period !== undefined));
  prepared.catch(() => undefined);
  const rows = await terms;
  const grants = (await stored).grants;
  const [products, creditTypes] = await Promise.all([
    pricing.findProducts(ctx, { tenantId, productIds: [...new Set([...grants, ...rows.recurring, ...rows.subscriptions].map((row) => row.product_id))] }),
    pricing.findCreditTypes(ctx, { tenantId, creditTypeIds: [...new Set([...grants, ...rows.recurring].map((row) => row.credit_type_id))] }),
  ]);
  const names: AccountNames = {
    products: new Map([...products].map(([id, product]) => [id, product.name])),
    creditTypes: new Map([...creditTypes].map(([id, creditType]) => [id, creditType.name])),
  };
  return { loaded: contractTerms(contracts, rows), stored: await stored, prepared: await prepared, names };
}

/** A customer's contracts as stored, archived ones included, by id. */
export function customerContracts(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<Contract[]> {
  return contractsRepo.listContracts(ctx.db, tenantId, customerId);
}

/** A customer's contracts as stored, with their subscriptions' quantity schedules and recurring grant sources. */
export async function loadContracts(ctx: ServiceContext, tenantId: string, contracts: Contract[]): Promise<LoadedContracts> {
  return contractTerms(contracts, await contractsRepo.loadContractTerms(ctx.db, tenantId, contracts.map((c) => c.id)));
}

async function loadStoredGrants({ db }: ServiceContext, tenantId: string, customerId: string): Promise<StoredGrants> {
  const [grants, entries] = await Promise.all([creditsRepo.listGrants(db, tenantId, customerId), creditsRepo.listEntries(db, tenantId, customerId)]);
  return { grants, entries };
}

/**
 * The periods of the live contracts with a rate card to rate as of the clock's now: each one's
 * usage statement period covering now, and those still in the tenant's grace period (ended after
 * `graceCutoff`) with no finalised invoice (late usage still counts in them), oldest first.
 */
async function periodsToRate(
  ctx: ServiceContext,
  { tenantId, contracts, settings }: { tenantId: string; contracts: readonly Contract[]; settings: tenants.TenantSettings },
): Promise<{ contract: Contract; period: Period }[]> {
  const now = ctx.clock.now();
  const graceStart = tenants.graceCutoff(now, settings);
  const live = contracts.filter((contract) => !contract.archived_at && contract.rate_card_id);
  const ended = live.flatMap((contract) =>
    settings.invoiceGracePeriodHours === 0
      ? []
      : periodsBetween(statementScheduleOf(contract), { from: graceStart, to: now })
          .filter((period) => period.endingBefore > graceStart && period.endingBefore <= now)
          .map((period) => ({ contract, period })),
  );
  const finalized = ended.length ? await invoicesRepo.existingInvoiceIds(ctx.db, tenantId, ended.map(({ contract, period }) => invoiceIdFor(contract.id, period))) : new Set<string>();
  const open = live.flatMap((contract) => {
    const period = periodAt(statementScheduleOf(contract), now);
    return period ? [{ contract, period }] : [];
  });
  return [...ended.filter(({ contract, period }) => !finalized.has(invoiceIdFor(contract.id, period))), ...open];
}

/** The statement periods of the live contracts with a rate card (or every live contract, when the scenario names a card) overlapping `[from, to)`, oldest first. */
function periodsOverlapping(contracts: readonly Contract[], { from, to, scenario }: ReplayWindow): { contract: Contract; period: Period }[] {
  return contracts
    .filter((contract) => !contract.archived_at && (contract.rate_card_id || scenario?.rateCardId))
    .flatMap((contract) => periodsBetween(statementScheduleOf(contract), { from, to }).map((period) => ({ contract, period })))
    .sort((a, b) => a.period.startingAt.getTime() - b.period.startingAt.getTime());
}

/**
 * What rating `period` of `contract`'s usage statements needs: its rate card, the FLAT and
 * TIERED rates in force at some point of the period, and the USAGE products they price (as they
 * stand now, or at the period's last instant when it has ended) with their billable metrics; the
 * contract's overrides of those products (`overrides`: the customer's, as they load); its seat
 * rates and SUBSCRIPTION products, for the seat lines. Undefined when the rate card is gone.
 */
async function preparePeriod(
  ctx: ServiceContext,
  {
    tenantId,
    contract,
    period,
    overrides,
    scenario,
  }: { tenantId: string; contract: Contract; period: Period; overrides: Promise<RateOverride[]>; scenario?: CatalogScenario | undefined },
): Promise<PreparedPeriod | undefined> {
  const lastInstant = new Date(period.endingBefore.getTime() - 1);
  const now = ctx.clock.now() < lastInstant ? ctx.clock.now() : lastInstant;
  const rateCardId = scenario?.rateCardId ?? contract.rate_card_id;
  if (!rateCardId) return undefined;
  const [rateCard, listed] = await Promise.all([
    pricing.findRateCard(ctx, { tenantId, rateCardId }),
    pricing.ratesDuring(ctx, { tenantId, rateCardId, from: period.startingAt, to: period.endingBefore }),
  ]);
  if (!rateCard) return undefined;
  const rates = scenario?.rates ? scenario.rates(listed, period) : listed;
  const seatRates = rates.filter(pricing.isSeatRate);
  const versions = new Map<string, RateVersion[]>();
  for (const rate of rates) {
    const price = pricing.isSeatRate(rate) ? undefined : usagePrice(rate);
    if (!price) continue;
    const list = versions.get(rate.productId) ?? [];
    list.push({ id: rate.id, startingAt: rate.startingAt, endingBefore: rate.endingBefore, entitled: rate.entitled, price, creditTypeId: rate.creditTypeId, pricingGroupValues: rate.pricingGroupValues });
    versions.set(rate.productId, list);
  }
  // The products the card prices by subscription come along, for the names of seat lines.
  const seatProductIds = seatRates.map((rate) => rate.productId);
  const priced =
    versions.size + seatProductIds.length === 0
      ? new Map<string, pricing.Product>()
      : await pricing.findProductsAt(ctx, { tenantId, productIds: [...new Set([...versions.keys(), ...seatProductIds])], at: now });
  const products = [...priced.values()].filter((product) => versions.has(product.id) && product.type === 'USAGE' && product.billableMetricId);
  const seatProducts = new Map([...priced].filter(([id]) => seatProductIds.includes(id)));
  const metrics = products.length ? await pricing.findBillableMetrics(ctx, { tenantId, ids: [...new Set(products.map((p) => p.billableMetricId!))] }) : new Map();
  const own = (await overrides).filter(
    (override) => override.contractId === contract.id && override.startingAt < period.endingBefore && (!override.endingBefore || override.endingBefore > period.startingAt),
  );
  const overridden = new Map<string, RateOverride[]>();
  for (const product of products) {
    const list = overridesFor(product, own, contract.multiplier_override_prioritization);
    if (list.length) overridden.set(product.id, list);
  }
  return { contractId: contract.id, period, rateCard, rates, seatRates, versions, overrides: overridden, products, seatProducts, metrics };
}

/**
 * What the usage rollups hold for each window: one round trip, the windows' reads running
 * together. With `byDay`, summed per slice and UTC day — today's hours (the clock's UTC day) per
 * hour, so new usage of this hour re-reads this hour alone — with `readFrom`, only from then on
 * (`readFrom` on a day, or today).
 */
export function loadUsage(
  ctx: ServiceContext,
  { tenantId, customerId, windows, byDay, readFrom }: { tenantId: string; customerId: string; windows: readonly UsageWindow[]; byDay?: boolean; readFrom?: Date | undefined },
): Promise<PeriodUsage[]> {
  const hourlyFrom = byDay ? hourlyFromFor(floorToDay(ctx.clock.now()), readFrom) : undefined;
  return Promise.all(
    windows.map(async (window): Promise<PeriodUsage> => {
      if (window.selections.length === 0) return { rows: [], firstSeen: [], hourlyFrom };
      const read = { customerId, selections: window.selections, from: window.from, to: window.to, sliceStarts: window.slices.map((slice) => slice.startingAt), byDay, readFrom, hourlyFrom };
      const [rows, firstSeen] = await Promise.all([
        usageRepo.sliceRollups(ctx.db, tenantId, read),
        usageRepo.firstSeenValues(ctx.db, tenantId, { ...read, selections: window.uniqueSelections }),
      ]);
      return { rows, firstSeen, hourlyFrom };
    }),
  );
}
