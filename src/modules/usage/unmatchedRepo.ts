import type { Queryable } from '../../lib/db/database.js';

export interface UnmatchedReferenceRow {
  customer_ref: string;
  event_count: string;
  first_received_at: Date;
  last_received_at: Date;
  latest_event_type: string;
  latest_transaction_id: string;
}

/**
 * The references (`customer_ref`) of the tenant's events stored with no customer, each with how
 * many such events it has, the first and last received, and the latest event's type and
 * transaction id; newest last received first, then by reference (byte order). Only events received
 * at or after `since` count when it is given. `after` is the last row of the previous page.
 *
 * Every condition of the scan matches the partial index `events_unmatched` (0016), so the
 * statement reads the tenant's unmatched events and never its matched ones.
 */
export async function unmatchedReferences(
  db: Queryable,
  { tenantId, since, after, limit }: { tenantId: string; since: Date | null; after: { lastReceivedAt: Date; customerRef: string } | null; limit: number },
): Promise<UnmatchedReferenceRow[]> {
  return db.query<UnmatchedReferenceRow>(
    `SELECT refs.customer_ref, refs.event_count::text AS event_count, refs.first_received_at, refs.last_received_at,
            latest.event_type AS latest_event_type, latest.transaction_id AS latest_transaction_id
       FROM (
         SELECT customer_ref, count(*) AS event_count, min(received_at) AS first_received_at, max(received_at) AS last_received_at
           FROM events
          WHERE tenant_id = $1 AND customer_id IS NULL AND ($2::timestamptz IS NULL OR received_at >= $2)
          GROUP BY customer_ref
         HAVING $3::timestamptz IS NULL
             OR max(received_at) < $3
             OR (max(received_at) = $3 AND customer_ref COLLATE "C" > $4::text COLLATE "C")
          ORDER BY last_received_at DESC, customer_ref COLLATE "C"
          LIMIT $5
       ) refs
       CROSS JOIN LATERAL (
         SELECT e.event_type, e.transaction_id
           FROM events e
          WHERE e.tenant_id = $1 AND e.customer_id IS NULL AND e.customer_ref = refs.customer_ref AND e.received_at = refs.last_received_at
          ORDER BY e.transaction_id COLLATE "C" DESC
          LIMIT 1
       ) latest
      ORDER BY refs.last_received_at DESC, refs.customer_ref COLLATE "C"`,
    [tenantId, since?.toISOString() ?? null, after?.lastReceivedAt.toISOString() ?? null, after?.customerRef ?? null, limit],
  );
}
