import type { ServiceContext } from '../../lib/context.js';
import { decodePosition, encodePosition } from './queriesCursor.js';
import { unmatchedReferences } from './unmatchedRepo.js';

/** One customer id or ingest alias that events named and no customer of the tenant had. */
export interface UnmatchedReference {
  /** As sent in the events' `customer_id`. */
  customerRef: string;
  /** Events stored under it (received at or after `since`, when given); each transaction id once. */
  eventCount: number;
  firstReceivedAt: Date;
  lastReceivedAt: Date;
  /** The latest of those events (the greatest transaction id among those received at the same instant). */
  latestEventType: string;
  latestTransactionId: string;
}

type Position = [lastReceivedAt: string, customerRef: string];

const isPosition = (value: unknown[]): value is Position =>
  value.length === 2 && typeof value[0] === 'string' && !Number.isNaN(Date.parse(value[0])) && typeof value[1] === 'string';

/** Is `cursor` a `next_page` of this list? (So that a bad one is named with the query's other problems.) */
export function isUnmatchedCursor(cursor: string): boolean {
  try {
    decodePosition(cursor, isPosition);
    return true;
  } catch {
    return false;
  }
}

/**
 * The usage of the tenant that named no customer (an unknown id, a mistyped alias), per reference:
 * newest last received first, `limit` a page. Such events are stored and billed to no one (the
 * usage README); this is where they are found. `acme-aii` sent three times, the last at 10:05,
 * and `globex` once at 09:00 list as `acme-aii` (3 events, last 10:05), then `globex` (1).
 *
 * A reference whose events keep arriving while the pages are read moves to the front: it may be
 * seen twice, or not at all on a later page; read again from the first page to see it.
 */
export async function listUnmatchedEvents(
  { db }: ServiceContext,
  { tenantId, limit, nextPage, since }: { tenantId: string; limit: number; nextPage?: string | undefined; since?: Date | undefined },
): Promise<{ references: UnmatchedReference[]; nextPage: string | null }> {
  const after = nextPage ? decodePosition(nextPage, isPosition) : null;
  const rows = await unmatchedReferences(db, {
    tenantId,
    since: since ?? null,
    after: after && { lastReceivedAt: new Date(after[0]), customerRef: after[1] },
    limit: limit + 1,
  });
  const references = rows.slice(0, limit).map((row) => ({
    customerRef: row.customer_ref,
    eventCount: Number(row.event_count),
    firstReceivedAt: row.first_received_at,
    lastReceivedAt: row.last_received_at,
    latestEventType: row.latest_event_type,
    latestTransactionId: row.latest_transaction_id,
  }));
  const last = references.at(-1);
  return { references, nextPage: rows.length > limit && last ? encodePosition([last.lastReceivedAt.toISOString(), last.customerRef]) : null };
}
