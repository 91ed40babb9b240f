import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/allot.js', import.meta.url));
/**
 * Unless `env` says otherwise: the receivers of the tests listen on 127.0.0.1, so processes may send
 * webhooks there; and a period is finalised as soon as it ends (no invoice grace period).
 */
const TEST_ENV = { ALLOT_WEBHOOKS_ALLOW_PRIVATE: 'true', ALLOT_INVOICE_GRACE_HOURS: '0' };

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `allot <args>` to completion, as `npx allot` would. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...TEST_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface RunningCli {
  child: ChildProcess;
  /** Everything the process printed on stdout so far. */
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts `allot serve …` and resolves once it prints that it is listening (or rejects when it exits first). */
export function startServe(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunningCli> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, ...TEST_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('close', done));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`allot serve did not start within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (/Allot \S+ is listening on/.test(stdout) && /\n/.test(stdout.slice(stdout.indexOf('is listening on')))) {
        clearTimeout(timer);
        resolve({
          child,
          output: () => stdout,
          async stop() {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`allot serve exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
}

/** An API key as Allot prints it. */
export const API_KEY = /allot_[A-Za-z0-9_-]{43}/;

/** The key `allot serve` printed when it created the default tenant. */
export function printedKey(output: string): string {
  const match = /^ {2}(allot_\S+)$/m.exec(output);
  if (!match) throw new Error(`no API key in:\n${output}`);
  return match[1]!;
}

/** The address `allot serve` printed that it listens on. */
export function printedBaseUrl(output: string): string {
  return /is listening on (http:\/\/\S+)/.exec(output)![1]!;
}
