import { randomBytes } from 'node:crypto';
import { backgroundCores } from './diagnostics/cpu.js';
import { mainThreadProfile, summarizeProfile } from './diagnostics/cpuProfile.js';
import { createBenchDatabase, postgresInfo, type BenchDatabase, type PostgresInfo } from './environment/database.js';
import { waitForLogFolded } from './environment/logBacklog.js';
import { startServer, type BenchServer } from './environment/server.js';
import { startNatsCluster, type NatsCluster } from '../test/helpers/nats.js';
import { benchEventSpace, setUpTenant } from './environment/tenant.js';
import { ApiClient } from './lib/http.js';
import { progress } from './lib/progress.js';
import { parseBenchOptions, type BenchOptions } from './options.js';
import { alertLatency } from './phases/alertLatency.js';
import { balanceReads } from './phases/balanceReads.js';
import { rawInsertBaseline } from './phases/baseline.js';
import type { BenchContext, Figure, Phase } from './phases/context.js';
import { dashboard } from './phases/dashboard.js';
import { ingestLatency } from './phases/ingestLatency.js';
import { ingestThroughput, ingestThroughputUnmetered } from './phases/ingestThroughput.js';
import { periodCloseBench } from './phases/periodClose.js';
import { pgliteIngestBench } from './phases/pgliteIngest.js';
import { seatBalanceReads } from './phases/seatBalances.js';
import { simulationBench } from './phases/simulation.js';
import { usageLogBench } from './phases/usageLog.js';
import { topUp } from './phases/topUp.js';
import { weeklySince2000 } from './phases/weeklySince2000.js';
import { header, ingestVersusRawInsert, machine, NOT_MEASURED, parameters } from './report.js';

/**
 * In order. The baseline runs first so that it and the ingest both start on empty tables. The
 * balance reads and the dashboard share the million-event customer (phases/heavyCustomer.ts),
 * whose events are sent by the first of them that runs. The weekly customer's period close (some
 * 320 months) is waited for in its own phase, so it runs in no other phase's window.
 */
const PHASES: Phase[] = [rawInsertBaseline, ingestThroughput, ingestLatency, ingestThroughputUnmetered, alertLatency, topUp, balanceReads, seatBalanceReads, weeklySince2000, dashboard];
const INGEST_PHASES = new Set(['throughput', 'unmetered', 'latency', 'alerts', 'topup', 'balances', 'seats', 'dashboard']);
/** Windows of the server's CPU profile that `--profile` summarises, when they ran. */
const PROFILED_WINDOWS = ['throughput', 'unmetered', 'balances_net', 'balances_list', 'balances_net_cold', 'balances_list_cold',
  ...['net', 'list', 'seat_list'].flatMap((read) => [`seats_${read}`, `seats_${read}_cold`]),
  'weekly_net', 'weekly_list', 'dashboard_customer_page'];

async function ingestProblem(server: BenchServer): Promise<string | undefined> {
  const client = new ApiClient(server.baseUrl, server.key, { connections: 1 });
  try {
    const probe = await client.post('/v1/ingest', '[]');
    return probe.status === 404 ? 'POST /v1/ingest answered 404: the endpoint does not exist yet on this server' : undefined;
  } finally {
    client.close();
  }
}

function contextFor(options: BenchOptions, database: BenchDatabase, server: BenchServer, tenantId: string, tenant: BenchContext['tenant']): BenchContext {
  const runId = randomBytes(4).toString('hex');
  const context: BenchContext = {
    options,
    database,
    server,
    tenant,
    tenantId,
    runId,
    figures: {},
    notMeasured: {},
    diagnostics: {},
    eventSpace: (label) => benchEventSpace(options, tenantId, tenant, `${runId}-${label}`),
    loadSpec: (label, fields) => ({
      connections: options.connections,
      batchSize: options.batchSize,
      warmupMs: 0,
      baseUrl: server.baseUrl,
      apiKey: server.key,
      databaseUrl: database.url,
      space: context.eventSpace(label),
      ...fields,
    }),
  };
  return context;
}

