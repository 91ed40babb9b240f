import pg from 'pg';
import { ApiClient } from '../lib/http.js';
import { EventFactory } from './events.js';
import { RAW_INSERT, type LoadResult, type LoadSpec } from './protocol.js';

const PROGRESS_INTERVAL_MS = 15_000;

/** Sends one batch; resolves to undefined on success or a failure label (status or error code). */
type Sender = () => Promise<{ failure?: string; message?: string }>;


async function senders(spec: LoadSpec, factory: EventFactory): Promise<{ senders: Sender[]; close(): Promise<void> }> {
  if (spec.target === 'http') {
    const client = new ApiClient(spec.baseUrl, spec.apiKey, { connections: spec.connections });
    const send: Sender = async () => {
      try {
        const response = await client.post('/v1/ingest', factory.ingestBody(spec.batchSize));
        return response.status >= 200 && response.status < 300 ? {} : { failure: String(response.status), message: response.body.slice(0, 300) };
      } catch (error) {
        return { failure: (error as NodeJS.ErrnoException).code ?? 'error', message: (error as Error).message };
      }
    };
    return { senders: Array.from({ length: spec.connections }, () => send), close: async () => client.close() };
  }
  const clients = await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      const client = new pg.Client({ connectionString: spec.databaseUrl, application_name: 'allot-bench-baseline' });
      await client.connect();
      return client;
    }),
  );
  return {
    senders: clients.map((client) => async () => {
      const batch = factory.rawBatch(spec.batchSize);
      try {
        await client.query({
          name: 'bench_raw_insert',
          text: RAW_INSERT,
          values: [batch.tenantIds, batch.transactionIds, batch.customerRefs, batch.customerIds, batch.eventTypes, batch.timestamps, batch.properties, batch.receivedAt],
        });
        return {};
      } catch (error) {
        return { failure: (error as { code?: string }).code ?? 'error', message: (error as Error).message };
      }
    }),
    close: async () => {
      await Promise.all(clients.map((client) => client.end()));
    },
  };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const factory = new EventFactory(spec.space);
  const { senders: lanes, close } = await senders(spec, factory);
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const errorSamples: string[] = [];
  let requests = 0;
  let events = 0;
  let eventsAccepted = 0;
  let lateStarts = 0;
  let lastAnswer = 0;

  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const reporter = setInterval(() => process.send?.({ progress: { eventsAccepted, seconds: (performance.now() - start) / 1000 } }), PROGRESS_INTERVAL_MS);
  const recordFrom = start + spec.warmupMs;
  let deadline = spec.durationMs === undefined ? Number.POSITIVE_INFINITY : recordFrom + spec.durationMs;
  // The parent may end the load early ({ stop: true }): nothing is sent or recorded after that.
  const onStop = (message: { stop?: true }) => {
    if (message.stop) deadline = Math.min(deadline, performance.now());
  };
  process.on('message', onStop);
  process.send?.({ started: true });
  const done = () => performance.now() >= deadline || (spec.eventCount !== undefined && eventsAccepted >= spec.eventCount);

  /** Sends a batch and records its outcome; false when it failed without an HTTP or SQL answer. */
  const record = async (send: Sender, dueAt: number): Promise<boolean> => {
    const outcome = await send();
    const answeredAt = performance.now();
    if (!outcome.failure) eventsAccepted += spec.batchSize;
    const answered = !outcome.failure || /^\d+$|^[0-9A-Z]{5}$/.test(outcome.failure);
    if (dueAt < recordFrom || dueAt >= deadline) return answered;
    requests++;
    lastAnswer = answeredAt;
    if (outcome.failure) {
      errors[outcome.failure] = (errors[outcome.failure] ?? 0) + 1;
      if (errorSamples.length < 5 && outcome.message) errorSamples.push(outcome.message);
      return answered;
    }
    events += spec.batchSize;
    latencies.push(answeredAt - dueAt);
    return true;
  };

  if (spec.pacing === 'closed') {
    await Promise.all(
      lanes.map(async (send) => {
        while (!done()) {
          // A refused or reset connection fails at once: pause rather than spin on it.
          if (!(await record(send, performance.now()))) await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }),
    );
  } else {
    const interval = 1000 / spec.requestsPerSecond!;
    const inFlight = new Set<Promise<boolean>>();
    let next = 0;
    let lane = 0;
    await new Promise<void>((finished) => {
      const tick = () => {
        const now = performance.now();
        while (start + next * interval <= now) {
          const dueAt = start + next * interval;
          next++;
          if (dueAt >= deadline) return finished();
          if (now - dueAt > 1) lateStarts++;
          // The agent queues a request while all connections are busy; that wait counts.
          const request = record(lanes[lane++ % lanes.length]!, dueAt).finally(() => inFlight.delete(request));
          inFlight.add(request);
        }
        setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
      };
      tick();
    });
    await Promise.all(inFlight);
  }

  clearInterval(reporter);
  process.off('message', onStop);
  const cpu = process.cpuUsage(cpuStart);
  const wall = performance.now() - start;
  await close();
  return {
    requests,
    events,
    eventsAccepted,
    errors,
    errorSamples,
    elapsedMs: Math.max(0, (lastAnswer || performance.now()) - recordFrom),
    latenciesMs: latencies,
    lateStarts,
    cpuFraction: (cpu.user + cpu.system) / 1000 / wall,
  };
}

// Run as a child process: one spec in, one result out, over the IPC channel.
if (process.send) {
  process.once('message', (spec: LoadSpec) => {
    runLoad(spec).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (error: Error) => process.send!({ error: error.stack ?? error.message }, () => process.exit(1)),
    );
  });
}
