import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { progress } from '../lib/progress.js';
import type { LoadResult, LoadSpec } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** A load generator running in its own process. */
export interface RunningLoad {
  /** Resolves when the worker starts sending (its warm-up begins then), or when it fails before that. */
  started: Promise<void>;
  /** What the worker measured, once it has stopped. */
  result: Promise<LoadResult>;
  /** Ends the load now: requests already sent are awaited and recorded, none are sent after. */
  stop(): void;
}

/** Starts `spec` in a load-generator process of its own, apart from the bench and from the server. */
export function startLoadInChild(spec: LoadSpec): RunningLoad {
  const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const result = new Promise<LoadResult>((resolve, reject) => {
    let settled = false;
    child.on('message', (message: { started?: true; result?: LoadResult; error?: string; progress?: { eventsAccepted: number; seconds: number } }) => {
      if (message.started) return markStarted();
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
      markStarted();
      if (!settled) reject(new Error(`load generator exited with ${code} before reporting`));
    });
  });
  // A bench that stops (Ctrl-C, a failed phase) takes its load generator with it.
  const kill = () => child.kill();
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  child.send(spec);
  return {
    started,
    result,
    stop: () => {
      if (child.connected) child.send({ stop: true });
    },
  };
}

/** Runs `spec` in a load-generator process of its own until it is done, and returns what it measured. */
export function runLoadInChild(spec: LoadSpec): Promise<LoadResult> {
  return startLoadInChild(spec).result;
}
