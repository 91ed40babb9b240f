import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, printedBaseUrl, printedKey, runCli, startServe } from '../helpers/process.js';

// The CLI on PostgreSQL is in cli.test.ts: apart, the two run in parallel.
describe('allot on PGlite (no DATABASE_URL), as a newcomer runs it', () => {
  let dataDir: string;
  const env = () => ({ DATABASE_URL: '', ALLOT_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' });

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'allot-cli-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // Two PGlite server starts and two CLI runs (initdb, migrations and opening run in WASM): slow on a busy 2-core machine.
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

    // A key made by the CLI while no server runs works on the next start, which finds the data kept.
    const created = await runCli(['keys', 'create', '--tenant', 'default'], env());
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^allot_[A-Za-z0-9_-]{43}\n$/);
    // The first start created the tenant "default": this key is a second one of it.
    expect(created.stderr).not.toContain('Created the tenant');

    const second = await startServe([], env());
    try {
      expect(second.output()).not.toMatch(API_KEY);
      expect(second.output()).not.toContain('Applied migrations');
      const client = new Metronome({ bearerToken: created.stdout.trim(), baseURL: printedBaseUrl(second.output()), maxRetries: 0 });
      expect((await client.v1.customers.retrieve({ customer_id: customerId })).data.name).toBe('First customer');
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 120_000);
});
