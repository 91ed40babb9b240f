import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { PostgresInfo } from './environment/database.js';
import type { BenchOptions } from './options.js';
import type { Figure } from './phases/context.js';
import { round } from './lib/stats.js';
import { TARGETS } from './targets.js';
import packageJson from '../package.json' with { type: 'json' };

/** The commit measured, marked when the server's sources differ from it (a working tree in progress). */
function gitCommit(): string | null {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: new URL('..', import.meta.url), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src', 'migrations', 'bin') ? `${commit} + uncommitted changes in src/` : commit;
  } catch {
    return null;
  }
}

export function machine(postgres: PostgresInfo | undefined, background: number | undefined) {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu_model: cpus[0]?.model ?? null,
    memory_mb: Math.round(os.totalmem() / 2 ** 20),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    postgresql: postgres?.version ?? null,
    postgresql_settings: postgres?.settings ?? null,
    pg_stat_statements: postgres?.pg_stat_statements ?? null,
    busy_cores_before_the_run: background ?? null,
    note: 'the Allot server, PostgreSQL, the load generator and the bench itself all run on these cores; busy_cores_before_the_run is what else kept them busy (3 s sample before setup)',
  };
}

export function parameters(options: BenchOptions) {
  return {
    duration_s: options.durationSeconds,
    latency_duration_s: options.latencyDurationSeconds,
    connections: options.connections,
    batch_size: options.batchSize,
    customers: options.customers,
    users_per_customer: options.usersPerCustomer,
    teams_per_customer: options.teams,
    seats_per_contract: options.seats,
    usage_log: options.usageLog ? 'through a NATS JetStream log (one node), folded by the server itself (--role all)' : 'none: ingest writes PostgreSQL directly',
    credits_per_seat: options.creditsPerSeat,
    metrics: 'tokens (SUM of tokens) and requests (COUNT), both with group keys [["user_id"], ["team"]], both matching every event',
    event_timestamps: options.timestamps === 'spread' ? 'uniform from the period start to now' : 'uniform over the last five minutes',
    events_in_period_before_reads: options.eventsInPeriod,
    balance_reads: options.balanceReads,
    balance_cold_reads: options.balanceColdReads,
    weekly_reads: options.weeklyReads,
    heavy_customer_events: options.heavyEvents,
    heavy_customer_period: options.heavyPeriod === 'month-end' ? 'month-end: a monthly period begun about 29 days ago (custom billing anchor)' : 'calendar: from the 1st of the current UTC month',
    seat_customer_events: options.seatEvents,
    dashboard_reads: options.dashboardReads,
    latency_load_fraction: options.latencyLoadFraction,
    alert_samples: options.alertSamples,
    alert_kind: options.alertKind,
    alert_load_fraction: options.alertLoadFraction,
    server: `node bin/allot.js serve (its own process), LOG_LEVEL=${options.serverLogLevel}, ALLOT_DB_POOL_SIZE=${options.serverPoolSize ?? 'default'}`,
    load_generator: 'one child Node process, node:http keep-alive agent; closed loop for the peak, open loop (paced) for latency and under the alert probes',
    database: options.databaseName,
  };
}

/** The ratio the second ingest target is about: our peak over the raw insert's, same run. */
export function ingestVersusRawInsert(figures: Record<string, Figure>): Figure | undefined {
  const ours = figures.ingest_throughput?.value;
  const raw = figures.raw_insert_baseline?.value;
  if (!ours || !raw) return undefined;
  const ratio = round(ours / raw, 3);
  return {
    value: ratio,
    unit: 'ingest events/s ÷ raw insert events/s',
    target: TARGETS.ingestVersusRawInsert.text,
    met: ratio >= TARGETS.ingestVersusRawInsert.value,
    ingest_events_per_s: ours,
    raw_insert_events_per_s: raw,
  };
}

export function header() {
  return { benchmark: 'allot', version: packageJson.version, commit: gitCommit(), started_at: new Date().toISOString() };
}

/** the targets (docs/rules.md) targets that no phase measures yet. */
export const NOT_MEASURED = {};
