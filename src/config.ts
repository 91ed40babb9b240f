import { z } from 'zod';
import { redactUrl } from './lib/db/redactUrl.js';

/** The most a request body may take, decompressed (1 MiB), unless ALLOT_BODY_LIMIT says otherwise. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

const environment = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a PostgreSQL URL, postgres://user:password@host:5432/database')
    .optional(),
  ALLOT_DATA_DIR: z.string().min(1).default('./.allot'),
  ALLOT_TEST_CLOCK: z.iso.datetime({ offset: true }).optional(),
  ALLOT_INVOICE_GRACE_HOURS: z.coerce.number().int().min(0).max(744).default(24),
  ALLOT_BODY_LIMIT: z.coerce.number().int().positive().default(DEFAULT_BODY_LIMIT),
  ALLOT_DB_POOL_SIZE: z.coerce.number().int().positive().optional(),
  ALLOT_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).optional(),
  ALLOT_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).optional(),
  ALLOT_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).optional(),
  ALLOT_WEBHOOKS_ALLOW_PRIVATE: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  ALLOT_STRIPE_SECRET_KEY: z.string().min(1).optional(),
  ALLOT_STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  ALLOT_STRIPE_API_BASE: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL, e.g. https://api.stripe.com or http://127.0.0.1:12111' })
    .optional(),
  ALLOT_TRUST_PROXY: z
    .string()
    .regex(/^(true|false|[0-9a-fA-F:.,/ ]+)$/, 'must be true, false, or the proxies\' addresses (e.g. 10.0.0.0/8,127.0.0.1)')
    .optional(),
  ALLOT_SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).max(10_000).optional(),
  ALLOT_NATS_URL: z
    .string()
    .regex(/^(nats:\/\/)?[^\s,]+(,(nats:\/\/)?[^\s,]+)*$/, 'must be one or more NATS servers, comma-separated, e.g. nats://127.0.0.1:4222')
    .optional(),
  ALLOT_NATS_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(16),
  ALLOT_NATS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  ALLOT_NATS_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(5_000),
  ALLOT_READ_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  ALLOT_SERVER_TIMING: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  ALLOT_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http or https URL, e.g. https://billing.example.com' }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  /** Set in test-clock mode: the instant the clock is frozen at. */
  testClockStart: Date | undefined;
  bodyLimit: number;
  /** The invoice grace period, in hours, of tenants that set none. */
  invoiceGracePeriodHours: number;
  poolSize: number | undefined;
  /** Webhook delivery overrides; unset values keep the defaults of `modules/webhooks/settings.ts`. */
  webhooks: {
    maxAttempts: number | undefined;
    timeoutMs: number | undefined;
    retryBaseMs: number | undefined;
    /** Endpoints may be loopback, private, link-local or metadata addresses (local development); unset: refused. */
    allowPrivateAddresses: boolean | undefined;
  };
  /** Stripe: the push worker runs only with a secret key; the webhook route needs the webhook secret. */
  stripe: { secretKey: string | undefined; webhookSecret: string | undefined; apiBase: string | undefined };
  /** Where browsers reach this server: embeddable dashboard URLs start with it (default: the request's scheme and host). */
  publicUrl: string | undefined;
  /** Dashboard sign-ins with a wrong key one client address may make in a minute (default 10). */
  signInMaxFailures: number | undefined;
  /** Fastify's `trustProxy`: whether (or which) proxies' X-Forwarded-* headers say the request's scheme and host. */
  trustProxy: boolean | string | undefined;
  /** `ALLOT_SERVER_TIMING=true`: every answer says where its time went, in a `Server-Timing` header. */
  serverTiming: boolean;
  logLevel: z.infer<typeof environment>['LOG_LEVEL'];
  /**
   * Usage through a NATS JetStream log (`ALLOT_NATS_URL`): ingest publishes to it, writers fold it
   * into the database. Undefined: ingest writes to the database directly, as on one machine.
   */
  nats: NatsConfig | undefined;
  /** What this process does: `all` (HTTP and folding the log), `api` (HTTP only) or `writer` (folding the log). */
  role: Role;
}

export type Role = 'all' | 'api' | 'writer';
const ROLES: readonly Role[] = ['all', 'api', 'writer'];

export interface NatsConfig {
  /** The servers, comma-separated. */
  servers: string[];
  /** Partitions of the usage stream (a subject each): the same on every node. */
  partitions: number;
  /** Copies of the stream and of the owners' bucket (3 on a cluster). */
  replicas: number;
  /** How long a writer's claim on a partition lasts without being renewed. */
  leaseMs: number;
  /** How long a read waits for the writers to fold what was acknowledged before it, before a 503. */
  readWaitMs: number;
}

