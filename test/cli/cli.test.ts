import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCli, startServe } from '../helpers/process.js';

const API_KEY = /allot_[A-Za-z0-9_-]{43}/;

function printedKey(output: string): string {
  const match = /^ {2}(allot_\S+)$/m.exec(output);
  if (!match) throw new Error(`no API key in:\n${output}`);
  return match[1]!;
}

function printedBaseUrl(output: string): string {
  return /is listening on (http:\/\/\S+)/.exec(output)![1]!;
}

describe('allot on PGlite (no DATABASE_URL), as a newcomer runs it', () => {
  let dataDir: string;
  const env = () => ({ DATABASE_URL: '', ALLOT_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' });

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'allot-cli-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // Three PGlite starts (each runs initdb or migrations in WASM): slow on a busy 2-core machine.
  it('serves on first start with a printed key that works with the SDK, and keeps data across a restart', async () => {
    // A first start that cannot listen (port taken) must not create a key that nobody sees.
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const takenPort = String((blocker.address() as net.AddressInfo).port);
    const failed = await runCli(['serve'], { ...env(), PORT: takenPort });
    blocker.close();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`Port ${takenPort} on 127.0.0.1 is in use (EADDRINUSE)`);
    expect(failed.stderr).toContain(`PORT=${Number(takenPort) + 1} npm start`);
    expect(failed.stdout).not.toMatch(API_KEY);
    // It says so before initialising the data directory, not after.
    expect(readdirSync(dataDir)).toEqual([]);

    const first = await startServe([], env());
    let customerId: string;
    try {
      const output = first.output();
      expect(output).toContain(`PGlite in ${dataDir}`);
      const client = new Metronome({ bearerToken: printedKey(output), baseURL: printedBaseUrl(output), maxRetries: 0 });
      customerId = (await client.v1.customers.create({ name: 'First customer' })).data.id;

      // A second process may not open the same PGlite directory.
      const blocked = await runCli(['keys', 'create', '--tenant', 'other'], env());
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toMatch(/is in use by process \d+/);
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const second = await startServe([], env());
    try {
      expect(second.output()).not.toMatch(API_KEY);
      expect(second.output()).not.toContain('Applied migrations');
    } finally {
      await second.stop();
    }

    const created = await runCli(['keys', 'create', '--tenant', 'default'], env());
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^allot_[A-Za-z0-9_-]{43}\n$/);

    const third = await startServe([], env());
    try {
      const client = new Metronome({ bearerToken: created.stdout.trim(), baseURL: printedBaseUrl(third.output()), maxRetries: 0 });
      expect((await client.v1.customers.retrieve({ customer_id: customerId })).data.name).toBe('First customer');
    } finally {
      await third.stop();
    }
  }, 120_000);
});

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
    for (const bad of ['', '  spaced  ', '-dash-first']) {
      const refused = await runCli(['keys', 'create', '--tenant', bad], env());
      expect(refused.code, bad).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr, bad).toContain('is not a tenant name');
    }
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
    // Ten CLI processes and a server, each compiling the sources through tsx: past 30 s on a busy 2-core machine.
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
