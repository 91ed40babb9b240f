import { describe, expect, it } from 'vitest';
import { unassignedSeatChange, decideSeatChange, type SubscriptionEventFacts } from './seatChange.js';

const steps = [
  { startingAt: new Date('2024-04-01T00:00:00Z'), quantity: 100 },
  { startingAt: new Date('2024-04-16T00:00:00Z'), quantity: 110 },
];
const april = new Date('2024-04-01T00:00:00Z');
/** Allot's clock: after every event below unless a test says otherwise. */
const now = new Date('2024-04-30T00:00:00Z');

function updated(created: string, quantity: number, priceId = 'price_seats'): SubscriptionEventFacts {
  return { type: 'customer.subscription.updated', created: new Date(created), items: [{ priceId: 'price_addon', quantity: 3 }, { priceId, quantity }] };
}

describe('decideSeatChange', () => {
  it('takes the linked price’s quantity from the event’s exact time, off the hour', () => {
    expect(decideSeatChange({ event: updated('2024-04-20T10:59:59Z', 120), now, stripePriceId: 'price_seats', lastAppliedCreated: null, openPeriodStart: april, steps })).toEqual({
      kind: 'change',
      quantity: 120,
      startingAt: new Date('2024-04-20T10:59:59Z'),
      aheadOfClock: false,
    });
  });

  it('never starts before the open period', () => {
    expect(decideSeatChange({ event: updated('2024-03-20T10:30:00Z', 90), now, stripePriceId: 'price_seats', lastAppliedCreated: null, openPeriodStart: april, steps })).toEqual({
      kind: 'change',
      quantity: 90,
      startingAt: april,
      aheadOfClock: false,
    });
  });

  it('applies an event dated ahead of the clock now, and says so: created 2026-12-07, the clock at 2024-04-20 → from 2024-04-20', () => {
    const clock = new Date('2024-04-20T00:00:00Z');
    expect(decideSeatChange({ event: updated('2026-12-07T09:15:00Z', 120), now: clock, stripePriceId: 'price_seats', lastAppliedCreated: null, openPeriodStart: april, steps })).toEqual({
      kind: 'change',
      quantity: 120,
      startingAt: clock,
      aheadOfClock: true,
    });
    // Recorded at the instant it took effect, a later event of the test clock's own time still applies.
    expect(decideSeatChange({ event: updated('2024-04-21T00:00:00Z', 130), now: new Date('2024-04-22T00:00:00Z'), stripePriceId: 'price_seats', lastAppliedCreated: clock, openPeriodStart: april, steps }).kind).toBe('change');
  });

  it('changes nothing when the quantity in force already matches', () => {
    expect(decideSeatChange({ event: updated('2024-04-16T00:40:00Z', 110), now, stripePriceId: 'price_seats', lastAppliedCreated: null, openPeriodStart: april, steps }).kind).toBe('unchanged');
  });

  it('ignores events older than the last applied, and subscriptions that ended', () => {
    const last = new Date('2024-04-16T02:00:00Z');
    expect(decideSeatChange({ event: updated('2024-04-16T01:59:59Z', 90), now, stripePriceId: 'price_seats', lastAppliedCreated: last, openPeriodStart: april, steps }).kind).toBe('ignore');
    expect(decideSeatChange({ event: updated('2024-04-16T02:00:00Z', 90), now, stripePriceId: 'price_seats', lastAppliedCreated: last, openPeriodStart: april, steps }).kind).toBe('change');
    expect(decideSeatChange({ event: updated('2024-04-16T03:00:00Z', 90), now, stripePriceId: 'price_seats', lastAppliedCreated: null, openPeriodStart: null, steps }).kind).toBe('ignore');
  });

  it('reads 0 seats from a deleted subscription, or one that no longer has the price', () => {
    const deleted: SubscriptionEventFacts = { ...updated('2024-04-18T00:00:00Z', 110), type: 'customer.subscription.deleted' };
    expect(decideSeatChange({ event: deleted, now, stripePriceId: 'price_seats', lastAppliedCreated: null, openPeriodStart: april, steps })).toMatchObject({ kind: 'change', quantity: 0 });
    expect(decideSeatChange({ event: updated('2024-04-18T00:00:00Z', 110, 'price_new'), now, stripePriceId: 'price_seats', lastAppliedCreated: null, openPeriodStart: april, steps })).toMatchObject({
      kind: 'change',
      quantity: 0,
    });
  });
});

describe('incomplete items', () => {
  it('ignores an event whose incomplete items miss the price, rather than reading 0 seats', () => {
    const partial: SubscriptionEventFacts = { ...updated('2024-04-20T10:00:00Z', 1, 'price_other'), itemsIncomplete: true };
    expect(decideSeatChange({ event: partial, now, stripePriceId: 'price_seats', lastAppliedCreated: null, openPeriodStart: april, steps }).kind).toBe('ignore');
    expect(decideSeatChange({ event: { ...partial, itemsIncomplete: false }, now, stripePriceId: 'price_seats', lastAppliedCreated: null, openPeriodStart: april, steps })).toMatchObject({ kind: 'change', quantity: 0 });
  });
});

describe('unassignedSeatChange', () => {
  it('moves only the unassigned seats: 3 seat ids + 2 unassigned, Stripe says 8 → add 3; 4 → remove 1; 2 → remove 2 with 1 seat id short', () => {
    expect(unassignedSeatChange({ assigned: 3, unassigned: 2, quantity: 8 })).toEqual({ add: 3, remove: 0, short: 0 });
    expect(unassignedSeatChange({ assigned: 3, unassigned: 2, quantity: 4 })).toEqual({ add: 0, remove: 1, short: 0 });
    expect(unassignedSeatChange({ assigned: 3, unassigned: 2, quantity: 2 })).toEqual({ add: 0, remove: 2, short: 1 });
    expect(unassignedSeatChange({ assigned: 3, unassigned: 2, quantity: 5 })).toEqual({ add: 0, remove: 0, short: 0 });
    expect(unassignedSeatChange({ assigned: 0, unassigned: 0, quantity: 0 })).toEqual({ add: 0, remove: 0, short: 0 });
  });
});
