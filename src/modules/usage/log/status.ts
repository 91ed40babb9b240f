import type { Database } from '../../../lib/db/database.js';
import { STREAM, type UsageLog } from './connection.js';
import { foldedSequences, refusedCounts } from './positionsRepo.js';
import { consumerName, partitionKey } from './writer.js';

export interface PartitionStatus {
  partition: number;
  /** The writer holding the partition's lease, if any. */
  owner: string | null;
  /** The stream's last sequence in the partition (0: none yet). */
  lastSeq: number;
  /** The last sequence folded into the database. */
  foldedSeq: number;
  /** Messages of the partition not yet acknowledged by its writer (its consumer's pending and unacknowledged), null without a consumer. */
  lag: number | null;
  /** Messages the partition's consumer delivered more than once and that wait for an acknowledgement. */
  redelivered: number;
  /** Calls of the partition the fold refused and kept in `usage_log_refusals`. */
  refused: number;
}

/** Every partition of the log: its owner, how far the stream and the fold are, and the lag. */
export async function partitionStatus(db: Database, log: UsageLog): Promise<PartitionStatus[]> {
  const partitions = Array.from({ length: log.settings.partitions }, (_, partition) => partition);
  const [folded, refused] = await Promise.all([foldedSequences(db, log.streamKey, partitions), refusedCounts(db, log.streamKey)]);
  return Promise.all(
    partitions.map(async (partition) => {
      const [owner, last, consumer] = await Promise.all([
        log.owners.get(partitionKey(partition)).catch(() => null),
        log.jsm.streams.getMessage(STREAM, { last_by_subj: log.subject(partition) }).catch(() => null),
        log.jsm.consumers.info(STREAM, consumerName(partition)).catch(() => null),
      ]);
      return {
        partition,
        owner: owner && owner.operation === 'PUT' ? owner.string() : null,
        lastSeq: last?.seq ?? 0,
        foldedSeq: folded.get(partition) ?? 0,
        lag: consumer ? consumer.num_pending + consumer.num_ack_pending : null,
        redelivered: consumer?.num_redelivered ?? 0,
        refused: refused.get(partition) ?? 0,
      };
    }),
  );
}
