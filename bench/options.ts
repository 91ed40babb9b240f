import { parseArgs } from 'node:util';

/** What the alert phase times: a usage alert on a metric only the probe feeds, or a balance alert the load keeps evaluating. */
export type AlertKind = 'usage' | 'balance';
/**
 * The open period of the million-event customer: `month-end`, a monthly period that began about 29
 * days ago (a custom billing anchor), so its events spread over nearly a whole month; `calendar`,
 * the calendar month so far (from the 1st, as the other customers).
 */
export type HeavyPeriod = 'month-end' | 'calendar';

export interface BenchOptions {
  /** The PostgreSQL server to use; the bench creates its own database on it. */
  serverUrl: string;
  /** The database the bench drops and recreates (default `allot_bench`). */
  databaseName: string;
  /** Length of the throughput phase and of the baseline, in seconds. */
  durationSeconds: number;
  /** Length of the latency phase at 80% of the peak, in seconds. */
  latencyDurationSeconds: number;
  /** Keep-alive HTTP connections of the load generator, and PostgreSQL connections of the baseline. */
  connections: number;
  batchSize: number;
  customers: number;
  usersPerCustomer: number;
  teams: number;
  seats: number;
  /** Seats of the seats phase's customer, each with a credit of its own. */
  seatCount: number;
  creditsPerSeat: number;
  /** Events the open period holds before balances are read (topped up through the API). */
  eventsInPeriod: number;
  /** Warm reads in a row of each balance endpoint, for the million-event customer. */
  balanceReads: number;
  /** Cold reads of each balance endpoint: each right after an ingest call for that customer has been answered. */
  balanceColdReads: number;
  /** Timed reads of each balance endpoint for the customer with a weekly credit since 2000 (after one untimed read). */
  weeklyReads: number;
  /** `spread`: timestamps anywhere from the period start to now; `recent`: within the last five minutes. */
  timestamps: 'spread' | 'recent';
  /** The fraction of the measured peak the latency phase offers. */
  latencyLoadFraction: number;
  /** Threshold-crossing events the alert phase times, one customer (and alert) each. */
  alertSamples: number;
  /** `usage`: a usage alert on a probe metric the load never feeds; `balance`: an AI-credit balance alert on customers the load also sends to. */
  alertKind: AlertKind;
  /** The fraction of the measured peak sent in the background while alerts are timed. */
  alertLoadFraction: number;
  /** The server's LOG_LEVEL. */
  serverLogLevel: string;
  /** The server's ALLOT_DB_POOL_SIZE (unset: Allot's default). */
  serverPoolSize: number | undefined;
  /** Write a CPU profile of the server process (`node --cpu-prof`) into this directory and summarise it. */
  profileDir: string | undefined;
  /** Run the server with `ALLOT_SERVER_TIMING=true`: balance read figures then split each read into the stages it went through. */
  serverTiming: boolean;
  /** Sample pg_stat_activity during the throughput phase and the balance reads. */
  sampleDatabase: boolean;
  /** Leave the database in place after the run (it is dropped at the next run anyway). */
  keepDatabase: boolean;
  /** The server takes usage through a NATS JetStream log of its own (one node), writing it as well (`--role all`). */
  usageLog: boolean;
  /** Events of the million-event customer (the balance reads' and the dashboard's), in its open period. */
  heavyEvents: number;
  /** Where the million-event customer's open period starts, and so how many hours its events spread over. */
  heavyPeriod: HeavyPeriod;
  /** Events of the seat customer (100 seats, an INDIVIDUAL credit each beside a pool), spread over its seats in its open period. */
  seatEvents: number;
  /** Sequential reads of the customer page, and of the embeddable view, in the dashboard phase. */
  dashboardReads: number;
  /** Contracts whose period the close phase closes. */
  closeContracts: number;
  /** Phases to skip, by name. */
  skip: Set<string>;
}

