import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type { Balance, Draft } from '../../account/service.js';
import { replayOutcome } from './outcome.js';

const DAY = 24 * 60 * 60 * 1000;
const APRIL_1 = Date.parse('2024-04-01T00:00:00Z');
const at = (day: number) => new Date(APRIL_1 + day * DAY);

/** A draft with one usage line of `perDay` AI credits on each of `days` days from April 1, and the overage given. */
function draft(perDay: number, days: number, overage = 0): Draft {
  const charges = Array.from({ length: days }, (_, day) => ({ slice: { startingAt: at(day), endingBefore: at(day + 1) }, amount: new Decimal(perDay) }));
  return {
    lines: [{ creditTypeId: 'ai', total: new Decimal(perDay * days), overage: new Decimal(overage), charges }],
    seatLines: [],
  } as unknown as Draft;
}

/** A pool of `amount` AI credits granted April 1 for April. */
function pool(amount: number): Balance {
  return {
    creditTypeId: 'ai',
    archivedAt: null,
    segments: [{ startingAt: at(0), endingBefore: at(30), ledger: { entries: [{ kind: 'SEGMENT_START', amount: new Decimal(amount), timestamp: at(0) }] } }],
  } as unknown as Balance;
}

const outcome = (perDay: number, days: number, options: { asOf?: Date; open?: boolean; overage?: number; held?: number; window?: { from: Date; to: Date } } = {}) =>
  replayOutcome({
    drafts: [draft(perDay, days, options.overage)],
    invoiceTotals: [new Decimal(100), new Decimal(50)],
    balances: [pool(options.held ?? 1000)],
    creditTypeId: 'ai',
    asOf: options.asOf ?? new Date(at(30).getTime() - 1),
    open: options.open ?? false,
    window: options.window,
  });

describe('replayOutcome', () => {
  it('runs 1,000 credits out on April 21 at 50 a day, and on April 11 at 100 a day; adds the invoices’ totals', () => {
    const actual = outcome(50, 30, { overage: 500 });
    expect(actual.total.toNumber()).toBe(150);
    expect(actual.creditsBurned.toNumber()).toBe(1500);
    expect(actual.runsOutAt?.toISOString()).toBe('2024-04-21T00:00:00.000Z');
    expect(actual.crossesPool).toBe(true);
    expect(outcome(100, 30, { overage: 2000 }).runsOutAt?.toISOString()).toBe('2024-04-11T00:00:00.000Z');
  });

  it('runs out inside a day in proportion: 1,000 at 80 a day is reached 12.5 days in, on April 13 at 12:00', () => {
    expect(outcome(80, 30).runsOutAt?.toISOString()).toBe('2024-04-13T12:00:00.000Z');
  });

  it('has no run-out date when the pool lasts a past window, and projects one in the open period at the last 7 days’ burn', () => {
    const lasted = outcome(20, 30);
    expect(lasted.runsOutAt).toBeNull();
    expect(lasted.crossesPool).toBe(false);
    // 9 days at 50 on April 10: 550 left at 50 a day → April 21.
    expect(outcome(50, 9, { asOf: at(9), open: true }).runsOutAt?.toISOString()).toBe('2024-04-21T00:00:00.000Z');
    // At 20 a day 820 are left: 41 more days, past the pool's end.
    expect(outcome(20, 9, { asOf: at(9), open: true }).runsOutAt).toBeNull();
  });

  it('keeps the pool’s burn-down at each midnight and the window’s end, never below 0, and none without a window', () => {
    const remaining = (result: ReturnType<typeof outcome>) => result.burnDown.map((point) => point.remaining?.toNumber() ?? null);
    // 80 a day: 1,000 − 80k until 0 on April 13 (12.5 days), to April 30 (the pool's end): 31 points.
    const april = outcome(80, 30, { window: { from: at(0), to: at(30) } });
    expect(april.burnDown.map((point) => point.at)).toEqual(Array.from({ length: 31 }, (_, k) => at(k)));
    expect(remaining(april)).toEqual(Array.from({ length: 31 }, (_, k) => Math.max(1000 - 80 * k, 0)));
    // A window starting at noon: noon, then each midnight; a day's charge spread over the day: 25 of 50 by midnight.
    expect(remaining(outcome(50, 30, { window: { from: new Date(at(0).getTime() + DAY / 2), to: at(2) } }))).toEqual([975, 950, 900]);
    // The open period ends now, a past window at the replay's last instant; a day before the pool began holds nothing (null).
    expect(remaining(outcome(50, 9, { asOf: at(9), open: true, window: { from: at(0), to: at(40) } })).at(-1)).toBe(550);
    expect(outcome(50, 30, { window: { from: at(29), to: at(32) } }).burnDown).toEqual([
      { at: at(29), remaining: new Decimal(0) },
      { at: at(30), remaining: new Decimal(0) },
    ]);
    expect(remaining(outcome(50, 30, { window: { from: at(-1), to: at(1) } }))).toEqual([null, 1000, 950]);
    expect(outcome(50, 30).burnDown).toEqual([]);
  });
});
