import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { progress } from '../lib/progress.js';
import type { LoadResult, LoadSpec } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Runs `spec` in a load-generator process of its own, apart from the bench and from the server. */
export function runLoadInChild(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.on('message', (message: { result?: LoadResult; error?: string; progress?: { eventsAccepted: number; seconds: number } }) => {
      if (message.progress) {
        const { eventsAccepted, seconds } = message.progress;
        progress(`  … ${eventsAccepted} events accepted in ${seconds.toFixed(0)} s (${Math.round(eventsAccepted / seconds)}/s)`);
        return;
      }
      settled = true;
      if (message.result) return resolve(message.result);
      child.kill();
      reject(new Error(`load generator failed: ${message.error}`));
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`load generator exited with ${code} before reporting`));
    });
    // A bench that stops (Ctrl-C, a failed phase) takes its load generator with it.
    const stop = () => child.kill();
    process.once('exit', stop);
    child.once('exit', () => process.off('exit', stop));
    child.send(spec);
  });
}
