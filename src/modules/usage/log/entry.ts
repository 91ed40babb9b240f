import type { IngestEvent } from '../ingestBatch.js';

/** One message of the usage log: a call's events of one partition, as validated, and when the call arrived. */
export interface LogEntry {
  tenantId: string;
  receivedAt: Date;
  events: IngestEvent[];
}

type Wire = { t: string; r: string; e: [string, string, string, string, Record<string, unknown>][] };

/**
 * JSON: validated properties hold only JSON values (a number the ingest parser kept as digits is
 * already its string), so they come back from the log exactly as they went in.
 */
export function encodeEntry({ tenantId, receivedAt, events }: { tenantId: string; receivedAt: Date; events: readonly IngestEvent[] }): string {
  const wire: Wire = {
    t: tenantId,
    r: receivedAt.toISOString(),
    e: events.map((event) => [event.transactionId, event.customerRef, event.eventType, event.timestamp.toISOString(), event.properties]),
  };
  return JSON.stringify(wire);
}

export function decodeEntry(text: string): LogEntry {
  const wire = JSON.parse(text) as Wire;
  return {
    tenantId: wire.t,
    receivedAt: new Date(wire.r),
    events: wire.e.map(([transactionId, customerRef, eventType, timestamp, properties]) => ({ transactionId, customerRef, eventType, timestamp: new Date(timestamp), properties })),
  };
}
