import { describe, expect, it } from 'vitest';
import { recentDays } from './poolSection.js';

const window = { startingAt: new Date('2024-04-01T00:00:00Z'), endingBefore: new Date('2024-05-01T00:00:00Z') };
const after = (hours: number) => ({ window, points: [{ at: new Date(window.startingAt.getTime() + hours * 3_600_000) }] }) as unknown as Parameters<typeof recentDays>[0];

describe('the burn rate’s window, in words', () => {
  it('reads "the last hour", "the last 5 hours", "the last 2 days", and at most 7 days', () => {
    expect(['hour', '5 hours', '2 days', '7 days'].map((text) => `averaged over the last ${text}`)).toEqual(
      [after(0.5), after(5), after(47), after(24 * 20)].map((pool) => `averaged over the last ${recentDays(pool)}`),
    );
  });
});
