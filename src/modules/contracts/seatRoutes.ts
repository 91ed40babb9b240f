import type { ContractGetSubscriptionSeatsHistoryResponse } from '@metronome/sdk/resources/v1/contracts/contracts';
import { z } from 'zod';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import * as schemas from './schemas.js';
import * as seats from './seats.js';

/** The seats of SEAT_BASED subscriptions (docs/rules.md rule 27), at the Metronome paths. */
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
}
