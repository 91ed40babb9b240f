import { describe, expect, it } from 'vitest';
import { linkedFrequencyProblem, quantityChangesOpenFrom, recurringGrantSchedule } from './contractSchedules.js';
import { periodsBetween, type PeriodSchedule } from './periods.js';

const at = (iso: string) => new Date(iso);
const april = at('2024-04-01T00:00:00Z');
const statements: PeriodSchedule = { anchor: april, frequency: 'MONTHLY', startingAt: april, endingBefore: null };
const annualSeats: PeriodSchedule = { anchor: april, frequency: 'ANNUAL', startingAt: april, endingBefore: null };
const starts = (schedule: PeriodSchedule, to: string) => periodsBetween(schedule, { from: schedule.startingAt, to: at(to) }).map((p) => p.startingAt.toISOString().slice(0, 10));

describe('recurringGrantSchedule', () => {
  it('follows the linked subscription when the credit has no frequency of its own, or the same one', () => {
    const seats: PeriodSchedule = { anchor: at('2024-01-01T00:00:00Z'), frequency: 'MONTHLY', startingAt: april, endingBefore: null };
    for (const recurrenceFrequency of [null, 'MONTHLY'] as const) {
      const schedule = recurringGrantSchedule({ grant: { startingAt: at('2024-04-15T00:00:00Z'), endingBefore: null, recurrenceFrequency }, statements, contractEndingBefore: null, subscription: seats });
      expect(schedule).toEqual({ anchor: seats.anchor, frequency: 'MONTHLY', startingAt: at('2024-04-15T00:00:00Z'), endingBefore: null });
    }
  });

  it('recurs MONTHLY from its own start when linked to ANNUAL seats: April, May, June', () => {
    const schedule = recurringGrantSchedule({ grant: { startingAt: april, endingBefore: null, recurrenceFrequency: 'MONTHLY' }, statements, contractEndingBefore: null, subscription: annualSeats });
    expect(schedule).toEqual({ anchor: april, frequency: 'MONTHLY', startingAt: april, endingBefore: null });
    expect(starts(schedule, '2024-07-01T00:00:00Z')).toEqual(['2024-04-01', '2024-05-01', '2024-06-01']);
  });

  it('anchors a credit on its own frequency at its starting_at, cut by the subscription’s end', () => {
    const seats = { ...annualSeats, endingBefore: at('2024-06-20T00:00:00Z') };
    const schedule = recurringGrantSchedule({
      grant: { startingAt: at('2024-04-15T00:00:00Z'), endingBefore: null, recurrenceFrequency: 'MONTHLY' },
      statements,
      contractEndingBefore: null,
      subscription: seats,
    });
    expect(starts(schedule, '2025-01-01T00:00:00Z')).toEqual(['2024-04-15', '2024-05-15', '2024-06-15']);
    expect(schedule.endingBefore).toEqual(at('2024-06-20T00:00:00Z'));
  });
});

describe('linkedFrequencyProblem', () => {
  it('takes the same frequency, or MONTHLY or QUARTERLY credits on ANNUAL seats and MONTHLY on QUARTERLY', () => {
    expect(linkedFrequencyProblem({ credit: 'MONTHLY', subscription: 'MONTHLY' })).toBeNull();
    expect(linkedFrequencyProblem({ credit: 'WEEKLY', subscription: 'WEEKLY' })).toBeNull();
    expect(linkedFrequencyProblem({ credit: 'MONTHLY', subscription: 'ANNUAL' })).toBeNull();
    expect(linkedFrequencyProblem({ credit: 'QUARTERLY', subscription: 'ANNUAL' })).toBeNull();
    expect(linkedFrequencyProblem({ credit: 'MONTHLY', subscription: 'QUARTERLY' })).toBeNull();
  });

  it('refuses a credit period longer than the billing period, and WEEKLY with another frequency', () => {
    expect(linkedFrequencyProblem({ credit: 'ANNUAL', subscription: 'MONTHLY' })).toMatch(/must not be longer than the linked subscription's billing frequency, MONTHLY/);
    expect(linkedFrequencyProblem({ credit: 'WEEKLY', subscription: 'MONTHLY' })).toMatch(/WEEKLY/);
    expect(linkedFrequencyProblem({ credit: 'MONTHLY', subscription: 'WEEKLY' })).toMatch(/WEEKLY/);
  });
});

describe('quantityChangesOpenFrom', () => {
  const monthlyCredit: PeriodSchedule = { anchor: april, frequency: 'MONTHLY', startingAt: april, endingBefore: null };

  it('is the subscription’s open period start without credits on their own frequency', () => {
    expect(quantityChangesOpenFrom({ subscription: annualSeats, ownFrequencyCredits: [], now: at('2024-05-10T00:00:00Z') })).toEqual(april);
    expect(quantityChangesOpenFrom({ subscription: { ...annualSeats, endingBefore: at('2024-05-01T00:00:00Z') }, ownFrequencyCredits: [], now: at('2024-05-10T00:00:00Z') })).toBeNull();
  });

  it('is the current credit period’s start under ANNUAL seats with MONTHLY credits: May 1 on May 10', () => {
    expect(quantityChangesOpenFrom({ subscription: annualSeats, ownFrequencyCredits: [monthlyCredit], now: at('2024-05-10T00:00:00Z') })).toEqual(at('2024-05-01T00:00:00Z'));
  });

  it('ignores a credit not started yet, and holds at the end of one that has ended', () => {
    const later = { ...monthlyCredit, anchor: at('2024-06-01T00:00:00Z'), startingAt: at('2024-06-01T00:00:00Z') };
    expect(quantityChangesOpenFrom({ subscription: annualSeats, ownFrequencyCredits: [later], now: at('2024-05-10T00:00:00Z') })).toEqual(april);
    const ended = { ...monthlyCredit, endingBefore: at('2024-05-01T00:00:00Z') };
    expect(quantityChangesOpenFrom({ subscription: annualSeats, ownFrequencyCredits: [ended], now: at('2024-06-10T00:00:00Z') })).toEqual(at('2024-05-01T00:00:00Z'));
  });
});
