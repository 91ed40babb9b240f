import type { ServiceContext } from '../lib/context.js';
import { Decimal, sumExactly } from '../lib/money.js';
import * as accounts from '../modules/account/service.js';
import * as contracts from '../modules/contracts/service.js';
import * as customers from '../modules/customers/service.js';
import { unitsOf, type SeatHistory } from './accountView.js';
import type { SeatAmounts, SeatRow } from './compute/seatTable.js';
import type { Unit } from './format.js';

/** Every seat a contract's SEAT_BASED subscriptions ever assigned, as one page of the table: no more than this. */
const ALL_SEATS = Number.MAX_SAFE_INTEGER;

const amountsOf = (balance: contracts.SeatBalance['balances'][number]): SeatAmounts => ({
  creditTypeId: balance.creditTypeId,
  starting: balance.startingBalance,
  remaining: balance.balance,
  used: balance.startingBalance.sub(balance.balance),
});

/**
 * Every seat of the customer's live SEAT_BASED subscriptions with its own balance per pricing unit
 * (the segments running now), read as `v1.contracts.listSeatBalances` reads them, contract by
 * contract; `seats` (the customer page's seat histories) say which are assigned now.
 */
export async function seatRows(ctx: ServiceContext, { tenantId, customerId, seats }: { tenantId: string; customerId: string; seats: SeatHistory[] }): Promise<SeatRow[]> {
  const contractIds = [...new Set(seats.filter((seat) => seat.seatIds).map((seat) => seat.contractId))];
  const lists = await Promise.all(contractIds.map((contractId) => contracts.listSeatBalances(ctx, { tenantId, customerId, contractId, limit: ALL_SEATS })));
  return contractIds.flatMap((contractId, index) => {
    const assigned = new Set(seats.filter((seat) => seat.contractId === contractId).flatMap((seat) => seat.seatIds?.assigned ?? []));
    return lists[index]!.seats.map((seat) => ({ contractId, seatId: seat.seatId, assigned: assigned.has(seat.seatId), balances: seat.balances.map(amountsOf) }));
  });
}

/** The shared credits and commits of one unit a seat's usage may draw on, and whether they come before its own. */
export interface SharedPool {
  creditTypeId: string;
  balance: Decimal;
  /** Some of it has a lower priority number than the seat's own credit: drawn before it (docs/rules.md rule 29). */
  drawnFirst: boolean;
}

/** What a seat-scoped embeddable view shows: one seat's own credits and the pool behind them, nothing of other seats. */
export interface SeatEmbedView {
  now: Date;
  customerName: string;
  seatId: string;
  units: Map<string, Unit>;
  /** Per unit, with when its current segments end. */
  own: (SeatAmounts & { endingBefore: Date | undefined })[];
  pools: SharedPool[];
}

const covering = (now: Date) => (segment: { startingAt: Date; endingBefore: Date }) => segment.startingAt <= now && now < segment.endingBefore;
const held = (amounts: Decimal[]) => sumExactly(amounts.map((amount) => Decimal.max(amount, 0)));

/**
 * One seat's view: its own balances (`listSeatBalances` for that seat on each live contract that
 * assigned it; only `contractId`'s when given) and, per unit, the shared credits and commits of
 * those contracts (or the customer's, applicable to them) running now: the pool its usage draws
 * on once its own credit is spent, or before, when the priorities say so.
 */
export async function seatEmbedView(
  ctx: ServiceContext,
  { tenantId, customerId, seatId, contractId }: { tenantId: string; customerId: string; seatId: string; contractId?: string | undefined },
): Promise<SeatEmbedView> {
  const now = ctx.clock.now();
  const [customer, holding, account] = await Promise.all([
    customers.getCustomer(ctx, { tenantId, customerId }),
    contracts.contractsWithSeat(ctx, { tenantId, customerId, seatId }),
    accounts.customerAccount(ctx, { tenantId, customerId }),
  ]);
  const contractIds = holding.filter((id) => contractId === undefined || id === contractId.toLowerCase());
  const lists = await Promise.all(contractIds.map((id) => contracts.listSeatBalances(ctx, { tenantId, customerId, contractId: id, seatIds: [seatId], skipMissingSeatIds: true, limit: 1 })));
  const grants = lists.flatMap((list) => list.seats.flatMap((seat) => seat.grants));
  const ownUnits = [...new Set(grants.map(({ grant }) => grant.creditTypeId))].sort();
  const own = ownUnits.map((creditTypeId) => {
    const mine = grants.filter(({ grant }) => grant.creditTypeId === creditTypeId);
    const starting = sumExactly(mine.map(({ segment }) => segment.amount));
    const remaining = held(mine.map(({ segment }) => segment.ledger.balance));
    const ends = mine.map(({ segment }) => segment.endingBefore.getTime());
    return { creditTypeId, starting, remaining, used: starting.sub(remaining), endingBefore: ends.length ? new Date(Math.min(...ends)) : undefined };
  });

  const applies = (balance: accounts.Balance) =>
    balance.contractId !== null ? contractIds.includes(balance.contractId) : !balance.applicableContractIds || balance.applicableContractIds.some((id) => contractIds.includes(id));
  const shared = account.balances.filter((balance) => balance.seatId === undefined && !balance.archivedAt && applies(balance) && balance.segments.some(covering(now)));
  const poolUnits = ownUnits.length ? ownUnits : [...new Set(shared.map((balance) => balance.creditTypeId))].sort();
  const pools = poolUnits.flatMap((creditTypeId): SharedPool[] => {
    const inUnit = shared.filter((balance) => balance.creditTypeId === creditTypeId);
    if (inUnit.length === 0) return [];
    const ownPriorities = grants.filter(({ grant }) => grant.creditTypeId === creditTypeId).map(({ grant }) => grant.priority);
    const ownFirst = ownPriorities.length ? Decimal.min(...ownPriorities) : undefined;
    return [
      {
        creditTypeId,
        balance: held(inUnit.flatMap((balance) => balance.segments.filter(covering(now)).map((segment) => segment.ledger.balance))),
        drawnFirst: ownFirst !== undefined && inUnit.some((balance) => balance.priority.lt(ownFirst)),
      },
    ];
  });
  return { now, customerName: customer.name, seatId, units: await unitsOf(ctx, tenantId, poolUnits), own, pools };
}
