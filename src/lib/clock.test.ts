import { describe, expect, it } from 'vitest';
import { TestClock } from './clock.js';

describe('TestClock', () => {
  it('is frozen until advanced, moves only forward, and hands out copies', () => {
    const clock = new TestClock(new Date('2024-01-31T00:00:00Z'));
    const now = clock.now();
    now.setUTCFullYear(1999);
    expect(clock.now().toISOString()).toBe('2024-01-31T00:00:00.000Z');
    expect(clock.advanceTo(new Date('2024-02-29T00:00:00Z'))).toBe(true);
    expect(clock.advanceTo(new Date('2024-02-01T00:00:00Z'))).toBe(false);
    expect(clock.now().toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });
});
