import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { Database } from '../../../lib/db/database.js';
import { OWNERS_BUCKET, STREAM, type UsageLog } from './connection.js';
import { foldQueue, PartitionLost } from './foldQueue.js';
import { claimPosition } from './positionsRepo.js';
import { Pump } from './pump.js';

/** Messages of one partition one fold takes at most (each holds at most 100 events). */
const FOLD_MESSAGES = 200;
/** Messages one fetch asks for; fetches follow one another, so this bounds only one pull request. */
const FETCH_MESSAGES = 200;
/** Messages delivered and not yet acknowledged (folded), per partition, before JetStream holds back. */
const MAX_UNACKED = 2_000;
/**
 * How long one fetch lasts when fewer than `FETCH_MESSAGES` come; then the next one starts. Long:
 * each message reaches the buffer as it is delivered anyway, and with fetches of 1 s (the least
 * @nats-io/jetstream allows) some messages waited 1.2–1.5 s in the stream around a fetch's end
 * (nats-server 2.9), the p99 of a usage alert through the log. Stopping does not wait for it.
 * Deliveries wait in the buffer until folded, so a fold slower than the consumer's `ack_wait`
 * (30 s) gets its messages again: they are at or below the position by then, and skipped.
 */
const FETCH_EXPIRES_MS = 30_000;
/** Heartbeats while a fetch waits: a fetch that hears nothing for three of them (its node killed) ends, and the runner starts over. */
const FETCH_HEARTBEAT_MS = 1_000;
const FETCH_SILENCE_MS = 3 * FETCH_HEARTBEAT_MS;
const NANOS_PER_MS = 1_000_000;
/** A runner that fails waits before it starts over: from this, doubling with each failure in a row, … */
const MIN_BACKOFF_MS = 100;
/** … up to this. */
const MAX_BACKOFF_MS = 5_000;

export const partitionKey = (partition: number) => `partition.${partition}`;
/** The durable consumer a partition is folded through. */
export const consumerName = (partition: number) => `allot_partition_${partition}`;
const writerKey = (id: string) => `writer.${id}`;

export interface LogWriter {
  readonly id: string;
  /** The partitions this writer folds now. */
  owned(): number[];
  /** Messages delivered again (after a writer died, or a fold failed) since it started. */
  redeliveries(): number;
  /** Per owned partition, messages of the log not yet folded, as the last delivery said. */
  lag(): Map<number, number>;
  stop(): Promise<void>;
}

/**
 * A writer process's share of the usage log. Each partition is folded by one writer at a time:
 * the writer that holds its key in the owners' bucket (a lease, renewed every third of its time to
 * live; a writer that dies stops renewing and the key expires). Writers announce themselves in the
 * same bucket, and each takes its share, ⌈partitions / writers⌉: one that holds more lets the
 * extra go, one that holds fewer takes free ones. So two writers split 16 partitions 8 and 8, and
 * the survivor of a `kill -9` takes all 16 once the dead one's leases lapse.
 *
 * Taking a partition, a writer reads where the database says it was folded to, makes the
 * partition's durable consumer afresh from the next sequence, and hands what it fetches, as it
 * comes, to the writer's fold queue: an ingest transaction (`runIngestBatch`: the same checks,
 * dedupe and rollups as direct ingest) shared by the partitions with messages waiting, that also
 * moves each one's position from where it read it to the last sequence folded. Only then are the
 * messages acknowledged. Every delivery of the consumer must
 * reach the runner (checked by its delivery numbers), so a fold never passes a message that went to
 * another puller. A writer that died after the
 * commit but before the acknowledgement leaves messages that come again: they are at or below the
 * position and are skipped. Two writers that both believe they own a partition (a lease lapsed
 * under a paused process) fold one after the other on the position's row lock, and the second
 * finds the position moved and starts over from it (until its lease renewal fails and it lets the
 * partition go); the events' transaction ids are unique
 * besides, so nothing is counted twice either way.
 */
