import { describe, expect, it } from 'vitest';
import { coalesced } from './coalesce.js';

describe('coalesced tasks', () => {
  it('runs one at a time, and calls during a run share one run after it', async () => {
    let runs = 0;
    let release!: () => void;
    const task = coalesced(async () => {
      const run = ++runs;
      if (run === 1) await new Promise<void>((resolve) => (release = resolve));
      return run;
    });
    const first = task();
    expect(task.busy).toBe(true);
    const [second, third] = [task(), task()];
    release();
    expect(await first).toBe(1);
    expect(await second).toBe(2);
    expect(await third).toBe(2);
    expect(runs).toBe(2);
    expect(task.busy).toBe(false);
  });

  it('runs again after a failed run, and settles with neither running', async () => {
    let runs = 0;
    const task = coalesced(async () => {
      if (++runs === 1) throw new Error('first run fails');
      return runs;
    });
    const failing = task();
    const next = task();
    await expect(failing).rejects.toThrow('first run fails');
    expect(await next).toBe(2);
    await task.settled();
    expect(task.busy).toBe(false);
  });
});
