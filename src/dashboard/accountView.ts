import type { ServiceContext } from '../lib/context.js';
import { Decimal } from '../lib/money.js';
import * as alerts from '../modules/alerts/service.js';
import * as contracts from '../modules/contracts/service.js';
import * as accounts from '../modules/account/service.js';
import * as customers from '../modules/customers/service.js';
import * as invoices from '../modules/invoices/service.js';
import * as pricing from '../modules/pricing/service.js';
import * as usage from '../modules/usage/service.js';
import { unitIn, type Unit } from './format.js';
import { poolOf, type Pool } from './compute/pool.js';
import { usageByGroup, type GroupUsage } from './compute/usageByGroup.js';

export type { Pool, GroupUsage };

/** A live subscription's seats: the quantity now and every step of its schedule. */
export interface SeatHistory {
  subscriptionId: string;
  contractId: string;
  name: string;
  quantity: number;
  steps: { startingAt: Date; quantity: number }[];
  startingAt: Date;
  endingBefore: Date | null;
  /** A SEAT_BASED subscription's: the property usage names its seats by, and the seat ids assigned now. */
  seatIds: { groupKey: string; assigned: string[] } | null;
}

/** Everything the customer page shows, read at one instant. */
export interface AccountView {
  now: Date;
  customer: customers.Customer;
  units: Map<string, Unit>;
  contracts: contracts.Contract[];
  seats: SeatHistory[];
  pools: Pool[];
  balances: accounts.Balance[];
  groups: GroupUsage[];
  alerts: alerts.CustomerAlertView[];
  drafts: invoices.Invoice[];
  invoices: invoices.Invoice[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Midnights (UTC) strictly inside `period`: where the daily burn cuts it. */
export function dailyCuts(period: { startingAt: Date; endingBefore: Date }): Date[] {
  const cuts: Date[] = [];
  let at = Math.floor(period.startingAt.getTime() / DAY_MS) * DAY_MS + DAY_MS;
  for (; at < period.endingBefore.getTime(); at += DAY_MS) cuts.push(new Date(at));
  return cuts;
}

export function seatHistories(account: accounts.CustomerAccount, now: Date): SeatHistory[] {
  const live = new Set(account.loaded.contracts.filter((contract) => !contract.archived_at).map((contract) => contract.id));
  return account.loaded.subscriptions
    .filter((subscription) => live.has(subscription.contract_id) && (!subscription.ending_before || subscription.ending_before > now))
    .map((subscription) => ({
      subscriptionId: subscription.id,
      contractId: subscription.contract_id,
      name: subscription.name ?? 'Seats',
      quantity: [...subscription.steps].reverse().find((step) => step.startingAt <= now)?.quantity ?? 0,
      steps: subscription.steps.map((step) => ({ startingAt: step.startingAt, quantity: step.quantity })),
      startingAt: subscription.starting_at,
      endingBefore: subscription.ending_before,
      seatIds: subscription.seats && {
        groupKey: subscription.seats.groupKey,
        assigned: [...subscription.seats.steps].reverse().find((step) => step.startingAt <= now)?.assigned ?? [],
      },
    }));
}

/** The credit types `ids` name, as pages show them. */
export async function unitsOf(ctx: ServiceContext, tenantId: string, ids: Iterable<string>): Promise<Map<string, Unit>> {
  const types = await pricing.findCreditTypes(ctx, { tenantId, creditTypeIds: [...new Set(ids)] });
  return new Map([...types].map(([id, type]) => [id, { id, name: type.name }]));
}

/** The single-property group keys of `metrics` (`user_id`, `team`): what usage is broken down by. */
export function groupProperties(metrics: readonly pricing.BillableMetric[]): string[] {
  return [...new Set(metrics.flatMap((metric) => (metric.group_keys ?? []).filter((key) => key.length === 1).map((key) => key[0]!)))].sort();
}

/**
 * The customer page's data: the account as of now (balances, drafts), the open periods rated per
 * day (the pool's burn) and per value of each group property (usage by user, by team), the seat
 * schedules, the alerts and the finalised invoices. Reads rollups, never events: its cost grows
 * with hours × groups, not with the number of events.
 */
export async function accountView(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<AccountView> {
  const now = ctx.clock.now();
  const customer = await customers.getCustomer(ctx, { tenantId, customerId });
  // Every read at once (the split ratings as soon as the group properties are known).
  const [account, daily, groups, alertPage, finalized] = await Promise.all([
    accounts.customerAccount(ctx, { tenantId, customerId }),
    accounts.rateOpenPeriodsFor(ctx, { tenantId, customerId, cutsOf: dailyCuts }),
    usage.liveMetrics(ctx, tenantId).then((metrics) =>
      Promise.all(groupProperties(metrics).map(async (property) => usageByGroup({ property, periods: await accounts.rateOpenPeriodsFor(ctx, { tenantId, customerId, splitBy: property }) }))),
    ),
    alerts.listCustomerAlerts(ctx, { tenantId, customerId, statuses: undefined, nextPage: undefined }),
    invoices.finalizedInvoices(ctx, { tenantId, customerId }),
  ]);
  const stored = new Set(finalized.map((invoice) => invoice.id));
  const drafts = account.drafts.map(invoices.draftInvoice).filter((draft) => !stored.has(draft.id));
  const balances = account.balances.filter((balance) => !balance.archivedAt);
  const units = await unitsOf(ctx, tenantId, [
    ...balances.map((balance) => balance.creditTypeId),
    ...drafts.flatMap((draft) => [draft.creditTypeId, ...draft.lines.map((line) => line.creditTypeId)]),
    ...finalized.map((invoice) => invoice.creditTypeId),
    ...daily.flatMap((period) => period.lines.map((line) => line.creditTypeId)),
  ]);
  const charges = daily.flatMap((period) => period.lines).flatMap((line) => line.charges.map((charge) => ({ creditTypeId: line.creditTypeId, charge })));
  const pools = [...new Set(balances.map((balance) => balance.creditTypeId))].flatMap((creditTypeId) => {
    const pool = poolOf({
      unit: unitIn(units, creditTypeId),
      balances: balances.filter((balance) => balance.creditTypeId === creditTypeId),
      charges: charges.filter((entry) => entry.creditTypeId === creditTypeId).map((entry) => entry.charge),
      now,
    });
    return pool ? [pool] : [];
  });
  return {
    now,
    customer,
    units,
    contracts: account.loaded.contracts.filter((contract) => !contract.archived_at),
    seats: seatHistories(account, now),
    pools,
    balances,
    groups: groups.filter((group) => group.rows.length > 0),
    alerts: alertPage.alerts,
    drafts,
    invoices: finalized,
  };
}

/** A row of the customers list: what an operator looks at first. */
export interface CustomerSummary {
  customer: customers.Customer;
  pools: { unit: Unit; balance: Decimal }[];
  seats: number;
  /** The live drafts' totals, by pricing unit. */
  spend: { unit: Unit; amount: Decimal }[];
  alertState: 'in_alarm' | 'ok' | 'none';
}

/** The customers list's row for each of `page`, computed a few at a time. */
export async function customerSummaries(ctx: ServiceContext, { tenantId, page }: { tenantId: string; page: customers.Customer[] }): Promise<CustomerSummary[]> {
  const now = ctx.clock.now();
  const summaries: CustomerSummary[] = [];
  const CONCURRENCY = 4;
  for (let start = 0; start < page.length; start += CONCURRENCY) {
    const slice = page.slice(start, start + CONCURRENCY);
    summaries.push(
      ...(await Promise.all(
        slice.map(async (customer) => {
          const [account, alertPage] = await Promise.all([
            accounts.customerAccount(ctx, { tenantId, customerId: customer.id }),
            alerts.listCustomerAlerts(ctx, { tenantId, customerId: customer.id, statuses: undefined, nextPage: undefined }),
          ]);
          const drafts = account.drafts.map(invoices.draftInvoice);
          const balances = account.balances.filter((balance) => !balance.archivedAt);
          const units = await unitsOf(ctx, tenantId, [...balances.map((balance) => balance.creditTypeId), ...drafts.map((draft) => draft.creditTypeId)]);
          const sumBy = <T>(items: T[], key: (item: T) => string, amount: (item: T) => Decimal) => {
            const totals = new Map<string, Decimal>();
            for (const item of items) totals.set(key(item), (totals.get(key(item)) ?? new Decimal(0)).add(amount(item)));
            return [...totals].map(([id, total]) => ({ unit: unitIn(units, id), total }));
          };
          const states = alertPage.alerts.map((view) => view.status);
          return {
            customer,
            pools: sumBy(balances, (b) => b.creditTypeId, (b) => b.balance).map(({ unit, total }) => ({ unit, balance: total })),
            seats: seatHistories(account, now).reduce((total, seat) => total + seat.quantity, 0),
            spend: sumBy(drafts, (d) => d.creditTypeId, (d) => d.total).map(({ unit, total }) => ({ unit, amount: total })),
            alertState: states.includes('in_alarm') ? 'in_alarm' : states.length ? 'ok' : 'none',
          } satisfies CustomerSummary;
        }),
      )),
    );
  }
  return summaries;
}
