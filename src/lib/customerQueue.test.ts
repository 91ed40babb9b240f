import { describe, expect, it } from 'vitest';
import { CustomerQueue } from './customerQueue.js';

interface Job {
  tenantId: string;
  customerId: string;
  notes: string[];
}

/** A run that waits until released, so the test decides when each one ends. */
function gatedRuns() {
  const started: Job[] = [];
  const releases: Array<() => void> = [];
  return {
    started,
    run: (job: Job) => {
      started.push({ ...job, notes: [...job.notes] });
      return new Promise<void>((resolve) => releases.push(resolve));
    },
    releaseAll: () => releases.splice(0).forEach((release) => release()),
  };
}

describe('CustomerQueue', () => {
  it('merges a customer queued again while it waits, and never runs one customer twice at a time', async () => {
    const runs = gatedRuns();
    const queue = new CustomerQueue<Job>({ concurrency: 1, run: runs.run, onError: () => {}, merge: (waiting, added) => waiting.notes.push(...added.notes) });
    const first = queue.enqueue({ tenantId: 't', customerId: 'A', notes: ['1'] });
    // A runs; B waits (concurrency 1); A again waits behind its own run, and a third A merges into it.
    const second = queue.enqueue({ tenantId: 't', customerId: 'B', notes: ['2'] });
    const third = queue.enqueue({ tenantId: 'T', customerId: 'a', notes: ['3'] });
    const fourth = queue.enqueue({ tenantId: 't', customerId: 'A', notes: ['4'] });
    expect(runs.started.map((job) => job.notes)).toEqual([['1']]);
    runs.releaseAll();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    // B was first in line; A's merged job waits for it.
    expect(runs.started.map((job) => job.notes)).toEqual([['1'], ['2']]);
    runs.releaseAll();
    await second;
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.started.map((job) => job.notes)).toEqual([['1'], ['2'], ['3', '4']]);
    runs.releaseAll();
    await Promise.all([third, fourth]);
  });

  it('starts urgent jobs before waiting ones, in the order queued, and a waiting job merged with an urgent one goes ahead too', async () => {
    const runs = gatedRuns();
    const queue = new CustomerQueue<Job>({
      concurrency: 1,
      run: runs.run,
      onError: () => {},
      merge: (waiting, added) => waiting.notes.push(...added.notes),
      urgent: (job) => job.notes.some((note) => note.startsWith('now')),
    });
    const jobs = [
      queue.enqueue({ tenantId: 't', customerId: 'running', notes: ['sweep'] }),
      queue.enqueue({ tenantId: 't', customerId: 'A', notes: ['sweep'] }),
      queue.enqueue({ tenantId: 't', customerId: 'B', notes: ['sweep'] }),
      queue.enqueue({ tenantId: 't', customerId: 'C', notes: ['now 1'] }),
      queue.enqueue({ tenantId: 't', customerId: 'B', notes: ['now 2'] }),
      queue.enqueue({ tenantId: 't', customerId: 'D', notes: ['sweep'] }),
    ];
    for (let i = 0; i < 5; i++) {
      runs.releaseAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    // C and B (merged with an urgent job) before A and D, which waited first.
    expect(runs.started.map((job) => `${job.customerId}: ${job.notes.join(', ')}`)).toEqual(['running: sweep', 'C: now 1', 'B: sweep, now 2', 'A: sweep', 'D: sweep']);
    runs.releaseAll();
    await Promise.all(jobs);
  });

  it('gives a waiting job its turn after 8 urgent starts in a row, however steadily urgent jobs arrive', async () => {
    const runs = gatedRuns();
    const queue = new CustomerQueue<Job>({ concurrency: 1, run: runs.run, onError: () => {}, urgent: (job) => job.notes[0] === 'now' });
    void queue.enqueue({ tenantId: 't', customerId: 'busy0', notes: ['now'] });
    const swept = queue.enqueue({ tenantId: 't', customerId: 'swept', notes: ['sweep'] });
    // Two customers' usage alternating, each queued again while the other runs: urgent work never runs out.
    for (let round = 1; round < 12; round++) {
      void queue.enqueue({ tenantId: 't', customerId: `busy${round % 2}`, notes: ['now'] });
      runs.releaseAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const order = runs.started.map((job) => job.customerId);
    expect(order.indexOf('swept')).toBe(8);
    runs.releaseAll();
    await swept;
    await queue.stop();
  });

  it('runs up to `concurrency` customers at once, reports a failed run and goes on', async () => {
    const errors: unknown[] = [];
    let active = 0;
    let most = 0;
    const queue = new CustomerQueue<Job>({
      concurrency: 2,
      run: async (job) => {
        active++;
        most = Math.max(most, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        if (job.customerId === 'C') throw new Error('boom');
      },
      onError: (error) => errors.push(error),
    });
    await Promise.all(['A', 'B', 'C', 'D', 'E'].map((customerId) => queue.enqueue({ tenantId: 't', customerId, notes: [] })));
    expect(most).toBe(2);
    expect(errors).toHaveLength(1);
  });

  it('releases waiting callers when stopped, and takes no more work', async () => {
    const runs = gatedRuns();
    const queue = new CustomerQueue<Job>({ concurrency: 1, run: runs.run, onError: () => {} });
    const running = queue.enqueue({ tenantId: 't', customerId: 'A', notes: [] });
    const waiting = queue.enqueue({ tenantId: 't', customerId: 'B', notes: [] });
    const stopped = queue.stop();
    await waiting;
    runs.releaseAll();
    await Promise.all([running, stopped]);
    await queue.enqueue({ tenantId: 't', customerId: 'C', notes: [] });
    expect(runs.started.map((job) => job.customerId)).toEqual(['A']);
  });
});
