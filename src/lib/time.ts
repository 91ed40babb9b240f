import { z } from 'zod';

/**
 * An RFC 3339 instant with an explicit offset (`2024-01-01T00:00:00Z`, `…+02:00`), as the API
 * accepts it; parsed to a `Date` at the edge. Instants without an offset are rejected because
 * their meaning depends on the server's time zone.
 */
export const instant = z.iso
  .datetime({ offset: true, error: 'must be an RFC 3339 instant with a time zone, e.g. 2024-01-01T00:00:00Z' })
  .transform((value) => new Date(value))
  .describe('RFC 3339 instant, e.g. 2024-01-01T00:00:00Z');

/** The wire form of an instant: RFC 3339 in UTC with milliseconds, e.g. `2024-01-01T00:00:00.000Z`. */
export function toRfc3339(value: Date): string {
  return value.toISOString();
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The instant on the hour at or before `instant` (usage is kept per hour; schedule boundaries fall on the hour). */
export function floorToHour(instant: Date): Date {
  return new Date(Math.floor(instant.getTime() / HOUR_MS) * HOUR_MS);
}

/** The start of the UTC day of `instant`. */
export function floorToDay(instant: Date): Date {
  return new Date(Math.floor(instant.getTime() / DAY_MS) * DAY_MS);
}

const YEARS = { message: 'must be between the years 1970 and 9999' };
const withinYears = (value: Date) => value.getUTCFullYear() >= 1970 && value.getUTCFullYear() <= 9999;

/**
 * A schedule instant (contract, subscription, credit and rate boundaries): an RFC 3339 instant on
 * an hour boundary, as Metronome requires. `2024-01-01T10:30:00Z` is a 400 naming the field.
 */
export const hourInstant = instant
  .refine((value) => value.getTime() % HOUR_MS === 0, { message: 'must fall on an hour boundary, e.g. 2024-01-01T10:00:00Z' })
  .refine(withinYears, YEARS);

/**
 * An instant at any time of day (a quantity change: seats change when a user is added), between
 * the years 1970 and 9999. It is kept to the millisecond: digits beyond the third decimal of the
 * second are dropped, so `2024-04-16T12:30:00.1234567Z` is `2024-04-16T12:30:00.123Z`.
 */
export const exactInstant = instant.refine(withinYears, YEARS);