export function startLogWriter(db: Database, log: UsageLog, { onError }: { onError: (error: unknown) => void }): LogWriter {
  const id = `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const runners = new Map<number, PartitionRunner>();
  let redelivered = 0;
  let stopping = false;
  /** Runners being stopped (and their leases freed) apart from the tick; `stop()` waits for them. */
  const windingDown = new Set<Promise<unknown>>();
  const windDown = (done: Promise<unknown>) => {
    windingDown.add(done);
    void done.finally(() => windingDown.delete(done));
  };
  const { partitions, leaseMs } = log.settings;
  const folds = foldQueue(db, { stream: log.streamKey, writer: id, onError });

  class PartitionRunner {
    stopped = false;
    pending = 0;
    pump: Pump | undefined;
    /** The wait after the next failure: doubles with each one, back to the least after a fold commits. */
    backoff = MIN_BACKOFF_MS;
    readonly done: Promise<void>;
    constructor(
      readonly partition: number,
      public revision: number,
    ) {
      this.done = this.run();
    }

    async stop(): Promise<void> {
      this.stopped = true;
      this.pump?.wake();
      await this.done;
    }

    async run(): Promise<void> {
      while (!this.stopped) {
        try {
          await this.follow();
        } catch (error) {
          // Another writer folded past this one's position (one whose lease lapsed, or the next
          // owner): go on from the database's position; the lease decides who keeps the partition.
          if (error instanceof PartitionLost) continue;
          if (this.stopped) break;
          onError(error);
          for (let waited = 0; waited < this.backoff && !this.stopped; waited += 50) await sleep(50);
          this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
        }
      }
    }

    async follow(): Promise<void> {
      let folded = await claimPosition(db, log.streamKey, this.partition, id);
      const name = consumerName(this.partition);
      await log.jsm.consumers.delete(STREAM, name).catch(() => undefined);
      await log.jsm.consumers.add(STREAM, {
        durable_name: name,
        filter_subject: log.subject(this.partition),
        ack_policy: AckPolicy.Explicit,
        ack_wait: 30_000 * NANOS_PER_MS,
        max_ack_pending: MAX_UNACKED,
        ...(folded > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: folded + 1 } : { deliver_policy: DeliverPolicy.All }),
      });
      const consumer = await log.js.consumers.get(STREAM, name);
      // Fetches follow one another without a pause, and every message goes to the buffer as it
      // arrives; the fold takes whatever is there whenever it is free. So a lone message is folded
      // at once, not when its fetch ends, and under load one fold takes many.
      const pump = new Pump(() => consumer.fetch({ max_messages: FETCH_MESSAGES, expires: FETCH_EXPIRES_MS, idle_heartbeat: FETCH_HEARTBEAT_MS }), {
        stopped: () => this.stopped,
        silenceMs: FETCH_SILENCE_MS,
      });
      this.pump = pump;
      // The consumer, made afresh, numbers its deliveries from 1: a number this runner did not see
      // went to another puller (a writer whose lease lapsed, still fetching). A fold must hold every
      // message of the partition between the position and its last one, so the runner starts over
      // from the database's position rather than fold past messages it never had.
      let delivery = 1;
      try {
        while (!this.stopped) {
          const batch = await pump.take(FOLD_MESSAGES);
          if (batch.length === 0) continue;
          for (const message of batch) {
            if (message.info.deliverySequence !== delivery++) {
              throw new Error(`partition ${this.partition}: delivery ${message.info.deliverySequence} came where ${delivery - 1} was due (another process pulls from its consumer); starting over from the folded position`);
            }
            if (message.redelivered) redelivered++;
          }
          this.pending = batch[batch.length - 1]!.info.pending;
          folded = await folds.fold(this.partition, batch, folded);
          this.backoff = MIN_BACKOFF_MS;
          for (const message of batch) message.ack();
        }
      } finally {
        await pump.stop();
      }
    }
  }

  /** Renews this writer's leases and its presence, then lets go of or takes partitions until it holds its share. Every request of a kind runs at once: a tick must end well within a lease. */
  const tick = async () => {
    await log.owners.put(writerKey(id), String(Date.now()));
    await Promise.all(
      [...runners].map(async ([partition, runner]) => {
        if (runner.stopped) {
          runners.delete(partition);
          return;
        }
        try {
          runner.revision = await log.owners.update(partitionKey(partition), id, runner.revision);
        } catch {
          // The lease lapsed (or cannot be renewed): another writer may hold the partition now. Not
          // awaited: the tick must go on renewing the others (a fold still running is stopped by its
          // position check if another writer has moved on).
          if (runners.get(partition) === runner) runners.delete(partition);
          windDown(runner.stop());
        }
      }),
    );
    // The writers present: one request with a bound, where listing the bucket's keys could stall while a node is down.
    const present = await log.jsm.streams.info(`KV_${OWNERS_BUCKET}`, { subjects_filter: `$KV.${OWNERS_BUCKET}.writer.>` });
    const writers = Object.keys(present.state.subjects ?? {}).length;
    const share = Math.ceil(partitions / Math.max(1, writers));
    const extra = [...runners.keys()].sort((a, b) => b - a).slice(0, Math.max(0, runners.size - share));
    for (const partition of extra) release(partition);
    if (runners.size >= share || stopping) return;
    const free = Array.from({ length: partitions }, (_, partition) => partition).filter((partition) => !runners.has(partition));
    await Promise.all(
      free.map(async (partition) => {
        const revision = await log.owners.create(partitionKey(partition), id).catch(() => undefined);
        if (revision === undefined) return;
        if (runners.size < share && !stopping) runners.set(partition, new PartitionRunner(partition, revision));
        else await log.owners.delete(partitionKey(partition), { previousSeq: revision }).catch(() => undefined);
      }),
    );
  };

  /**
   * Stops folding a partition and then frees its lease, so another writer takes it without waiting
   * for the lease to lapse. Runs on its own: the tick does not wait for the fold in progress.
   */
  const release = (partition: number) => {
    const runner = runners.get(partition);
    if (!runner) return;
    runners.delete(partition);
    windDown(runner.stop().then(() => log.owners.delete(partitionKey(partition), { previousSeq: runner.revision }).catch(() => undefined)));
  };

  // One tick at a time: a tick that outlasts the interval is not joined by another (two would renew
  // one lease with the same revision, and the loser would let its partition go).
  let ticking: Promise<void> | undefined;
  const schedule = () => {
    if (ticking || stopping) return;
    ticking = tick()
      .catch((error: unknown) => {
        if (!stopping) onError(error);
      })
      .finally(() => {
        ticking = undefined;
      });
  };
  schedule();
  const timer = setInterval(schedule, Math.max(100, Math.floor(leaseMs / 3)));

  return {
    id,
    owned: () => [...runners.keys()].sort((a, b) => a - b),
    redeliveries: () => redelivered,
    lag: () => new Map([...runners].map(([partition, runner]) => [partition, runner.pending])),
    async stop() {
      stopping = true;
      clearInterval(timer);
      await ticking;
      // Let the partitions go at once rather than when their leases lapse.
      for (const partition of [...runners.keys()]) release(partition);
      await Promise.all([...windingDown, log.owners.delete(writerKey(id)).catch(() => undefined)]);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
