import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('starts a lone item at once and gathers what arrives meanwhile into the next batches, within the weight and concurrency', async () => {
    const batches: number[][] = [];
    let running = 0;
    let mostRunning = 0;
    const releases: Array<() => void> = [];
    const batcher = new Batcher<number>({
      concurrency: 2,
      maxWeight: 10,
      weight: (item) => item,
      run: async (items) => {
        batches.push(items);
        running++;
        mostRunning = Math.max(mostRunning, running);
        await new Promise<void>((release) => releases.push(release));
        running--;
      },
    });
    batcher.submit(1);
    batcher.submit(2);
    // Both slots are busy: these wait and are taken together, 10 at most per batch.
    for (const item of [3, 3, 3, 4, 12]) batcher.submit(item);
    expect(batches).toEqual([[1], [2]]);
    expect(batcher.waiting).toBe(5);
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(batches).toEqual([[1], [2], [3, 3, 3], [4], [12]]);
    expect(mostRunning).toBe(2);
    expect(batcher.waiting).toBe(0);
  });
});
