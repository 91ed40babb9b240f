import type { ContractGetSubscriptionSeatsHistoryResponse, ContractListSeatBalancesResponse } from '@metronome/sdk/resources/v1/contracts/contracts';
import { z } from 'zod';
import { wireNumber } from '../../lib/money.js';
import { toLedgerEntry } from './present.js';
import { listSeatBalances } from './seatBalances.js';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import * as schemas from './seatSchemas.js';
import * as seats from './seats.js';

/** The seats of SEAT_BASED subscriptions (docs/rules.md rule 28), at the Metronome paths. */
export function registerSeatRoutes(app: App): void {
  const tags = ['contracts'];

  app.post(
    '/v1/contracts/getSubscriptionSeatsHistory',
    { schema: { tags, body: schemas.seatsHistoryBody, response: { 200: z.object({ data: z.array(z.unknown()), next_page: z.string().nullable() }) } } },
    async (request): Promise<ContractGetSubscriptionSeatsHistoryResponse> => {
      const body = request.body;
      const result = await seats.subscriptionSeatsHistory(request.context, {
        tenantId: request.auth.tenantId,
        customerId: body.customer_id,
        contractId: body.contract_id,
        subscriptionId: body.subscription_id,
        coveringDate: body.covering_date,
        startingAt: body.starting_at,
        endingBefore: body.ending_before,
        limit: body.limit,
        cursor: body.cursor,
      });
      return {
        data: result.entries.map((entry) => ({
          assigned_seat_ids: entry.assignedSeatIds,
          starting_at: toRfc3339(entry.startingAt),
          ending_before: entry.endingBefore && toRfc3339(entry.endingBefore),
          total_quantity: entry.totalQuantity,
        })),
        next_page: result.nextPage,
      };
    },
  );

  app.post(
    '/v1/contracts/seatBalances/list',
    { schema: { tags, body: schemas.seatBalancesBody, response: { 200: z.object({ data: z.array(z.unknown()), pagination: z.unknown() }) } } },
    async (request): Promise<ContractListSeatBalancesResponse> => {
      const body = request.body;
      const result = await listSeatBalances(request.context, {
        tenantId: request.auth.tenantId,
        customerId: body.customer_id,
        contractId: body.contract_id,
        subscriptionIds: body.subscription_ids,
        seatIds: body.seat_ids,
        skipMissingSeatIds: body.skip_missing_seat_ids,
        coveringDate: body.covering_date,
        startingAt: body.starting_at,
        effectiveBefore: body.effective_before,
        limit: body.limit,
        cursor: body.cursor,
      });
      const detailed = body.include_credits_and_commits ?? false;
      const ledgers = detailed && (body.include_ledgers ?? false);
      const itemOf = ({ grant, segment }: (typeof result.seats)[number]['grants'][number]) => ({
        id: grant.id,
        balance: wireNumber(segment.ledger.balance.isNegative() ? segment.ledger.balance.mul(0) : segment.ledger.balance),
        start_date: toRfc3339(segment.startingAt),
        end_date: toRfc3339(segment.endingBefore),
        ...(ledgers && { ledger_entries: segment.ledger.entries.map((entry) => { const { amount, timestamp, type } = toLedgerEntry(grant, segment.id, entry); return { amount, timestamp, type }; }) }),
      });
      return {
        data: result.seats.map((seat) => ({
          seat_id: seat.seatId,
          balances: seat.balances.map((b) => ({ credit_type_id: b.creditTypeId, balance: wireNumber(b.balance), starting_balance: wireNumber(b.startingBalance) })),
          ...(detailed && {
            credits: seat.grants.filter(({ grant }) => grant.kind === 'CREDIT').map(itemOf) as never,
            commits: seat.grants.filter(({ grant }) => grant.kind === 'COMMIT').map(itemOf) as never,
          }),
        })),
        pagination: { seats_included: result.seats.length, seats_available_for_next_page: result.remaining, next_page: result.nextPage },
      };
    },
  );
}