const USAGE = `usage: npm run bench -- [options]

  --duration S            throughput and baseline phases, seconds (30)
  --latency-duration S    latency phase at 80% of the peak, seconds (20)
  --connections N         keep-alive HTTP connections / baseline PostgreSQL connections (16)
  --customers N           customers, each on a 100-seat contract (1000)
  --users N               users per customer (50)
  --events-in-period N    events the top-up brings the tenant's open period to (1000000)
  --balance-reads N       warm reads in a row of getNetBalance, and of customerBalances/list, for
                          the million-event customer (2000)
  --balance-cold-reads N  cold reads of each: one ingest call for the customer answered, then the
                          read timed (a tenth of --balance-reads)
  --weekly-reads N        timed reads of each for the customer with a weekly credit since
                          2000-01-03, after one untimed read (20)
  --heavy-events N        events of the million-event customer, which the balances and dashboard
                          phases share, sent once (1000000; --dashboard-events is the same)
  --heavy-period month-end|calendar
                          its open period: a monthly period begun about 29 days ago, events spread
                          over it (month-end, the default), or the calendar month so far (calendar)
  --seat-events N         events of the seats phase's customer (100 SEAT_BASED seats, a credit of
                          their own each beside a pool), spread over its seats (1000000); its open
                          period is --heavy-period's, its reads --balance-reads and --balance-cold-reads
  --seat-count N          seats of that customer (100; listSeatBalances reads the first page of 100)
  --dashboard-reads N     sequential reads of its customer page, and of its embeddable view (20)
  --alert-samples N       events that each cross a customer's alert, timed to the webhook (50)
  --alert-load F          the background load while they are timed, as a fraction of the measured peak (0.5)
  --alert-kind usage|balance
                          the alert the probes cross: a usage alert on a metric the load never
                          feeds (usage, the default), or an AI-credit balance alert, which the
                          load's ingest commits keep re-evaluating (balance)
  --timestamps spread|recent
                          event timestamps anywhere in the open period up to now (spread, the
                          default), or in its last five minutes (recent: a live stream)
  --database NAME         database created (dropped first) on the server (allot_bench)
  --server-log-level L    LOG_LEVEL of the server process (warn)
  --server-pool-size N    ALLOT_DB_POOL_SIZE of the server process (Allot's default)
  --profile DIR           CPU-profile the server (node --cpu-prof) into DIR and summarise it
  --server-timing         run the server with ALLOT_SERVER_TIMING=true: balance read figures add
                          each stage's p50/p99 (barrier, usage, compute, …) and the time outside Allot
  --sample-db             sample pg_stat_activity during the throughput phase and the balance reads
  --close-contracts N     contracts whose April the period-close phase closes, in a database of its own (10000)
  --skip PHASE,…          skip phases: baseline, throughput, unmetered (the throughput load with events
                          no metric counts: no rollups written), latency, alerts, topup, balances,
                          seats, weekly, dashboard, close, simulation (SIMULATION_CUSTOMERS: its customers, 200),
                          log (ingest through a NATS JetStream log of its own against direct;
                          BENCH_LOG_SECONDS, BENCH_LOG_CUSTOMERS), pglite (ingest against a raw
                          insert on PGlite, in a process of its own)
  --keep-database         do not drop the database at the end
  --usage-log             run the server with a usage log: a NATS JetStream node of its own
                          (nats-server), ALLOT_NATS_URL set, the server folding the log itself

PostgreSQL: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server;
the bench creates its own database there. Results: one JSON document on stdout.`;

function positiveNumber(name: string, value: string | undefined, fallback: number, { integer = true } = {}): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || (integer && !Number.isInteger(parsed))) {
    throw new Error(`--${name} must be a positive ${integer ? 'whole ' : ''}number, got "${value}"`);
  }
  return parsed;
}

