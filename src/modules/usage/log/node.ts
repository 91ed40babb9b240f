import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Database } from '../../../lib/db/database.js';
import type { App } from '../../../http/types.js';
import { openUsageLog, type UsageLog, type UsageLogSettings } from './connection.js';
import { readFence } from './readWait.js';
import { relayUsageSignals } from './signals.js';
import { partitionStatus, type PartitionStatus } from './status.js';
import { startLogWriter, type LogWriter } from './writer.js';

/** What a process runs of the usage log: the connection, its read fence, and, on a writer, its share of the partitions. */
export interface UsageLogNode {
  log: UsageLog;
  writer: LogWriter | undefined;
  fence(tenantId: string, customerId: string): Promise<void>;
  /** Adds the log's figures to `/metrics`. */
  registerMetrics(app: App): void;
  stop(): Promise<void>;
}

export async function startUsageLogNode(db: Database, settings: UsageLogSettings, { write, onError }: { write: boolean; onError: (error: unknown) => void }): Promise<UsageLogNode> {
  const log = await openUsageLog(settings);
  const writer = write ? startLogWriter(db, log, { onError }) : undefined;
  const relay = relayUsageSignals(db, log);
  const waits: { seconds: number; exceeded: boolean }[] = [];
  let exceeded = 0;
  let report: (outcome: { seconds: number; exceeded: boolean }) => void = (outcome) => {
    if (outcome.exceeded) exceeded++;
    waits.push(outcome);
  };
  const fence = readFence(db, log, (outcome) => report(outcome));
  return {
    log,
    writer,
    fence,
    registerMetrics(app) {
      const registers = [app.metricsRegistry];
      // One look at the partitions per scrape, shared by the gauges that read it (each look asks NATS three questions a partition).
      let look: { at: number; rows: Promise<PartitionStatus[]> } | undefined;
      const statusNow = () => {
        if (!look || Date.now() - look.at > 1_000) look = { at: Date.now(), rows: partitionStatus(db, log).catch(() => []) };
        return look.rows;
      };
      const exceededTotal = new Counter({
        name: 'allot_read_wait_exceeded_total',
        help: 'Account reads answered 503 because the usage acknowledged before them was not folded within ALLOT_READ_WAIT_MS',
        registers,
      });
      const waitSeconds = new Histogram({
        name: 'allot_read_wait_seconds',
        help: 'Time an account read waited for the usage log writers to fold what was acknowledged before it',
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
        registers,
      });
      exceededTotal.inc(exceeded);
      for (const wait of waits.splice(0)) waitSeconds.observe(wait.seconds);
      report = (outcome) => {
        if (outcome.exceeded) exceededTotal.inc();
        waitSeconds.observe(outcome.seconds);
      };
      new Gauge({
        name: 'allot_usage_log_lag_messages',
        help: 'Per partition of the usage log, messages not yet folded and acknowledged by its writer (its durable consumer: pending and unacknowledged)',
        labelNames: ['partition'] as const,
        registers,
        async collect() {
          this.reset();
          for (const row of await statusNow()) if (row.lag !== null) this.set({ partition: String(row.partition) }, row.lag);
        },
      });
      new Gauge({
        name: 'allot_usage_log_partition_owner',
        help: 'Per partition of the usage log, the writer holding its lease (1)',
        labelNames: ['partition', 'writer'] as const,
        registers,
        async collect() {
          this.reset();
          for (const row of await statusNow()) if (row.owner) this.set({ partition: String(row.partition), writer: row.owner }, 1);
        },
      });
      countingFrom(registers, 'allot_usage_signals_received_total', 'usageCommitted signals received from other nodes over NATS (usage they folded), emitted here for dashboards and alerts', relay.received);
      if (writer) {
        new Gauge({
          name: 'allot_usage_log_partitions_owned',
          help: 'Partitions of the usage log this writer folds now',
          registers,
          collect() {
            this.set(writer.owned().length);
          },
        });
        countingFrom(
          registers,
          'allot_usage_log_redeliveries_total',
          'Usage log messages this writer received more than once (after a writer died before acknowledging, or a fold failed)',
          writer.redeliveries,
        );
      }
    },
    async stop() {
      relay.stop();
      await writer?.stop();
      await log.close();
    },
  };
}

/** A counter that follows a running total kept elsewhere, read at each scrape. */
function countingFrom(registers: Registry[], name: string, help: string, total: () => number): void {
  let counted = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const now = total();
      this.inc(now - counted);
      counted = now;
    },
  });
}
