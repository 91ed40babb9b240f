import type { JsMsg } from '@nats-io/jetstream';
import type { Database } from '../../../lib/db/database.js';
import { Invalid } from '../../../lib/errors.js';
import { Batcher } from '../batcher.js';
import { runIngestBatch, type PendingIngest } from '../ingestBatch.js';
import { decodeEntry, type LogEntry } from './entry.js';
import { advancePositions, recordRefusals } from './positionsRepo.js';

/** The most events one fold transaction takes, as direct ingest's batches. */
const FOLD_EVENTS = 5_000;

/** A fold found its partition's position moved by another writer: this one no longer owns it. */
export class PartitionLost extends Error {}

/** One partition's messages, past its position `from`, waiting for a fold. */
interface Submission {
  partition: number;
  from: number;
  /** The messages as they came, the decodable ones with their entries. */
  messages: { message: JsMsg; entry: LogEntry | undefined }[];
  events: number;
  resolve(to: number): void;
  reject(error: unknown): void;
}

export interface FoldQueue {
  /**
   * Folds a partition's messages past `from` (in delivery order) and moves its position to the
   * last of them, in a transaction it may share with other partitions' folds; resolves with the new
   * position once committed. Rejects with `PartitionLost` when another writer moved the position.
   */
  fold(partition: number, messages: readonly JsMsg[], from: number): Promise<number>;
}

/**
 * A writer's group commit over its partitions: folds submitted while earlier ones run wait, and the
 * next transaction takes all of them (up to 5,000 events), moving each partition's position with
 * its events. Nothing waits on a timer, so a message that arrives alone is folded at once, and under
 * load one transaction serves many partitions. Two folds run at once on PostgreSQL; a partition has
 * at most one in flight (its runner waits for it, and a transaction takes a partition once). The
 * two may still upsert the same rollup rows (a customer's id and its ingest aliases hash to
 * different partitions): in key order, so one waits for the other rather than deadlock.
 *
 * What group commit costs: a transaction that fails (a database error) fails every partition in
 * it, and their runners start over from their positions, the messages delivered again.
 */
export function foldQueue(
  db: Database,
  { stream, writer, onError }: { stream: string; writer: string; onError: (error: unknown) => void },
): FoldQueue {
  const batcher: Batcher<Submission> = new Batcher<Submission>({
    concurrency: db.engine === 'postgres' ? 2 : 1,
    maxWeight: FOLD_EVENTS,
    weight: (submission) => submission.events,
    // Whatever goes wrong, no submission is left waiting: settling one twice is a no-op.
    run: (submissions) =>
      foldTogether(submissions).catch((error: unknown) => {
        for (const submission of submissions) submission.reject(error);
      }),
  });

  async function foldTogether(taken: Submission[]): Promise<void> {
    // A partition at most once per transaction (the same writer can take a partition back while its
    // earlier runner's fold still waits): a second submission of it goes into the next one.
    const submissions: Submission[] = [];
    const partitions = new Set<number>();
    for (const submission of taken) {
      if (partitions.has(submission.partition)) batcher.submit(submission);
      else {
        partitions.add(submission.partition);
        submissions.push(submission);
      }
    }
    const requests: PendingIngest[] = [];
    /** Per request, its submission and message. */
    const sources: { submission: Submission; message: JsMsg }[] = [];
    const refusals = new Map<Submission, Invalid[]>();
    let failure: unknown;
    for (const submission of submissions) {
      for (const { message, entry } of submission.messages) {
        if (!entry) continue;
        requests.push({
          ...entry,
          resolve: () => undefined,
          reject: (error) => {
            if (!(error instanceof Invalid)) failure ??= error;
            else if (refusals.has(submission)) refusals.get(submission)!.push(error);
            else refusals.set(submission, [error]);
          },
        });
        sources.push({ submission, message });
      }
    }
    const lost = new Set<Submission>();
    const committed = await runIngestBatch(db, requests, {
      async withinTransaction(tx) {
        const moves = submissions.map((submission) => ({ partition: submission.partition, from: submission.from, to: lastSeq(submission) }));
        const lostPartitions = await advancePositions(tx, { stream, writer, moves });
        for (const submission of submissions) if (lostPartitions.has(submission.partition)) lost.add(submission);
        if (lost.size > 0) throw new PartitionLost(`partitions ${[...lost].map((s) => s.partition).join(', ')} were folded past their positions by another writer`);
      },
      // A call the API node acknowledged but the fold refuses (a metric created in between) is kept, with the position that passes it.
      async refusedWithin(tx, refused) {
        const refusals = [...refused].map(([index, error]) => {
          const { submission, message } = sources[index]!;
          return { partition: submission.partition, seq: message.seq, tenantId: requests[index]!.tenantId, reason: error.message, entry: message.string() };
        });
        await recordRefusals(tx, { stream, refusals });
      },
    });
    if (lost.size > 0) {
      // The others were not folded: they go again, in the next transaction.
      for (const submission of submissions) {
        if (lost.has(submission)) submission.reject(new PartitionLost(`partition ${submission.partition} was folded past ${submission.from} by another writer`));
        else batcher.submit(submission);
      }
      return;
    }
    if (!committed) {
      for (const submission of submissions) submission.reject(failure ?? new Error('the fold transaction failed'));
      return;
    }
    for (const submission of submissions) submission.resolve(lastSeq(submission));
    for (const submission of submissions) {
      for (const refusal of refusals.get(submission) ?? []) {
        onError(new Error(`usage log: a call of partition ${submission.partition} was refused when folded and kept in usage_log_refusals: ${refusal.message}`));
      }
    }
  }

  return {
    fold(partition, messages, from) {
      // Past the position, each sequence once (a redelivery may come while the first delivery waits).
      const seen = new Set<number>();
      const fresh = messages.filter((message) => message.seq > from && !seen.has(message.seq) && seen.add(message.seq));
      if (fresh.length === 0) return Promise.resolve(from);
      return new Promise<number>((resolve, reject) => {
        let events = 0;
        const decoded = fresh.map((message) => {
          try {
            const entry = decodeEntry(message.string());
            events += entry.events.length;
            return { message, entry };
          } catch (error) {
            onError(new Error(`usage log message ${message.seq} of partition ${partition} is not an entry, and is skipped: ${(error as Error).message}`));
            return { message, entry: undefined };
          }
        });
        batcher.submit({ partition, from, messages: decoded, events, resolve, reject });
      });
    },
  };
}

/** The greatest sequence of a submission (a redelivery may repeat an earlier message after a later one). */
const lastSeq = (submission: Submission) => submission.messages.reduce((last, { message }) => Math.max(last, message.seq), 0);

