/**
 * Billing periods (docs/rules.md rule 2). Periods are half-open `[startingAt, endingBefore)` and are
 * counted from an anchor instant: boundary `k` is the anchor plus `k` periods, computed from the
 * anchor each time (never chained), so a day missing from a month clamps to that month's last
 * day without drifting: anchor Jan 31 → Feb 28 → Mar 31 → Apr 30.
 */

export type Frequency = 'MONTHLY' | 'QUARTERLY' | 'ANNUAL' | 'WEEKLY';

const MONTHS_PER_PERIOD: Record<Exclude<Frequency, 'WEEKLY'>, number> = { MONTHLY: 1, QUARTERLY: 3, ANNUAL: 12 };
const WEEK_MS = 7 * 24 * 3_600_000;

/** A billing period as something is billed in it: the covered window, and the whole period it is part of. */
export interface Period {
  index: number;
  startingAt: Date;
  endingBefore: Date;
  /** The whole period; differs from the window when a start or end date cuts the period short. */
  fullStartingAt: Date;
  fullEndingBefore: Date;
}

/** How something is divided into periods: an anchor, a frequency, and the window it exists in. */
export interface PeriodSchedule {
  anchor: Date;
  frequency: Frequency;
  startingAt: Date;
  /** Exclusive; null for an open-ended schedule. */
  endingBefore: Date | null;
}

/** `anchor` moved by `months` calendar months, keeping the day and time; the day clamps to the month's last. */
export function addMonthsClamped(anchor: Date, months: number): Date {
  const monthIndex = anchor.getUTCMonth() + months;
  const year = anchor.getUTCFullYear() + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(anchor.getUTCDate(), lastDay),
      anchor.getUTCHours(),
      anchor.getUTCMinutes(),
      anchor.getUTCSeconds(),
      anchor.getUTCMilliseconds(),
    ),
  );
}

/** Boundary `index` of periods counted from `anchor` (negative indexes lie before it). */
export function periodBoundary({ anchor, frequency, index }: { anchor: Date; frequency: Frequency; index: number }): Date {
  if (frequency === 'WEEKLY') return new Date(anchor.getTime() + index * WEEK_MS);
  return addMonthsClamped(anchor, index * MONTHS_PER_PERIOD[frequency]);
}

/** The index `k` with boundary(k) ≤ at < boundary(k + 1). */
export function periodIndexAt({ anchor, frequency, at }: { anchor: Date; frequency: Frequency; at: Date }): number {
  let index: number;
  if (frequency === 'WEEKLY') {
    index = Math.floor((at.getTime() - anchor.getTime()) / WEEK_MS);
  } else {
    const months = (at.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (at.getUTCMonth() - anchor.getUTCMonth());
    index = Math.floor(months / MONTHS_PER_PERIOD[frequency]);
  }
  // The estimate is off by at most one either way (day-of-month and time of day).
  while (periodBoundary({ anchor, frequency, index }) > at) index -= 1;
  while (periodBoundary({ anchor, frequency, index: index + 1 }) <= at) index += 1;
  return index;
}

function periodAtIndex(schedule: PeriodSchedule, index: number): Period {
  const fullStartingAt = periodBoundary({ ...schedule, index });
  const fullEndingBefore = periodBoundary({ ...schedule, index: index + 1 });
  const startingAt = fullStartingAt < schedule.startingAt ? schedule.startingAt : fullStartingAt;
  const endingBefore = schedule.endingBefore && schedule.endingBefore < fullEndingBefore ? schedule.endingBefore : fullEndingBefore;
  return { index, startingAt, endingBefore, fullStartingAt, fullEndingBefore };
}

/** The period of `schedule` that contains `at`, or undefined when `at` is outside the schedule's window. */
export function periodAt(schedule: PeriodSchedule, at: Date): Period | undefined {
  if (at < schedule.startingAt || (schedule.endingBefore && at >= schedule.endingBefore)) return undefined;
  return periodAtIndex(schedule, periodIndexAt({ ...schedule, at }));
}

/**
 * The start of the open period at `now`, before which no quantity change may start (docs/rules.md rule 7):
 * the start of the period containing `now`; before the schedule starts, that start; after it
 * ends, null. Monthly from April 1 to July 1: May 10 → May 1, March 10 → April 1, July 1 → null.
 */
export function openPeriodStart(schedule: PeriodSchedule, now: Date): Date | null {
  if (now < schedule.startingAt) return schedule.startingAt;
  return periodAt(schedule, now)?.startingAt ?? null;
}

/**
 * The periods of `schedule` that overlap `[from, to)`, in order, each clipped to the schedule's
 * window. A schedule starting mid-period has a short first period (FIRST_OF_MONTH statements for
 * a contract starting Jan 15: Jan 15 → Feb 1, then whole months).
 */
export function periodsBetween(schedule: PeriodSchedule, { from, to }: { from: Date; to: Date }): Period[] {
  const start = from > schedule.startingAt ? from : schedule.startingAt;
  const end = schedule.endingBefore && schedule.endingBefore < to ? schedule.endingBefore : to;
  const periods: Period[] = [];
  if (start >= end) return periods;
  for (let index = periodIndexAt({ ...schedule, at: start }); ; index += 1) {
    const period = periodAtIndex(schedule, index);
    if (period.startingAt >= end) break;
    periods.push(period);
  }
  return periods;
}

/** The period at `index` counted from the schedule's first period (0 = the one containing its start). */
export function nthPeriod(schedule: PeriodSchedule, n: number): Period | undefined {
  const period = periodAtIndex(schedule, periodIndexAt({ ...schedule, at: schedule.startingAt }) + n);
  return period.startingAt < period.endingBefore ? period : undefined;
}
