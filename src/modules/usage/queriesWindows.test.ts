import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { windowGrid, type WindowSize } from './queriesWindows.js';

const HOUR_MS = 3_600_000;
const at = (iso: string) => new Date(iso);
const iso = (window: { startingOn: Date; endingBefore: Date }) => [window.startingOn.toISOString(), window.endingBefore.toISOString()];

describe('usage query windows', () => {
  it('cuts DAY windows at UTC midnight and the ends of the range', () => {
    const grid = windowGrid({ startingOn: at('2024-04-01T10:00:00Z'), endingBefore: at('2024-04-03T06:00:00Z'), size: 'DAY' });
    expect(grid.count).toBe(3);
    expect([0, 1, 2].map((index) => iso(grid.at(index)))).toEqual([
      ['2024-04-01T10:00:00.000Z', '2024-04-02T00:00:00.000Z'],
      ['2024-04-02T00:00:00.000Z', '2024-04-03T00:00:00.000Z'],
      ['2024-04-03T00:00:00.000Z', '2024-04-03T06:00:00.000Z'],
    ]);
  });

  it('has one window per hour for HOUR and one for the whole range for NONE', () => {
    const range = { startingOn: at('2024-04-01T22:00:00Z'), endingBefore: at('2024-04-02T01:00:00Z') };
    const hours = windowGrid({ ...range, size: 'HOUR' });
    expect(hours.count).toBe(3);
    expect(iso(hours.at(2))).toEqual(['2024-04-02T00:00:00.000Z', '2024-04-02T01:00:00.000Z']);
    const none = windowGrid({ ...range, size: 'NONE' });
    expect(none.count).toBe(1);
    expect(iso(none.at(0))).toEqual(['2024-04-01T22:00:00.000Z', '2024-04-02T01:00:00.000Z']);
  });

  it('tiles any hour-aligned range exactly, each window inside one UTC hour or day, and finds each window by its start', () => {
    const hour = fc.integer({ min: 0, max: 24 * 365 * 60 });
    fc.assert(
      fc.property(hour, fc.integer({ min: 1, max: 24 * 40 }), fc.constantFrom<WindowSize>('HOUR', 'DAY', 'NONE'), (first, length, size) => {
        const startingOn = new Date(first * HOUR_MS);
        const endingBefore = new Date((first + length) * HOUR_MS);
        const grid = windowGrid({ startingOn, endingBefore, size });
        let cursor = startingOn.getTime();
        for (let index = 0; index < grid.count; index += 1) {
          const window = grid.at(index);
          expect(window.startingOn.getTime()).toBe(cursor);
          expect(window.endingBefore.getTime()).toBeGreaterThan(cursor);
          expect(grid.indexOf(window.startingOn)).toBe(index);
          expect(grid.indexOf(new Date(window.endingBefore.getTime() - HOUR_MS))).toBe(index);
          if (size === 'HOUR') expect(window.endingBefore.getTime() - window.startingOn.getTime()).toBe(HOUR_MS);
          if (size === 'DAY') expect(window.startingOn.toISOString().slice(0, 10)).toBe(new Date(window.endingBefore.getTime() - 1).toISOString().slice(0, 10));
          cursor = window.endingBefore.getTime();
        }
        expect(cursor).toBe(endingBefore.getTime());
      }),
    );
  });
});
