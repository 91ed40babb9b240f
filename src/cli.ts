import { Command } from 'commander';
import { describeStorage, describeStripe, loadConfig, serverUrlOf } from './config.js';
import type { ReportFlags } from './report/command.js';
import type { DemoFlags } from './demo/command.js';
import type { StripeSandboxFlags } from './stripeSandbox/command.js';
import packageJson from '../package.json' with { type: 'json' };

/**
 * Each command loads what it needs when it runs: the CLI runs the TypeScript sources through tsx,
 * so `allot demo` or `allot report` would otherwise compile the whole server before starting.
 */
async function databaseModules() {
  const [{ openDatabase }, { migrate }] = await Promise.all([import('./lib/db/open.js'), import('./lib/db/migrate.js')]);
  return { openDatabase, migrate };
}

const program = new Command()
  .name('allot')
  .description('Allot: billing for pooled seat-based credits, wire-compatible with the Metronome API')
  .version(packageJson.version);

program
  .command('serve')
  .description('run the HTTP API (PGlite in ALLOT_DATA_DIR unless DATABASE_URL is set)')
  .option('--port <port>', 'port to listen on (env PORT, default 8080)')
  .option('--host <host>', 'address to listen on (env HOST, default 127.0.0.1)')
  .option('--test-clock <instant>', 'freeze the clock at this RFC 3339 instant; POST /v1/allot/test-clock/advance moves it')
  .option('--role <role>', 'with ALLOT_NATS_URL: all (HTTP and folding the usage log, the default), api (HTTP only) or writer (folds its share of the log)')
  .action(async (flags: { port?: string; host?: string; testClock?: string; role?: string }) => {
    const { startAllot } = await import('./serve.js');
    const config = loadConfig(process.env, flags);
    // A first start on PGlite initialises the embedded database for several seconds; say so.
    console.error(`Starting Allot on ${describeStorage(config)}…`);
    const allot = await startAllot(config);
    const lines = [`Allot ${packageJson.version} is listening on ${allot.baseUrl} (${describeStorage(config)})`];
    if (allot.migrationsApplied.length > 0) lines.push(`Applied migrations: ${allot.migrationsApplied.join(', ')}`);
    if (config.testClockStart) lines.push(`Test clock frozen at ${config.testClockStart.toISOString()}`);
    if (config.nats) {
      const writer = allot.usageLog?.writer;
      lines.push(`Usage log: NATS at ${config.nats.servers.join(',')}, ${config.nats.partitions} partitions; role ${config.role}${writer ? ` (writer ${writer.id})` : ''}`);
    }
    lines.push(describeStripe(config, allot.baseUrl));
    lines.push(`Dashboard: ${allot.baseUrl}/ui (sign in with an API key)`);
    if (allot.bootstrapKey) {
      lines.push(
        '',
        `Created the tenant "default" and its API key (shown only now):`,
        `  ${allot.bootstrapKey.key}`,
        '',
        'Try it:',
        `  curl -H "Authorization: Bearer ${allot.bootstrapKey.key}" ${allot.baseUrl}/v1/customers`,
      );
    }
    console.log(lines.join('\n'));

    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await allot.stop();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const { openDatabase, migrate } = await databaseModules();
    const config = loadConfig(process.env);
    const db = await openDatabase(config);
    try {
      const applied = await migrate(db);
      console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'Nothing to apply: the database is up to date.');
    } finally {
      await db.close();
    }
  });

program
  .command('status')
  .description('with ALLOT_NATS_URL: print the usage log\'s partitions, the writer owning each, and how far behind each is')
  .action(async () => {
    const { openDatabase } = await databaseModules();
    const [{ usageLogStatus, formatStatus }, { systemClock }] = await Promise.all([import('./modules/usage/service.js'), import('./lib/clock.js')]);
    const config = loadConfig(process.env);
    if (!config.nats) throw new Error('no usage log: set ALLOT_NATS_URL (without it usage is written to the database directly, and there is nothing to show)');
    const db = await openDatabase(config);
    try {
      console.log(formatStatus(await usageLogStatus({ db, clock: systemClock }, config.nats)));
    } finally {
      await db.close();
    }
  });

