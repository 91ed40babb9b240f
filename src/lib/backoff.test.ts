import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryCapMs, retryDelayMs } from './backoff.js';

const settings = fc.record({
  baseMs: fc.integer({ min: 1, max: 60_000 }),
  maxMs: fc.integer({ min: 1, max: 86_400_000 }),
});
const attempt = fc.integer({ min: 1, max: 2_000 });
const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('retry backoff', () => {
  it('doubles from the base up to the cap: 2 s, 4 s, 8 s … 512 s, then 15 min', () => {
    const caps = Array.from({ length: 12 }, (_, i) => retryCapMs({ attempt: i + 1, baseMs: 2_000, maxMs: 900_000 }));
    expect(caps).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 900_000, 900_000, 900_000]);
  });

  it('doubles from 30 s up to 1 h, jittered down to at most half (the Stripe push defaults)', () => {
    const longest = [1, 2, 3, 8, 9].map((attempt) => retryDelayMs({ attempt, baseMs: 30_000, maxMs: 3_600_000, random: 1 - Number.EPSILON }));
    expect(longest).toEqual([30_000, 60_000, 120_000, 3_600_000, 3_600_000]);
    const shortest = [1, 2, 3, 8, 9].map((attempt) => retryDelayMs({ attempt, baseMs: 30_000, maxMs: 3_600_000, random: 0 }));
    expect(shortest).toEqual([15_000, 30_000, 60_000, 1_800_000, 1_800_000]);
  });

  it('jitters between half the un-jittered delay and all of it', () => {
    expect(retryDelayMs({ attempt: 3, baseMs: 2_000, maxMs: 900_000, random: 0 })).toBe(4_000);
    expect(retryDelayMs({ attempt: 3, baseMs: 2_000, maxMs: 900_000, random: 0.5 })).toBe(6_000);
    expect(retryDelayMs({ attempt: 3, baseMs: 2_000, maxMs: 900_000, random: 0.999_999 })).toBe(8_000);
  });

  it('never waits longer than the maximum', () => {
    fc.assert(fc.property(settings, attempt, random, ({ baseMs, maxMs }, n, r) => retryDelayMs({ attempt: n, baseMs, maxMs, random: r }) <= maxMs));
  });

  it('never waits less than half the un-jittered delay', () => {
    fc.assert(
      fc.property(settings, attempt, random, ({ baseMs, maxMs }, n, r) => {
        return retryDelayMs({ attempt: n, baseMs, maxMs, random: r }) >= retryCapMs({ attempt: n, baseMs, maxMs }) / 2;
      }),
    );
  });

  it('never lowers the un-jittered delay from one attempt to the next', () => {
    fc.assert(
      fc.property(settings, attempt, ({ baseMs, maxMs }, n) => retryCapMs({ attempt: n + 1, baseMs, maxMs }) >= retryCapMs({ attempt: n, baseMs, maxMs })),
    );
  });

  it('is a whole, positive number of milliseconds even after thousands of attempts', () => {
    fc.assert(
      fc.property(settings, attempt, random, ({ baseMs, maxMs }, n, r) => {
        const delay = retryDelayMs({ attempt: n, baseMs, maxMs, random: r });
        return Number.isInteger(delay) && delay > 0;
      }),
    );
  });
});