/**
 * Reads the configuration from the environment; command-line flags, already parsed, win over it.
 * An invalid value stops start-up with a message naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: { port?: string; host?: string; testClock?: string; role?: string } = {}): Config {
  if (flags.role !== undefined && !ROLES.includes(flags.role as Role)) throw new Error(`Invalid configuration: --role: must be one of ${ROLES.join(', ')}`);
  const role = (flags.role ?? 'all') as Role;
  // An empty variable (`DATABASE_URL=` in an env file) means "not set".
  const setVariables = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = environment.safeParse({
    ...setVariables,
    ...(flags.port !== undefined ? { PORT: flags.port } : {}),
    ...(flags.host !== undefined ? { HOST: flags.host } : {}),
    ...(flags.testClock !== undefined ? { ALLOT_TEST_CLOCK: flags.testClock } : {}),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const values = parsed.data;
  if (role !== 'all' && !values.ALLOT_NATS_URL) {
    throw new Error(`Invalid configuration: --role ${role} needs ALLOT_NATS_URL (without a usage log one process both serves and writes)`);
  }
  return {
    port: values.PORT,
    host: values.HOST,
    databaseUrl: values.DATABASE_URL,
    dataDir: values.ALLOT_DATA_DIR,
    testClockStart: values.ALLOT_TEST_CLOCK ? new Date(values.ALLOT_TEST_CLOCK) : undefined,
    bodyLimit: values.ALLOT_BODY_LIMIT,
    invoiceGracePeriodHours: values.ALLOT_INVOICE_GRACE_HOURS,
    poolSize: values.ALLOT_DB_POOL_SIZE,
    webhooks: {
      maxAttempts: values.ALLOT_WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: values.ALLOT_WEBHOOK_TIMEOUT_MS,
      retryBaseMs: values.ALLOT_WEBHOOK_RETRY_BASE_MS,
      allowPrivateAddresses: values.ALLOT_WEBHOOKS_ALLOW_PRIVATE === undefined ? undefined : values.ALLOT_WEBHOOKS_ALLOW_PRIVATE === 'true',
    },
    stripe: {
      secretKey: values.ALLOT_STRIPE_SECRET_KEY,
      webhookSecret: values.ALLOT_STRIPE_WEBHOOK_SECRET,
      apiBase: values.ALLOT_STRIPE_API_BASE,
    },
    publicUrl: values.ALLOT_PUBLIC_URL,
    signInMaxFailures: values.ALLOT_SIGN_IN_MAX_FAILURES,
    trustProxy: trustProxyOf(values.ALLOT_TRUST_PROXY),
    serverTiming: values.ALLOT_SERVER_TIMING === 'true',
    logLevel: values.LOG_LEVEL,
    nats: values.ALLOT_NATS_URL
      ? {
          servers: values.ALLOT_NATS_URL.split(','),
          partitions: values.ALLOT_NATS_PARTITIONS,
          replicas: values.ALLOT_NATS_REPLICAS,
          leaseMs: values.ALLOT_NATS_LEASE_MS,
          readWaitMs: values.ALLOT_READ_WAIT_MS,
        }
      : undefined,
    role,
  };
}

function trustProxyOf(value: string | undefined): boolean | string | undefined {
  if (value === undefined) return undefined;
  return value === 'true' || value === 'false' ? value === 'true' : value.replace(/\s+/g, '');
}

/**
 * Where the CLI's client commands (`allot demo`, `allot report`) find the running server when
 * `--url` is not given: `ALLOT_URL`, else this machine at `PORT` (8080 when unset), as
 * `allot serve` listens by default.
 */
export function serverUrlOf(env: NodeJS.ProcessEnv): string {
  if (env.ALLOT_URL) return env.ALLOT_URL;
  return `http://127.0.0.1:${env.PORT || 8080}`;
}

/** What the start-up banner says of Stripe: whether invoices are pushed and seat webhooks taken, and why not. */
export function describeStripe({ stripe }: Pick<Config, 'stripe'>, baseUrl: string): string {
  const push = stripe.secretKey ? `invoices pushed to ${stripe.apiBase ?? 'https://api.stripe.com'}` : 'invoices not pushed (ALLOT_STRIPE_SECRET_KEY unset)';
  const seats = stripe.webhookSecret ? `seat webhooks taken at ${baseUrl}/v1/allot/stripe/webhook` : 'seat webhooks refused (ALLOT_STRIPE_WEBHOOK_SECRET unset)';
  return `Stripe: ${push}; ${seats}`;
}

/** Where the server keeps its data, as the banner and errors say it (a password in the URL hidden). */
export function describeStorage(config: Config): string {
  return config.databaseUrl ? `PostgreSQL at ${redactUrl(config.databaseUrl)}` : `PGlite in ${config.dataDir}`;
}