/** Runs the benchmark and returns the report (also what `allot bench` prints). */
export async function runBench(options: BenchOptions): Promise<Record<string, unknown>> {
  const started = header();
  progress(`creating the database ${options.databaseName}`);
  const database = await createBenchDatabase(options.serverUrl, options.databaseName);
  let server: BenchServer | undefined;
  let nats: NatsCluster | undefined;
  let postgres: PostgresInfo | undefined;
  let background: number | undefined;
  const errors: Record<string, string> = {};
  let context: BenchContext | undefined;
  try {
    postgres = await postgresInfo(database.pool);
    background = await backgroundCores();
    progress(`machine: ${background} of its cores busy before the run`);
    if (options.usageLog) {
      nats = await startNatsCluster(1);
      progress(`usage log: nats-server at ${nats.urls[0]}`);
    }
    progress(`starting the server: node bin/allot.js serve${nats ? ' (with ALLOT_NATS_URL)' : ''}`);
    server = await startServer({ databaseUrl: database.url, logLevel: options.serverLogLevel, poolSize: options.serverPoolSize, profileDir: options.profileDir, natsUrl: nats?.urls[0], serverTiming: options.serverTiming });
    progress(`server at ${server.baseUrl} (pid ${server.pid})`);
    const tenantId = (await database.pool.query<{ id: string }>("SELECT id FROM tenants WHERE name = 'default'")).rows[0]!.id;

    progress(`setting up ${options.customers} customers, each on ${options.seats} seats with ${options.creditsPerSeat} pooled credits per seat`);
    const setupStarted = performance.now();
    const setupClient = new ApiClient(server.baseUrl, server.key, { connections: 8 });
    const tenant = await setUpTenant(setupClient, { customers: options.customers, seats: options.seats, creditsPerSeat: options.creditsPerSeat, concurrency: 8 });
    setupClient.close();
    progress(`setup done in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);
    context = contextFor(options, database, server, tenantId, tenant);

    const missingIngest = await ingestProblem(server);
    for (const phase of PHASES) {
      if (options.skip.has(phase.name)) continue;
      if (missingIngest && INGEST_PHASES.has(phase.name)) {
        errors[phase.name] = missingIngest;
        progress(`${phase.name}: skipped, ${missingIngest}`);
        continue;
      }
      try {
        if (options.usageLog) {
          const backlog = await waitForLogFolded(server.baseUrl, phase.name);
          ((context.diagnostics.usage_log_backlog_before ??= {}) as Record<string, unknown>)[phase.name] = backlog;
        }
        await phase.run(context);
      } catch (error) {
        errors[phase.name] = (error as Error).message;
        progress(`${phase.name} failed: ${(error as Error).message}`);
      }
    }
  } finally {
    if (server) {
      progress('stopping the server');
      await server.stop();
    }
    await nats?.stop();
    if (options.keepDatabase) await database.close();
    else await database.drop();
  }

  const figures: Record<string, Figure> = { ...context?.figures };
  // Last, with the load's server stopped: it has a database and an in-process server of its own.
  if (!options.skip.has('close')) {
    try {
      figures.period_close = await periodCloseBench(options);
    } catch (error) {
      errors.close = (error as Error).message;
      progress(`close failed: ${(error as Error).message}`);
    }
  }
  if (!options.skip.has('simulation')) {
    try {
      figures.pricing_simulation = await simulationBench(options);
    } catch (error) {
      errors.simulation = (error as Error).message;
      progress(`simulation failed: ${(error as Error).message}`);
    }
  }
  if (!options.skip.has('log')) {
    try {
      figures.usage_log = await usageLogBench(options);
    } catch (error) {
      errors.log = (error as Error).message;
      progress(`log failed: ${(error as Error).message}`);
    }
  }
  if (!options.skip.has('pglite')) {
    try {
      Object.assign(figures, await pgliteIngestBench(options));
    } catch (error) {
      errors.pglite = (error as Error).message;
      progress(`pglite failed: ${(error as Error).message}`);
    }
  }
  const comparison = ingestVersusRawInsert(figures);
  if (comparison) figures.ingest_vs_raw_insert = comparison;
  const diagnostics: Record<string, unknown> = { ...context?.diagnostics };
  const windows = diagnostics.windows as Record<string, { fromUs: number; toUs: number }> | undefined;
  delete diagnostics.windows;
  if (options.profileDir && windows) {
    const file = server && mainThreadProfile(options.profileDir, server.pid);
    if (file) {
      diagnostics.server_cpu_profile = {
        file,
        ...Object.fromEntries(
          PROFILED_WINDOWS.filter((name) => windows[name]).map((name) => [name, summarizeProfile(file, windows[name]!)]),
        ),
      };
    }
  }
  return {
    ...started,
    finished_at: new Date().toISOString(),
    machine: machine(postgres, background),
    parameters: parameters(options),
    figures,
    not_measured: { ...NOT_MEASURED, ...context?.notMeasured },
    ...(Object.keys(errors).length > 0 && { errors }),
    ...(Object.keys(diagnostics).length > 0 && { diagnostics }),
  };
}

/** `npm run bench -- …` and `allot bench …`: the JSON report on stdout, progress on stderr, exit code 0 unless the bench itself broke. */
export async function benchCommand(argv: string[]): Promise<void> {
  const options = parseBenchOptions(argv, process.env);
  if (!options) return;
  const report = await runBench(options);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
