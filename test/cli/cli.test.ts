import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { API_KEY, printedBaseUrl, runCli, startServe } from '../helpers/process.js';

// The CLI on PGlite, as a newcomer runs it, is in cliPglite.test.ts: apart, the two run in parallel.
describe('allot on PostgreSQL (DATABASE_URL)', () => {
  let database: TestDatabase;
  const env = () => ({ DATABASE_URL: database.url!, PORT: '0', LOG_LEVEL: 'warn' });

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });
  afterAll(() => database.destroy());

  it('migrates, creates keys per tenant as the only line on stdout, and serves with a test clock', async () => {
    const migrated = await runCli(['migrate'], env());
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/^Applied: 0001_tenants_and_api_keys, 0002_customers, 0003_idempotency_keys/);
    expect((await runCli(['migrate'], env())).stdout).toBe('Nothing to apply: the database is up to date.\n');

    const acmeKey = await runCli(['keys', 'create', '--tenant', 'acme'], env());
    const globexKey = await runCli(['keys', 'create', '--tenant', 'globex'], env());
    expect(acmeKey.stdout).toMatch(/^allot_\S+\n$/);
    expect(acmeKey.stderr).toContain('Created the tenant "acme".');
    const secondAcmeKey = await runCli(['keys', 'create', '--tenant', 'acme'], env());
    expect(secondAcmeKey.stderr).not.toContain('Created the tenant');
    // Which names are refused is src/modules/tenants/service.test.ts; here, how the CLI refuses one
    // that its option parser could also take for a flag.
    const refused = await runCli(['keys', 'create', '--tenant', '-dash-first'], env());
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('"-dash-first" is not a tenant name');
    expect(globexKey.stdout).toMatch(/^allot_\S+\n$/);

    const server = await startServe(['--test-clock', '2025-01-15T00:00:00Z'], env());
    try {
      // Tenants already exist, so no default tenant or key is created.
      expect(server.output()).not.toMatch(API_KEY);
      expect(server.output()).toContain('Test clock frozen at 2025-01-15T00:00:00.000Z');
      const baseURL = printedBaseUrl(server.output());
      const acme = new Metronome({ bearerToken: acmeKey.stdout.trim(), baseURL, maxRetries: 0 });
      const globex = new Metronome({ bearerToken: globexKey.stdout.trim(), baseURL, maxRetries: 0 });
      const created = await acme.v1.customers.create({ name: 'Acme' });
      expect((await acme.v1.customers.retrieve({ customer_id: created.data.id })).data.created_at).toBe('2025-01-15T00:00:00.000Z');
      await expect(globex.v1.customers.retrieve({ customer_id: created.data.id })).rejects.toMatchObject({ status: 404 });
    } finally {
      await server.stop();
    }
    // Six CLI processes and a server, each compiling the sources through tsx: past 30 s on a busy 2-core machine.
  }, 120_000);

  it('stops with a clear message on bad configuration', async () => {
    const badPort = await runCli(['serve', '--port', 'eighty'], env());
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toMatch(/Invalid configuration: PORT: /);
    const badClock = await runCli(['serve', '--test-clock', 'yesterday'], env());
    expect(badClock.stderr).toMatch(/ALLOT_TEST_CLOCK: /);
    const notAUrl = await runCli(['migrate'], { DATABASE_URL: 'notaurl' });
    expect(notAUrl.stderr).toMatch(/DATABASE_URL: must be a PostgreSQL URL/);
    const unreachable = await runCli(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/Cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/none/);
  }, 60_000);
});
