import { createHash } from 'node:crypto';
import type { Database } from '../../../lib/db/database.js';
import { Invalid, Unavailable } from '../../../lib/errors.js';
import { compileMetric } from '../compute/matchMetric.js';
import { matchCall, type IngestEvent, type IngestOutcome } from '../ingestBatch.js';
import * as repo from '../repo.js';
import type { UsageLog } from './connection.js';
import { encodeEntry } from './entry.js';

const PUBLISH_TIMEOUT_MS = 5_000;

/**
 * Ingest through the usage log: the call's events, checked against the tenant's live metrics as
 * the fold will check them (a call the fold would refuse is refused here, whole, before anything is
 * published), go to the log one message per partition, and the call is answered once JetStream has
 * acknowledged every one of them. Each message carries an id made of the tenant and its
 * transaction ids, so a publisher's retry within the stream's duplicate window is not stored
 * twice; past it, the fold's own dedupe by transaction id holds.
 *
 * `accepted` counts the events appended to the log (not yet folded: a transaction id stored
 * before is still ignored by the fold); `duplicates` those the call repeated or the log already held.
 */
export async function appendToLog(db: Database, log: UsageLog, { tenantId, events, receivedAt }: { tenantId: string; events: readonly IngestEvent[]; receivedAt: Date }): Promise<IngestOutcome> {
  const metrics = (await repo.liveMetrics(db, [tenantId])).map(compileMetric);
  const checked = matchCall(events, metrics);
  if (checked instanceof Invalid) throw checked;

  const byPartition = new Map<number, IngestEvent[]>();
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.transactionId)) continue;
    seen.add(event.transactionId);
    const partition = log.partitionOf(tenantId, event.customerRef);
    let group = byPartition.get(partition);
    if (!group) byPartition.set(partition, (group = []));
    group.push(event);
  }
  let appended = 0;
  try {
    const acks = await Promise.all(
      [...byPartition].map(async ([partition, group]) => {
        const msgID = createHash('sha256').update(`${tenantId}\u0000${group.map((event) => event.transactionId).join('\u0000')}`).digest('base64url');
        const ack = await log.js.publish(log.subject(partition), encodeEntry({ tenantId, receivedAt, events: group }), { msgID, timeout: PUBLISH_TIMEOUT_MS });
        return { ack, events: group.length };
      }),
    );
    for (const { ack, events: count } of acks) if (!ack.duplicate) appended += count;
  } catch (error) {
    throw new Unavailable(`The usage log did not acknowledge the events (${(error as Error).message}); nothing is lost by sending the same call again`, 1);
  }
  return { accepted: appended, duplicates: events.length - appended };
}
