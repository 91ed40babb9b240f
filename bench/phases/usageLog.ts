/**
 * The usage log's figures (the phase `log`, last, with the load's server stopped; also
 * `npm run bench:log` alone): ingest through the NATS JetStream log next to direct ingest, in one
 * run, on the same machine and PostgreSQL. Each mode gets a database of its own, the bench's tenant
 * (two metrics grouped by user and team, a seat plan per customer) and the same closed-loop load
 * (16 connections of 100-event calls):
 *
 * - `direct`: one `allot serve` without ALLOT_NATS_URL (events/s committed = acknowledged);
 * - `log_1_writer`, `log_2_writers`: a NATS server of its own (one node, JetStream), one API node
 *   (`--role api`) under the load and 1 or 2 writers; events/s acknowledged by the log, and events/s
 *   folded: every acknowledged event in the database, from the load's start to the last fold.
 *
 * Then, with the load over, sequential balance reads on one customer (`getNetBalance`): their
 * latency with the read wait (log) against without (direct).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNatsCluster, type NatsCluster } from '../../test/helpers/nats.js';
import { createBenchDatabase, type BenchDatabase } from '../environment/database.js';
import { EVENT_TYPE, setUpTenant, type BenchTenant } from '../environment/tenant.js';
import { ApiClient } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { round, summarizeLatencies } from '../lib/stats.js';
import { runLoadInChild } from '../load/runLoad.js';
import type { Figure } from './context.js';

const BIN = fileURLToPath(new URL('../../bin/allot.js', import.meta.url));
const SECONDS = Number(process.env.BENCH_LOG_SECONDS ?? 10);
const CONNECTIONS = 16;
const BATCH = 100;
const CUSTOMERS = Number(process.env.BENCH_LOG_CUSTOMERS ?? 50);
const READS = 200;

interface Node {
  url: string;
  key: string | undefined;
  child: ChildProcess;
}

function serve(env: NodeJS.ProcessEnv, args: string[]): Promise<Node> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-20_000)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const url = /is listening on (\S+)/.exec(stdout)?.[1];
      if (url && /Dashboard:/.test(stdout)) resolve({ url, key: /^\s+(allot_\S+)$/m.exec(stdout)?.[1], child });
    });
    child.on('close', (code) => reject(new Error(`allot serve exited with ${code}: ${stdout}\n${stderr}`)));
  });
}

async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    node.child.once('close', () => resolve());
    node.child.kill('SIGTERM');
  });
}

async function runMode(serverUrl: string, databasePrefix: string, name: string, writers: number | undefined): Promise<Record<string, unknown>> {
  const database: BenchDatabase = await createBenchDatabase(serverUrl, `${databasePrefix}_log_${name}`);
  let cluster: NatsCluster | undefined;
  const nodes: Node[] = [];
  try {
    const env: NodeJS.ProcessEnv = { DATABASE_URL: database.url };
    if (writers !== undefined) {
      cluster = await startNatsCluster(1);
      Object.assign(env, { ALLOT_NATS_URL: cluster.url });
    }
    progress(`${name}: starting ${writers === undefined ? 'one server' : `an API node and ${writers} writer(s)`}`);
    const api = await serve(env, writers === undefined ? [] : ['--role', 'api']);
    nodes.push(api);
    for (let index = 0; index < (writers ?? 0); index++) nodes.push(await serve(env, ['--role', 'writer']));
    const client = new ApiClient(api.url, api.key!, { connections: 8 });
    const tenant: BenchTenant = await setUpTenant(client, { customers: CUSTOMERS, seats: 10, creditsPerSeat: 1_000_000, concurrency: 8 });
    const tenantId = (await database.pool.query<{ id: string }>("SELECT id FROM tenants WHERE name = 'default'")).rows[0]!.id;

    progress(`${name}: ${SECONDS} s of load, ${CONNECTIONS} connections of ${BATCH}-event calls`);
    const started = performance.now();
    const load = await runLoadInChild({
      target: 'http',
      pacing: 'closed',
      connections: CONNECTIONS,
      batchSize: BATCH,
      warmupMs: 1_000,
      durationMs: SECONDS * 1000,
      baseUrl: api.url,
      apiKey: api.key!,
      databaseUrl: database.url,
      space: { tenantId, customers: tenant.customers, usersPerCustomer: 50, teams: 4, eventType: EVENT_TYPE, periodStartMs: tenant.periodStart.getTime(), recentMs: 3_600_000, transactionPrefix: `${name}-` },
    });
    const acknowledgedPerSecond = load.events / (load.elapsedMs / 1000);
    // Folded: every acknowledged event in the database (direct ingest: already so when acknowledged).
    let stored = 0;
    while ((stored = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n)) < load.eventsAccepted) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const foldSeconds = (performance.now() - started) / 1000;

    const customer = tenant.customers[0]!;
    const latencies: number[] = [];
    for (let read = 0; read < READS; read++) {
      const begun = performance.now();
      const response = await client.post('/v1/contracts/customerBalances/getNetBalance', { customer_id: customer.id, credit_type_id: tenant.plan.aiCredits });
      if (response.status !== 200) throw new Error(`${name}: a balance read answered ${response.status}: ${response.body}`);
      latencies.push(performance.now() - begun);
    }
    client.close();
    return {
      events_acknowledged_per_second: round(acknowledgedPerSecond),
      events_folded_per_second: round(stored / foldSeconds),
      events: stored,
      failed_requests: load.errors,
      ingest_latency_ms: summarizeLatencies(load.latenciesMs),
      balance_read_ms: summarizeLatencies(latencies),
    };
  } finally {
    for (const node of nodes.reverse()) await stopNode(node);
    await cluster?.stop();
    await database.drop();
  }
}


/** Every mode in turn, and the read latency the log adds (p50, against direct ingest). */
export async function usageLogBench({ serverUrl, databaseName }: { serverUrl: string; databaseName: string }): Promise<Figure> {
  const modes: Record<string, Record<string, unknown>> = {};
  for (const [name, writers] of [['direct', undefined], ['log_1_writer', 1], ['log_2_writers', 2]] as const) modes[name] = await runMode(serverUrl, databaseName, name, writers);
  const read = (name: string) => (modes[name]!.balance_read_ms as { p50_ms: number }).p50_ms;
  const folded = (name: string) => modes[name]!.events_folded_per_second as number;
  return {
    value: folded('log_2_writers'),
    unit: 'events/s folded through the log with 2 writers',
    versus_direct: round(folded('log_2_writers') / folded('direct')),
    parameters: { seconds: SECONDS, connections: CONNECTIONS, batch: BATCH, customers: CUSTOMERS, nats: 'one node, JetStream, replicas 1' },
    modes,
    added_read_latency_ms_p50: { log_1_writer: round(read('log_1_writer') - read('direct')), log_2_writers: round(read('log_2_writers') - read('direct')) },
  };
}
