import type { Database } from '../../../lib/db/database.js';
import { Unavailable } from '../../../lib/errors.js';
import { STREAM, type UsageLog } from './connection.js';
import { foldedSequences, ingestAliases } from './positionsRepo.js';

/** Between two looks at the positions: short at first (a fold takes milliseconds), longer as the wait goes on. */
const FIRST_POLL_MS = 2;
const LONGEST_POLL_MS = 50;

export interface ReadWaitOutcome {
  seconds: number;
  exceeded: boolean;
}

/**
 * The read fence of a process that ingests through the log: before a customer's account is read,
 * the stream's last sequence in each partition the customer's events can be in (its id's and each
 * ingest alias's) is taken, and the read waits until the writers have folded those partitions up
 * to there. So it reflects every event whose ingest was acknowledged before it began, whichever
 * node took it. The wait is bounded (`readWaitMs`): past it the read is a 503 with `Retry-After`,
 * never a balance without those events. When the log cannot say where it is (no leader during an
 * election), the same.
 */
export function readFence(db: Database, log: UsageLog, report: (outcome: ReadWaitOutcome) => void): (tenantId: string, customerId: string) => Promise<void> {
  const { readWaitMs } = log.settings;
  return async (tenantId, customerId) => {
    const started = performance.now();
    const refs = [customerId, ...(await ingestAliases(db, tenantId, customerId))];
    const partitions = [...new Set(refs.map((ref) => log.partitionOf(tenantId, ref)))];
    let targets: number[];
    try {
      const lastSequences = Promise.all(
        partitions.map(async (partition) => (await log.jsm.streams.getMessage(STREAM, { last_by_subj: log.subject(partition) }))?.seq ?? 0),
      );
      // The bound holds for this question too (the log's own timeout is longer while a leader is elected).
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${readWaitMs} ms`)), Math.max(1, readWaitMs - (performance.now() - started)));
      });
      lastSequences.catch(() => undefined);
      targets = await Promise.race([lastSequences, bound]).finally(() => clearTimeout(timer));
    } catch (error) {
      report({ seconds: (performance.now() - started) / 1000, exceeded: true });
      throw new Unavailable(`The usage log cannot say where it is now (${(error as Error).message}), so the balance cannot be shown up to date; retry shortly`, 1);
    }
    let poll = FIRST_POLL_MS;
    for (;;) {
      const folded = await foldedSequences(db, log.streamKey, partitions);
      if (partitions.every((partition, index) => folded.get(partition)! >= targets[index]!)) {
        report({ seconds: (performance.now() - started) / 1000, exceeded: false });
        return;
      }
      const waited = performance.now() - started;
      if (waited >= readWaitMs) {
        report({ seconds: waited / 1000, exceeded: true });
        throw new Unavailable(
          `Usage acknowledged before this read is not folded yet after ${readWaitMs} ms (the usage log's writers are behind or being replaced); retry shortly`,
          1,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(poll, readWaitMs - waited)));
      poll = Math.min(poll * 2, LONGEST_POLL_MS);
    }
  };
}
