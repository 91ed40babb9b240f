import type { ServiceContext } from '../../lib/context.js';
import { Invalid, Problems } from '../../lib/errors.js';
import { isNegative, sumExactly, ZERO, type Decimal } from '../../lib/money.js';
import * as account from '../account/service.js';
import { findCustomerContract } from './lookup.js';

/** One seat's credits or commits of one contract (INDIVIDUAL allocation), with its balance per pricing unit. */
export interface SeatBalance {
  seatId: string;
  balances: Array<{ creditTypeId: string; balance: Decimal; startingBalance: Decimal }>;
  grants: Array<{ grant: account.Balance; segment: account.Balance['segments'][number] }>;
}

export interface SeatBalancesQuery {
  tenantId: string;
  customerId: string;
  contractId: string;
  subscriptionIds?: string[] | undefined;
  seatIds?: string[] | undefined;
  skipMissingSeatIds?: boolean | undefined;
  coveringDate?: Date | undefined;
  startingAt?: Date | undefined;
  effectiveBefore?: Date | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/**
 * `v1.contracts.listSeatBalances` (docs/rules.md rule 29): per seat of the contract's SEAT_BASED
 * subscriptions (every seat id ever assigned, by id), its own credits and commits — the segments
 * of the INDIVIDUAL grants for that seat that cover `coveringDate` (the clock's now when no date is
 * given), or that have access from `startingAt` on and before `effectiveBefore` — and, per pricing
 * unit, their balance and starting balance (what they were granted). A seat id not on the
 * subscriptions is a 400 naming it unless `skipMissingSeatIds`; a subscription that is not
 * SEAT_BASED is a 400 naming it. Pages of `limit` seats (1–100, default 25).
 */
export async function listSeatBalances(ctx: ServiceContext, query: SeatBalancesQuery): Promise<{ seats: SeatBalance[]; nextPage: string | null; remaining: number }> {
  // The account holds the customer's contracts with their terms (kept between reads): no contract is read for itself.
  const held = await account.customerAccount(ctx, { tenantId: query.tenantId, customerId: query.customerId });
  const contractId = query.contractId.toLowerCase();
  const contract = held.loaded.contracts.find((c) => c.id.toLowerCase() === contractId) ?? (await findCustomerContract(ctx, query.tenantId, query.customerId, query.contractId));
  const problems = new Problems();
  const seatBased = held.loaded.subscriptions.filter((s) => s.contract_id === contract.id && s.seats);
  (query.subscriptionIds ?? []).forEach((id, i) => {
    problems.check(seatBased.some((s) => s.id === id), `subscription_ids.${i}`, `no SEAT_BASED subscription ${id} on contract ${contract.id}`);
  });
  const subscriptions = query.subscriptionIds ? seatBased.filter((s) => query.subscriptionIds!.includes(s.id)) : seatBased;
  const known = new Set(subscriptions.flatMap((s) => s.seats!.steps.flatMap((step) => step.assigned)));
  (query.seatIds ?? []).forEach((seatId, i) => {
    problems.check(query.skipMissingSeatIds === true || known.has(seatId), `seat_ids.${i}`, `seat ${seatId} is not on the contract's SEAT_BASED subscriptions (skip_missing_seat_ids skips it)`);
  });
  problems.throwIfAny();
  const seatIds = [...known].filter((seatId) => !query.seatIds || query.seatIds.includes(seatId)).sort();

  const from = query.cursor ? Number(query.cursor) : 0;
  if (!Number.isInteger(from) || from < 0) throw new Invalid('cursor', 'is not a cursor this endpoint returned');
  const limit = query.limit ?? 25;
  const page = seatIds.slice(from, from + limit);

  const subscriptionIds = new Set(subscriptions.map((s) => s.id));
  const coveringDate = query.coveringDate ?? (query.startingAt || query.effectiveBefore ? undefined : ctx.clock.now());
  const inWindow = (segment: { startingAt: Date; endingBefore: Date }) =>
    (!coveringDate || (segment.startingAt <= coveringDate && coveringDate < segment.endingBefore)) &&
    (!query.startingAt || segment.endingBefore > query.startingAt) &&
    (!query.effectiveBefore || segment.startingAt < query.effectiveBefore);
  const bySeat = seatGrantsOf(held.balances);
  const seats = page.map((seatId): SeatBalance => {
    const grants = (bySeat.get(seatId) ?? [])
      .filter((grant) => grant.contractId === contract.id && grant.subscriptionConfig && subscriptionIds.has(grant.subscriptionConfig.subscriptionId))
      .flatMap((grant) => grant.segments.filter(inWindow).map((segment) => ({ grant, segment })));
    const units = grants.length === 1 ? [grants[0]!.grant.creditTypeId] : [...new Set(grants.map(({ grant }) => grant.creditTypeId))].sort();
    return {
      seatId,
      grants,
      balances: units.map((creditTypeId) => {
        const own = grants.length === 1 ? grants : grants.filter(({ grant }) => grant.creditTypeId === creditTypeId);
        return {
          creditTypeId,
          balance: sumOf(own.map(({ segment }) => (isNegative(segment.ledger.balance) ? ZERO : segment.ledger.balance))),
          startingBalance: sumOf(own.map(({ segment }) => segment.amount)),
        };
      }),
    };
  });
  const remaining = Math.max(0, seatIds.length - from - page.length);
  return { seats, nextPage: remaining > 0 ? String(from + page.length) : null, remaining };
}

/**
 * The customer's live contracts whose SEAT_BASED subscriptions have ever assigned `seatId`, by id
 * (what a seat-scoped embeddable URL may show: `seat_id` there must be one of these seats).
 */
export async function contractsWithSeat(ctx: ServiceContext, { tenantId, customerId, seatId }: { tenantId: string; customerId: string; seatId: string }): Promise<string[]> {
  const held = await account.customerAccount(ctx, { tenantId, customerId });
  const live = new Set(held.loaded.contracts.filter((contract) => !contract.archived_at).map((contract) => contract.id));
  const holding = held.loaded.subscriptions.filter((s) => live.has(s.contract_id) && s.seats?.steps.some((step) => step.assigned.includes(seatId)));
  return [...new Set(holding.map((s) => s.contract_id))].sort();
}

/** The exact sum; a seat's one segment (the usual case) as it is. */
const sumOf = (amounts: readonly Decimal[]): Decimal => (amounts.length === 1 ? amounts[0]! : sumExactly(amounts));

const seatGrants = new WeakMap<readonly account.Balance[], Map<string, account.Balance[]>>();

/** The seats' own credits and commits among `balances`, by seat id: kept with a kept account's balances, read again and again. */
function seatGrantsOf(balances: readonly account.Balance[]): Map<string, account.Balance[]> {
  let bySeat = seatGrants.get(balances);
  if (!bySeat) {
    bySeat = new Map();
    for (const grant of balances) {
      if (grant.seatId === undefined) continue;
      const own = bySeat.get(grant.seatId);
      if (own) own.push(grant);
      else bySeat.set(grant.seatId, [grant]);
    }
    seatGrants.set(balances, bySeat);
  }
  return bySeat;
}
