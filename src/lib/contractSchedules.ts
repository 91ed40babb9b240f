import { periodAt, type Frequency, type Period, type PeriodSchedule } from './periods.js';

export type StatementDay = 'FIRST_OF_MONTH' | 'CONTRACT_START' | 'CUSTOM_DATE';

/**
 * The instant a contract's usage statements are counted from: the first of the contract's first
 * month (FIRST_OF_MONTH, the default, so a contract starting Jan 15 has a short first period
 * Jan 15 → Feb 1), the contract's start (CONTRACT_START), or `billing_anchor_date` (CUSTOM_DATE).
 * Weekly statements count whole weeks from the contract's start unless a custom date is given.
 */
export function statementAnchor({
  startingAt,
  day,
  frequency,
  billingAnchorDate,
}: {
  startingAt: Date;
  day: StatementDay;
  frequency: Frequency;
  billingAnchorDate: Date | null;
}): Date {
  if (day === 'CUSTOM_DATE' && billingAnchorDate) return billingAnchorDate;
  if (day === 'FIRST_OF_MONTH' && frequency !== 'WEEKLY') return new Date(Date.UTC(startingAt.getUTCFullYear(), startingAt.getUTCMonth(), 1));
  return startingAt;
}

/** The periods a subscription is billed in: its own frequency, from its anchor, within its dates. */
export function subscriptionSchedule(subscription: {
  billingAnchor: Date;
  billingFrequency: Frequency;
  startingAt: Date;
  endingBefore: Date | null;
}): PeriodSchedule {
  return {
    anchor: subscription.billingAnchor,
    frequency: subscription.billingFrequency,
    startingAt: subscription.startingAt,
    endingBefore: subscription.endingBefore,
  };
}

function earliest(...dates: (Date | null)[]): Date | null {
  return dates.reduce<Date | null>((min, date) => (date && (!min || date < min) ? date : min), null);
}

/**
 * The periods a recurring credit or commit grants on. Linked to a subscription, it follows the
 * subscription's billing periods (so a seat change always lands in the segment of the period it
 * is billed in); otherwise its own `recurrence_frequency` counted from its start, or else the
 * contract's usage statement periods. Its window is its own dates, cut by the subscription's
 * and the contract's ends.
 */
export function recurringGrantSchedule({
  grant,
  statements,
  contractEndingBefore,
  subscription,
}: {
  grant: { startingAt: Date; endingBefore: Date | null; recurrenceFrequency: Frequency | null };
  statements: PeriodSchedule;
  contractEndingBefore: Date | null;
  subscription: PeriodSchedule | null;
}): PeriodSchedule {
  if (subscription) {
    return {
      anchor: subscription.anchor,
      frequency: subscription.frequency,
      startingAt: grant.startingAt > subscription.startingAt ? grant.startingAt : subscription.startingAt,
      endingBefore: earliest(grant.endingBefore, subscription.endingBefore, contractEndingBefore),
    };
  }
  const endingBefore = earliest(grant.endingBefore, contractEndingBefore);
  if (grant.recurrenceFrequency) return { anchor: grant.startingAt, frequency: grant.recurrenceFrequency, startingAt: grant.startingAt, endingBefore };
  return { anchor: statements.anchor, frequency: statements.frequency, startingAt: grant.startingAt, endingBefore };
}

/** The previous, current and next periods around `now` (each only where it lies within the schedule). */
export function billingPeriodsAround(schedule: PeriodSchedule, now: Date): { previous?: Period; current?: Period; next?: Period } {
  const current = periodAt(schedule, now);
  if (current) {
    const previous = current.startingAt > schedule.startingAt ? periodAt(schedule, new Date(current.startingAt.getTime() - 1)) : undefined;
    const next = periodAt(schedule, current.endingBefore);
    return { ...(previous && { previous }), current, ...(next && { next }) };
  }
  if (now < schedule.startingAt) {
    const next = periodAt(schedule, schedule.startingAt);
    return next ? { next } : {};
  }
  const last = schedule.endingBefore ? periodAt(schedule, new Date(schedule.endingBefore.getTime() - 1)) : undefined;
  return last ? { previous: last } : {};
}