const keys = program.command('keys').description('manage API keys');
keys
  .command('create')
  .description('create an API key for a tenant (creating the tenant if needed) and print it')
  .requiredOption('--tenant <name>', 'tenant name (required; created when it does not exist)')
  .option('--name <label>', 'a label for the key', 'created by the CLI')
  .action(async (flags: { tenant: string; name: string }) => {
    const { openDatabase, migrate } = await databaseModules();
    const { systemClock } = await import('./lib/clock.js');
    const { createApiKey, ensureTenant } = await import('./modules/tenants/service.js');
    const config = loadConfig(process.env);
    const db = await openDatabase(config);
    try {
      await migrate(db);
      const context = { db, clock: systemClock };
      const { tenant, created } = await ensureTenant(context, flags.tenant);
      // stdout carries only the key; what else happened goes to stderr.
      if (created) console.error(`Created the tenant "${tenant.name}".`);
      const apiKey = await createApiKey(context, { tenantId: tenant.id, name: flags.name });
      console.log(apiKey.key);
    } finally {
      await db.close();
    }
  });

program
  .command('demo')
  .description('load an AI company (100 seats × 50 pooled AI credits, usage by 100 users in 4 teams) into a running server')
  .option('--url <url>', 'the running server (env ALLOT_URL; default http://127.0.0.1:$PORT, port 8080 when PORT is unset)', serverUrlOf(process.env))
  .option('--key <key>', 'API key (env ALLOT_KEY); without one the demo creates one when it can open the database')
  .option('--company <name>', 'company name; its ingest alias is made from it', 'Acme AI')
  .option('--users <n>', 'people using the pool', '100')
  .option('--events <n>', 'usage events sent through POST /v1/ingest', '20000')
  .action(async (flags: DemoFlags) => {
    const { demoCommand } = await import('./demo/command.js');
    console.log(await demoCommand(flags, process.env, () => loadConfig(process.env)));
  });

program
  .command('report')
  .description('print the reconciliation reports of a running server: ledger per customer and segment, and invoices, with their checks')
  .requiredOption('--from <date>', 'window start, a date (2024-04-01, midnight UTC) or an RFC 3339 instant')
  .requiredOption('--to <date>', 'window end (exclusive)')
  .option('--customer <id>', 'one customer only')
  .option('--format <format>', 'table, csv or json', 'table')
  .option('--url <url>', 'the running server (env ALLOT_URL; default http://127.0.0.1:$PORT, port 8080 when PORT is unset)', serverUrlOf(process.env))
  .option('--key <key>', 'API key (env ALLOT_KEY)')
  .action(async (flags: ReportFlags) => {
    const { reportCommand } = await import('./report/command.js');
    const { text, ok } = await reportCommand(flags, process.env);
    console.log(text);
    if (!ok) process.exitCode = 1;
  });

program
  .command('stripe-sandbox')
  .description("run a local Stripe (customers, subscriptions with quantities, invoices, payment) that sends Allot signed subscription webhooks")
  .option('--port <port>', 'port to listen on (env ALLOT_STRIPE_SANDBOX_PORT, default 12111)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--webhook-url <url>', "Allot's Stripe webhook (env ALLOT_STRIPE_SANDBOX_WEBHOOK_URL; default $ALLOT_URL, else http://127.0.0.1:$PORT, + /v1/allot/stripe/webhook)")
  .option('--webhook-secret <secret>', 'signs the webhooks (env ALLOT_STRIPE_WEBHOOK_SECRET, default whsec_allot_sandbox)')
  .option('--secret-key <key>', 'the API key callers send (env ALLOT_STRIPE_SECRET_KEY, default sk_test_allot_sandbox)')
  .action(async (flags: StripeSandboxFlags) => {
    const { stripeSandboxCommand } = await import('./stripeSandbox/command.js');
    const sandbox = await stripeSandboxCommand(flags, process.env, (line) => console.log(line));
    const stop = async () => {
      await sandbox.close();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program
  .command('bench')
  .description('run the benchmark on PostgreSQL (DATABASE_URL names the server) and print its JSON; --help for options')
  .helpOption(false)
  .allowUnknownOption()
  .allowExcessArguments()
  .argument('[options...]')
  .action(async (options: string[]) => {
    // The benchmark lives beside the sources (bench/), with its own flags.
    const { benchCommand } = await import('../bench/run.js');
    await benchCommand(options);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`allot: ${(error as Error).message}`);
  process.exit(1);
}
