/**
 * Ingest on PGlite (the phase `pglite`, last, with the load's server stopped): Allot on PGlite in
 * a process of its own (a fresh data directory, as `npm start` runs it), the bench's tenant
 * (two metrics grouped by user and team, a seat plan per customer; `--customers`, at most 100),
 * then, in that order:
 *
 * - the raw baseline: `INSERT … SELECT * FROM unnest(…) ON CONFLICT DO NOTHING` of the same kind of
 *   events into a table with the columns of `events` and only its primary key, on the same PGlite
 *   in the same process (one statement after another: PGlite has one connection), batches of the
 *   load's size, for `--duration`;
 * - the peak: `POST /v1/ingest` closed loop over `--connections`, for `--duration`;
 * - the latency at 80% of that peak, open loop, for `--latency-duration`.
 */
import { randomBytes } from 'node:crypto';
import { coresUsed, cpuSnapshot } from '../diagnostics/cpu.js';
import { startPgliteHost, type PgliteHost } from '../environment/pgliteHost.js';
import { benchEventSpace, setUpTenant } from '../environment/tenant.js';
import { ApiClient } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { round } from '../lib/stats.js';
import type { LoadResult, LoadSpec } from '../load/protocol.js';
import { runLoadInChild } from '../load/runLoad.js';
import type { BenchOptions } from '../options.js';
import { TARGETS } from '../targets.js';
import type { Figure } from './context.js';
import { loadFigures } from './loadFigures.js';

const MAX_CUSTOMERS = 100;

export async function pgliteIngestBench(options: BenchOptions): Promise<Record<string, Figure>> {
  progress('pglite: starting Allot on PGlite (a fresh data directory) in a process of its own');
  const host: PgliteHost = await startPgliteHost({ profileDir: options.profileDir });
  try {
    const customers = Math.min(options.customers, MAX_CUSTOMERS);
    progress(`pglite: setting up ${customers} customers`);
    const client = new ApiClient(host.baseUrl, host.key, { connections: 4 });
    const tenant = await setUpTenant(client, { customers, seats: options.seats, creditsPerSeat: options.creditsPerSeat, concurrency: 4 });
    client.close();
    const runId = randomBytes(4).toString('hex');
    const space = (label: string) => benchEventSpace(options, host.tenantId, tenant, `${runId}-pglite-${label}`);
    const measured = async (work: () => Promise<LoadResult>) => {
      const before = cpuSnapshot(host.pid);
      const result = await work();
      return { figures: loadFigures(result), cores: coresUsed(before, cpuSnapshot(host.pid)) };
    };

    progress(`pglite: raw INSERT … unnest on the same PGlite, in Allot's process, ${options.durationSeconds} s`);
    const raw = await measured(() => host.rawInsert({ space: space('raw'), batchSize: options.batchSize, warmupMs: 2000, durationMs: options.durationSeconds * 1000 }));
    progress(`pglite: raw ${raw.figures.events_per_s} events/s`);

    const http = (label: string, fields: Pick<LoadSpec, 'pacing' | 'warmupMs' | 'durationMs'> & Partial<LoadSpec>): LoadSpec => ({
      target: 'http',
      connections: options.connections,
      batchSize: options.batchSize,
      baseUrl: host.baseUrl,
      apiKey: host.key,
      databaseUrl: '',
      space: space(label),
      ...fields,
    });
    progress(`pglite: POST /v1/ingest, ${options.connections} keep-alive connections, ${options.durationSeconds} s (+3 s warm-up)`);
    const peak = await measured(() => runLoadInChild(http('peak', { pacing: 'closed', warmupMs: 3000, durationMs: options.durationSeconds * 1000 })));
    progress(`pglite: ingest ${peak.figures.events_per_s} events/s (p50 ${peak.figures.latency.p50_ms} ms, p99 ${peak.figures.latency.p99_ms} ms)`);

    const offered = peak.figures.events_per_s * options.latencyLoadFraction;
    progress(`pglite: ${Math.round(offered)} events/s offered (${options.latencyLoadFraction * 100}% of the peak), open loop, ${options.latencyDurationSeconds} s`);
    const paced = await measured(() =>
      runLoadInChild(http('paced', { pacing: 'open', requestsPerSecond: offered / options.batchSize, warmupMs: 2000, durationMs: options.latencyDurationSeconds * 1000 })),
    );
    progress(`pglite: p50 ${paced.figures.latency.p50_ms} ms, p99 ${paced.figures.latency.p99_ms} ms at ${paced.figures.events_per_s} events/s`);

    const ratio = raw.figures.events_per_s > 0 ? round(peak.figures.events_per_s / raw.figures.events_per_s, 3) : null;
    const p99 = paced.figures.latency.p99_ms;
    return {
      pglite_raw_insert_baseline: { value: raw.figures.events_per_s, unit: 'events/s', customers, ...raw.figures, cores_used: raw.cores },
      pglite_ingest_throughput: {
        value: peak.figures.events > 0 ? peak.figures.events_per_s : null,
        unit: 'events/s',
        note: 'no target of its own: see pglite_ingest_vs_raw_insert',
        ...peak.figures,
        cores_used: peak.cores,
      },
      pglite_ingest_vs_raw_insert: {
        value: ratio,
        unit: 'ingest events/s ÷ raw insert events/s, both on PGlite in Allot’s process',
        target: TARGETS.ingestVersusRawInsert.text,
        met: ratio !== null && ratio >= TARGETS.ingestVersusRawInsert.value,
        ingest_events_per_s: peak.figures.events_per_s,
        raw_insert_events_per_s: raw.figures.events_per_s,
      },
      pglite_ingest_latency_at_80pct_of_peak: {
        value: Number.isFinite(p99) ? p99 : null,
        unit: 'ms (p99)',
        target: TARGETS.ingestLatencyP99Ms.text,
        met: Number.isFinite(p99) && paced.figures.failed_requests === 0 && p99 <= TARGETS.ingestLatencyP99Ms.value,
        offered_events_per_s: Math.round(offered),
        ...paced.figures,
        cores_used: paced.cores,
      },
    };
  } finally {
    await host.stop();
  }
}
