/** A task that runs one at a time: see `coalesced`. */
export interface CoalescedTask<T> {
  /** Runs the task now, or, while it runs, once more right after it: every caller meanwhile shares that next run. */
  (): Promise<T>;
  /** Whether a run is under way. */
  readonly busy: boolean;
  /** Settles once the run under way and the one queued after it (if any) have ended. */
  settled(): Promise<void>;
}

/**
 * Wraps `task` so that at most one run is under way, and calls that arrive during a run share a
 * single run that starts after it (the state it reads may have changed since the current run
 * began). A sweep asked for after the clock moved sees the new time; ten asks during a run cost
 * one more run, not ten.
 */
export function coalesced<T>(task: () => Promise<T>): CoalescedTask<T> {
  let running: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  const run = (): Promise<T> => {
    if (!running) return (running = task().finally(() => (running = undefined)));
    return (queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return run();
      }));
  };
  // A getter must be defined, not assigned: `Object.assign` would copy its value once.
  Object.defineProperty(run, 'busy', { get: () => running !== undefined });
  return Object.assign(run as typeof run & { readonly busy: boolean }, {
    async settled() {
      await Promise.allSettled([running, queued]);
    },
  });
}
