import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { partitionOf } from '../compute/partition.js';

/** The stream usage goes through, and the bucket where writers claim its partitions. */
export const STREAM = 'ALLOT_USAGE';
export const SUBJECT_PREFIX = 'allot.usage';
export const OWNERS_BUCKET = 'allot_usage_owners';
/** How long the stream remembers a message id: a publisher's retry within it is not stored again. */
const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;

export interface UsageLogSettings {
  servers: readonly string[];
  partitions: number;
  replicas: number;
  leaseMs: number;
  readWaitMs: number;
}

/** A process's handle on the usage log: the NATS connection, the stream, and the owners' bucket. */
export interface UsageLog {
  readonly settings: UsageLogSettings;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly owners: KV;
  /** The stream and the instant it was created: positions are kept per stream made, not per name. */
  readonly streamKey: string;
  subject(partition: number): string;
  partitionOf(tenantId: string, customerRef: string): number;
  close(): Promise<void>;
}

/**
 * Connects to NATS, and makes the usage stream (a subject per partition, `replicas` copies) and the
 * owners' bucket when they do not exist.
 */
export async function openUsageLog(settings: UsageLogSettings, { name }: { name?: string } = {}): Promise<UsageLog> {
  const nc = await connect({ servers: [...settings.servers], name: name ?? 'allot', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const config = {
      name: STREAM,
      subjects: [`${SUBJECT_PREFIX}.*`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: settings.replicas,
      duplicate_window: DUPLICATE_WINDOW_NS,
    };
    const info = await jsm.streams.info(STREAM).catch(async (error: unknown) => {
      if (!isNotFound(error)) throw error;
      // Another process may make it at the same moment: then read what it made.
      return jsm.streams.add(config).catch(() => jsm.streams.info(STREAM));
    });
    // Requests on leases answer within a third of a lease, or fail, so a writer's round of renewals never outlasts its leases.
    const owners = await new Kvm(nc).create(OWNERS_BUCKET, { ttl: settings.leaseMs, history: 1, replicas: settings.replicas, timeout: Math.max(200, Math.floor(settings.leaseMs / 3)) });
    const streamKey = `${STREAM}@${new Date(info.created).toISOString()}`;
    return {
      settings,
      nc,
      js,
      jsm,
      owners,
      streamKey,
      subject: (partition) => `${SUBJECT_PREFIX}.${partition}`,
      partitionOf: (tenantId, customerRef) => partitionOf(tenantId, customerRef, settings.partitions),
      async close() {
        await nc.drain().catch(() => nc.close());
      },
    };
  } catch (error) {
    await nc.close();
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /not found/i.test(error.message);
}
