import { v5 as uuidv5 } from 'uuid';
import type { ServiceContext } from '../../lib/context.js';
import { NotFound } from '../../lib/errors.js';
import * as customers from '../customers/service.js';
import * as pricing from '../pricing/service.js';
import { compileMetric, matchMetric } from './compute/matchMetric.js';
import { liveMetrics } from './queries.js';
import * as repo from './queryRepo.js';

/** A stored event as `events/search` shows it, with the customer and the live metrics it matches. */
export interface SearchedEvent {
  /** Derived from the tenant and the transaction id, so the same event always has the same id. */
  id: string;
  event: repo.EventRow;
  customer: { id: string; name: string } | null;
  metrics: pricing.BillableMetric[];
}

/**
 * `v1.usage.search`: the stored events with these transaction ids, in the order asked (an id
 * asked twice is shown once, an unknown one not at all). A repeat of a transaction id is never
 * stored (docs/rules.md rule 12), so the event shown is always the first one accepted and
 * `is_duplicate` is false. The customer is the one the event resolved to when ingested; the
 * metrics are the tenant's live metrics the event matches now, by the ingest's own matching
 * rules, whether or not it named a known customer.
 */
export async function searchEvents(ctx: ServiceContext, { tenantId, transactionIds }: { tenantId: string; transactionIds: string[] }): Promise<SearchedEvent[]> {
  const wanted = [...new Set(transactionIds)];
  const rows = new Map((await repo.findEvents(ctx.db, tenantId, wanted)).map((row) => [row.transaction_id, row]));
  const events = wanted.flatMap((id) => (rows.has(id) ? [rows.get(id)!] : []));
  if (events.length === 0) return [];

  const customerIds = [...new Set(events.flatMap((event) => (event.customer_id ? [event.customer_id] : [])))];
  const names = new Map<string, string>();
  for (const customerId of customerIds) {
    try {
      names.set(customerId, (await customers.getCustomer(ctx, { tenantId, customerId })).name);
    } catch (error) {
      if (!(error instanceof NotFound)) throw error;
    }
  }

  const metrics = await liveMetrics(ctx, tenantId);
  const compiled = metrics.map((metric) => ({ metric, compiled: compileMetric(metric) }));
  return events.map((event) => ({
    id: uuidv5(event.transaction_id, tenantId),
    event,
    customer: event.customer_id && names.has(event.customer_id) ? { id: event.customer_id, name: names.get(event.customer_id)! } : null,
    metrics: compiled.filter(({ compiled: metric }) => matchMetric(metric, { eventType: event.event_type, properties: event.properties })).map(({ metric }) => metric),
  }));
}
