import { openPeriodStart, periodAt, type Frequency, type Period, type PeriodSchedule } from './periods.js';

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

/** The earliest of several ends, null meaning none (open-ended): null only when all are. */
export function earliest(...dates: (Date | null)[]): Date | null {
  return dates.reduce<Date | null>((min, date) => (date && (!min || date < min) ? date : min), null);
}

/**
 * The periods a recurring credit or commit grants on. Linked to a subscription, it follows the
 * subscription's billing periods (so a seat change always lands in the segment of the period it
 * is billed in) unless its own `recurrence_frequency` differs: then it recurs on that frequency
 * counted from its own start, as Metronome aligns a recurring commit with a frequency on its
 * `starting_at` (an ANNUAL subscription from April 1 with a MONTHLY credit from April 1: credit
 * periods April, May, …). Unlinked, its own `recurrence_frequency` counted from its start, or
 * else the contract's usage statement periods. Its window is its own dates, cut by the
 * subscription's and the contract's ends.
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
    const ownFrequency = grant.recurrenceFrequency !== null && grant.recurrenceFrequency !== subscription.frequency;
    return {
      anchor: ownFrequency ? grant.startingAt : subscription.anchor,
      frequency: ownFrequency ? grant.recurrenceFrequency! : subscription.frequency,
      startingAt: grant.startingAt > subscription.startingAt ? grant.startingAt : subscription.startingAt,
      endingBefore: earliest(grant.endingBefore, subscription.endingBefore, contractEndingBefore),
    };
  }
  const endingBefore = earliest(grant.endingBefore, contractEndingBefore);
  if (grant.recurrenceFrequency) return { anchor: grant.startingAt, frequency: grant.recurrenceFrequency, startingAt: grant.startingAt, endingBefore };
  return { anchor: statements.anchor, frequency: statements.frequency, startingAt: grant.startingAt, endingBefore };
}

const MONTHS_PER_PERIOD: Partial<Record<Frequency, number>> = { MONTHLY: 1, QUARTERLY: 3, ANNUAL: 12 };

/**
 * Why a recurring credit or commit linked to a subscription may not recur on `credit`, or null
 * when it may: on the subscription's own frequency, or on a shorter one among MONTHLY, QUARTERLY
 * and ANNUAL (seats billed ANNUAL, credits granted MONTHLY or QUARTERLY). A longer credit period
 * than the billing period, and WEEKLY with another frequency, are not built.
 */
export function linkedFrequencyProblem({ credit, subscription }: { credit: Frequency; subscription: Frequency }): string | null {
  if (credit === subscription) return null;
  const creditMonths = MONTHS_PER_PERIOD[credit];
  const subscriptionMonths = MONTHS_PER_PERIOD[subscription];
  if (creditMonths === undefined || subscriptionMonths === undefined) {
    return `must be the linked subscription's billing frequency, ${subscription}, when either is WEEKLY`;
  }
  if (creditMonths > subscriptionMonths) return `must not be longer than the linked subscription's billing frequency, ${subscription}`;
  return null;
}

/**
 * The earliest instant a quantity change of a subscription may start at (docs/rules.md rule 7),
 * or null once the subscription has ended: the start of its open billing period, or later where
 * a recurring credit linked to it recurs on its own shorter frequency and has started — the start
 * of that credit's current period, or its end once it has ended. A change dated in a credit
 * period that has ended would change a grant that has already expired, so it is refused. ANNUAL
 * seats from April 1 with MONTHLY credits, on May 10: changes from May 1.
 */
export function quantityChangesOpenFrom({ subscription, ownFrequencyCredits, now }: { subscription: PeriodSchedule; ownFrequencyCredits: readonly PeriodSchedule[]; now: Date }): Date | null {
  const open = openPeriodStart(subscription, now);
  if (!open) return null;
  return ownFrequencyCredits.reduce((latest, credit) => {
    if (now < credit.startingAt) return latest;
    const from = periodAt(credit, now)?.startingAt ?? credit.endingBefore!;
    return from > latest ? from : latest;
  }, open);
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

