import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';

describe('retryDelayMs', () => {
  it('doubles from the base up to the maximum, jittered down to at most half', () => {
    const longest = [1, 2, 3, 8, 9].map((attempt) => retryDelayMs({ attempt, baseMs: 30_000, maxMs: 3_600_000, random: 1 - Number.EPSILON }));
    expect(longest).toEqual([30_000, 60_000, 120_000, 3_600_000, 3_600_000]);
    const shortest = [1, 2, 3, 8, 9].map((attempt) => retryDelayMs({ attempt, baseMs: 30_000, maxMs: 3_600_000, random: 0 }));
    expect(shortest).toEqual([15_000, 30_000, 60_000, 1_800_000, 1_800_000]);
  });
});
