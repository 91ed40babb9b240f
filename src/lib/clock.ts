/**
 * The injected clock. Everything time-dependent (created_at, idempotency expiry, and later
 * period close and alert evaluation) reads the clock it is given, never `new Date()`.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock frozen at an instant that only moves when told to, and only forward:
 * `new TestClock(new Date('2024-01-01T00:00:00Z')).advanceTo(new Date('2024-02-01T00:00:00Z'))`.
 */
export class TestClock implements Clock {
  #now: Date;

  constructor(start: Date) {
    this.#now = new Date(start.getTime());
  }

  now(): Date {
    return new Date(this.#now.getTime());
  }

  /** Moves the clock to `to`; returns false (and does not move) when `to` is in the past. */
  advanceTo(to: Date): boolean {
    if (to.getTime() < this.#now.getTime()) return false;
    this.#now = new Date(to.getTime());
    return true;
  }
}
