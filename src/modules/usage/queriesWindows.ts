export type WindowSize = 'HOUR' | 'DAY' | 'NONE';

/** One window of a usage query, half-open: `[startingOn, endingBefore)`. */
export interface UsageWindow {
  startingOn: Date;
  endingBefore: Date;
}

/** The windows of a query's range, in order, addressed by index so that a long range is never materialised. */
export interface WindowGrid {
  readonly count: number;
  at(index: number): UsageWindow;
  /** The index of the window that contains `instant` (an instant inside the range). */
  indexOf(instant: Date): number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The windows of `[startingOn, endingBefore)` for a window size: `HOUR` is every UTC hour, `DAY`
 * every UTC day with the first and last cut to the range, `NONE` the whole range as one window.
 * The range's ends are on the hour (usage is kept per hour), so every window is whole hours:
 * DAY over `2024-04-01T10:00Z → 2024-04-03T06:00Z` is `[04-01T10:00, 04-02T00:00)`,
 * `[04-02T00:00, 04-03T00:00)` and `[04-03T00:00, 04-03T06:00)`.
 */
export function windowGrid({ startingOn, endingBefore, size }: UsageWindow & { size: WindowSize }): WindowGrid {
  const start = startingOn.getTime();
  const end = endingBefore.getTime();
  if (size === 'NONE') {
    return { count: 1, at: () => ({ startingOn, endingBefore }), indexOf: () => 0 };
  }
  const step = size === 'HOUR' ? HOUR_MS : DAY_MS;
  // UTC days are whole multiples of a day since the epoch (JS time has no leap seconds).
  const base = Math.floor(start / step) * step;
  return {
    count: Math.ceil((end - base) / step),
    at: (index) => ({
      startingOn: new Date(Math.max(start, base + index * step)),
      endingBefore: new Date(Math.min(end, base + (index + 1) * step)),
    }),
    indexOf: (instant) => Math.floor((instant.getTime() - base) / step),
  };
}