/** Parses the bench's flags; `--help` prints the usage and returns undefined. */
export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      'latency-duration': { type: 'string' },
      connections: { type: 'string' },
      customers: { type: 'string' },
      users: { type: 'string' },
      'events-in-period': { type: 'string' },
      'balance-reads': { type: 'string' },
      'balance-cold-reads': { type: 'string' },
      'weekly-reads': { type: 'string' },
      'heavy-events': { type: 'string' },
      'heavy-period': { type: 'string' },
      'dashboard-events': { type: 'string' },
      'dashboard-reads': { type: 'string' },
      'seat-events': { type: 'string' },
      'seat-count': { type: 'string' },
      'alert-samples': { type: 'string' },
      'alert-kind': { type: 'string' },
      'alert-load': { type: 'string' },
      timestamps: { type: 'string' },
      database: { type: 'string' },
      'server-log-level': { type: 'string' },
      'server-pool-size': { type: 'string' },
      profile: { type: 'string' },
      'server-timing': { type: 'boolean' },
      'sample-db': { type: 'boolean' },
      skip: { type: 'string' },
      'keep-database': { type: 'boolean' },
      'usage-log': { type: 'boolean' },
      'close-contracts': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.error(USAGE);
    return undefined;
  }
  const timestamps = values.timestamps ?? 'spread';
  if (timestamps !== 'spread' && timestamps !== 'recent') throw new Error(`--timestamps must be spread or recent, got "${timestamps}"`);
  const alertKind = values['alert-kind'] ?? 'usage';
  if (alertKind !== 'usage' && alertKind !== 'balance') throw new Error(`--alert-kind must be usage or balance, got "${alertKind}"`);
  const heavyPeriod = values['heavy-period'] ?? 'month-end';
  if (heavyPeriod !== 'month-end' && heavyPeriod !== 'calendar') throw new Error(`--heavy-period must be month-end or calendar, got "${heavyPeriod}"`);
  if (values['heavy-events'] !== undefined && values['dashboard-events'] !== undefined && values['heavy-events'] !== values['dashboard-events']) {
    throw new Error('--heavy-events and --dashboard-events name the same number: give one of them');
  }
  const balanceReads = positiveNumber('balance-reads', values['balance-reads'], 2000);
  const databaseName = values.database ?? 'allot_bench';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseName)) throw new Error(`--database must be a plain lower-case identifier, got "${databaseName}"`);
  const skip = new Set((values.skip ?? '').split(',').map((name) => name.trim()).filter(Boolean));
  const known = ['baseline', 'throughput', 'unmetered', 'latency', 'alerts', 'topup', 'balances', 'seats', 'weekly', 'dashboard', 'close', 'simulation', 'log', 'pglite'];
  for (const name of skip) if (!known.includes(name)) throw new Error(`--skip: unknown phase "${name}" (known: ${known.join(', ')})`);
  return {
    serverUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    databaseName,
    durationSeconds: positiveNumber('duration', values.duration, 30, { integer: false }),
    latencyDurationSeconds: positiveNumber('latency-duration', values['latency-duration'], 20, { integer: false }),
    connections: positiveNumber('connections', values.connections, 16),
    batchSize: 100,
    customers: positiveNumber('customers', values.customers, 1000),
    closeContracts: positiveNumber('close-contracts', values['close-contracts'], 10_000),
    usersPerCustomer: positiveNumber('users', values.users, 50),
    teams: 4,
    seats: 100,
    creditsPerSeat: 50,
    eventsInPeriod: positiveNumber('events-in-period', values['events-in-period'], 1_000_000),
    balanceReads,
    balanceColdReads: positiveNumber('balance-cold-reads', values['balance-cold-reads'], Math.max(1, Math.round(balanceReads / 10))),
    weeklyReads: positiveNumber('weekly-reads', values['weekly-reads'], 20),
    heavyEvents: positiveNumber('heavy-events', values['heavy-events'] ?? values['dashboard-events'], 1_000_000),
    heavyPeriod,
    seatEvents: positiveNumber('seat-events', values['seat-events'], 1_000_000),
    seatCount: positiveNumber('seat-count', values['seat-count'], 100),
    dashboardReads: positiveNumber('dashboard-reads', values['dashboard-reads'], 20),
    timestamps,
    latencyLoadFraction: 0.8,
    alertSamples: positiveNumber('alert-samples', values['alert-samples'], 50),
    alertKind,
    alertLoadFraction: positiveNumber('alert-load', values['alert-load'], 0.5, { integer: false }),
    serverLogLevel: values['server-log-level'] ?? 'warn',
    serverPoolSize: values['server-pool-size'] === undefined ? undefined : positiveNumber('server-pool-size', values['server-pool-size'], 10),
    profileDir: values.profile,
    serverTiming: values['server-timing'] ?? false,
    sampleDatabase: values['sample-db'] ?? false,
    keepDatabase: values['keep-database'] ?? false,
    usageLog: values['usage-log'] ?? false,
    skip,
  };
}
