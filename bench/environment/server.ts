import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/allot.js', import.meta.url));

export interface BenchServer {
  baseUrl: string;
  /** The key of the `default` tenant, which the server creates on its first start on the empty database. */
  key: string;
  pid: number;
  /** Stops the server (SIGTERM, so that a CPU profile is written) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  databaseUrl: string;
  logLevel: string;
  poolSize: number | undefined;
  profileDir: string | undefined;
  /** `ALLOT_SERVER_TIMING=true`: answers say where their time went. */
  serverTiming?: boolean | undefined;
  /** With a usage log: the NATS server's URL (ALLOT_NATS_URL). */
  natsUrl?: string | undefined;
}

/**
 * Starts `node bin/allot.js serve` as its own process, on a free port, as production runs it,
 * and reads its address and bootstrap key from what it prints.
 */
export function startServer({ databaseUrl, logLevel, poolSize, profileDir, natsUrl, serverTiming }: ServerOptions, timeoutMs = 60_000): Promise<BenchServer> {
  const nodeArgs: string[] = [];
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  }
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, BIN, 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: logLevel,
      // The alert-latency phase's webhook receiver listens on 127.0.0.1.
      ALLOT_WEBHOOKS_ALLOW_PRIVATE: 'true',
      ...(poolSize !== undefined ? { ALLOT_DB_POOL_SIZE: String(poolSize) } : {}),
      ...(natsUrl !== undefined ? { ALLOT_NATS_URL: natsUrl } : {}),
      ...(serverTiming ? { ALLOT_SERVER_TIMING: 'true' } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk;
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`allot serve did not start within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    let started = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (started) return; // log lines of the running server: not needed
      stdout += chunk;
      const url = /is listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      const key = /^ {2}(allot_\S+)$/m.exec(stdout)?.[1];
      if (!url || !key) return;
      started = true;
      clearTimeout(timer);
      resolve({
        baseUrl: url,
        key,
        pid: child.pid!,
        async stop() {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`allot serve exited with ${code} before listening:\n${stdout}\n${stderr}`));
    });
  });
}
