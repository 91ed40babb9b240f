import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from '../load/protocol.js';
import type { RawSpec } from './pgliteHostProcess.js';

const HOST = fileURLToPath(new URL('./pgliteHostProcess.ts', import.meta.url));

export interface PgliteHost {
  baseUrl: string;
  key: string;
  tenantId: string;
  pid: number;
  /** The raw insert baseline, run in the host process on its PGlite. */
  rawInsert(spec: RawSpec): Promise<LoadResult>;
  stop(): Promise<void>;
}

/** Starts Allot on PGlite (a fresh data directory) in a process of its own, CPU-profiled into `profileDir` when given; see `pgliteHostProcess.ts`. */
export function startPgliteHost({ profileDir, timeoutMs = 120_000 }: { profileDir?: string | undefined; timeoutMs?: number } = {}): Promise<PgliteHost> {
  const child = fork(HOST, [], { execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`Allot on PGlite did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => reject(new Error(`Allot on PGlite exited with ${code} before it was ready`)));
    child.once('message', (message: { ready?: { baseUrl: string; key?: string; tenantId?: string } }) => {
      clearTimeout(timer);
      const ready = message.ready;
      if (!ready?.key || !ready.tenantId) return reject(new Error('Allot on PGlite started without a bootstrap key or tenant'));
      resolve({
        baseUrl: ready.baseUrl,
        key: ready.key,
        tenantId: ready.tenantId,
        pid: child.pid!,
        rawInsert: (spec) =>
          new Promise((done, fail) => {
            child.once('message', (answer: { rawResult?: LoadResult; error?: string }) => (answer.rawResult ? done(answer.rawResult) : fail(new Error(answer.error ?? 'no result'))));
            child.send({ raw: spec });
          }),
        async stop() {
          child.send({ stop: true });
          const killer = setTimeout(kill, 15_000);
          await exited;
          clearTimeout(killer);
          process.off('exit', kill);
        },
      });
    });
  });
}
