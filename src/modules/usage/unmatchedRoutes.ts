import { z } from 'zod';
import type { App } from '../../http/types.js';
import { pageQuery } from '../../lib/pagination.js';
import { instant, toRfc3339 } from '../../lib/time.js';
import { isUnmatchedCursor, listUnmatchedEvents, type UnmatchedReference } from './unmatched.js';

const unmatchedQuery = pageQuery.extend({
  next_page: z.string().refine(isUnmatchedCursor, 'is not a cursor returned by this API').optional(),
  since: instant.optional().describe('Count only events received at or after this RFC 3339 instant'),
});

const unmatchedReference = z.object({
  customer_id: z.string().describe('As sent in the events: an id or ingest alias no customer of the tenant has'),
  event_count: z.number().int(),
  first_received_at: z.string(),
  last_received_at: z.string(),
  latest_event_type: z.string(),
  latest_transaction_id: z.string().describe('Its event can be read with POST /v1/events/search'),
});

function toWire(reference: UnmatchedReference): z.infer<typeof unmatchedReference> {
  return {
    customer_id: reference.customerRef,
    event_count: reference.eventCount,
    first_received_at: toRfc3339(reference.firstReceivedAt),
    last_received_at: toRfc3339(reference.lastReceivedAt),
    latest_event_type: reference.latestEventType,
    latest_transaction_id: reference.latestTransactionId,
  };
}

/** `GET /v1/allot/events/unmatched`: Allot's own; Metronome's event search has no filter for usage of no customer. */
export function registerUnmatchedEventRoutes(app: App): void {
  app.get(
    '/v1/allot/events/unmatched',
    {
      schema: {
        tags: ['allot'],
        summary: 'Usage that named no customer of the tenant, per customer_id sent: count, first and last received, latest event',
        description:
          'Events whose customer_id is neither a customer id nor an ingest alias of the tenant are stored and billed to no one. ' +
          'This lists them per customer_id sent, newest last_received_at first, `limit` (1–100, default 100) a page.',
        querystring: unmatchedQuery,
        response: { 200: z.object({ data: z.array(unmatchedReference), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { limit, next_page: nextPage, since } = request.query;
      const page = await listUnmatchedEvents(request.context, { tenantId: request.auth.tenantId, limit, nextPage, since });
      return { data: page.references.map(toWire), next_page: page.nextPage };
    },
  );
}
