import { describe, expect, it } from 'vitest';
import { quantityChangesOfSeats, seatSchedule, seatsKnownAt, type SeatChange } from './seatSchedule.js';

const at = (day: number) => new Date(Date.UTC(2024, 3, day));
const initial: SeatChange[] = [
  { startingAt: at(1), sequence: 0, action: 'ADD_SEATS', seatIds: ['ada', 'bob'], recordedAt: at(20) },
  { startingAt: at(1), sequence: 1, action: 'ADD_UNASSIGNED', quantity: 1, recordedAt: at(20) },
];

describe('seat schedule', () => {
  it('fills unassigned seats first, frees a removed seat, and ignores removing an id that is not there', () => {
    const result = seatSchedule([
      ...initial,
      { startingAt: at(10), sequence: 2, action: 'ADD_SEATS', seatIds: ['cy', 'dan'] },
      { startingAt: at(12), sequence: 3, action: 'REMOVE_SEATS', seatIds: ['ghost', 'ada'] },
      { startingAt: at(14), sequence: 4, action: 'REMOVE_UNASSIGNED', quantity: 5 },
    ]);
    expect(result.ok && result.steps.map((s) => [s.startingAt.getUTCDate(), s.assigned, s.unassigned, s.quantity])).toEqual([
      [1, ['ada', 'bob'], 1, 3],
      [10, ['ada', 'bob', 'cy', 'dan'], 0, 4],
      [12, ['bob', 'cy', 'dan'], 0, 3],
      [14, ['bob', 'cy', 'dan'], 0, 3],
    ]);
  });

  it('refuses an id assigned twice at once, naming the change and the id', () => {
    const again: SeatChange = { startingAt: at(5), sequence: 2, action: 'ADD_SEATS', seatIds: ['cy', 'bob'] };
    expect(seatSchedule([...initial, again])).toMatchObject({ ok: false, change: again, seatId: 'bob', problem: 'ALREADY_ASSIGNED' });
    // Removed first at the same instant, an id can be added back.
    expect(seatSchedule([...initial, { startingAt: at(5), sequence: 2, action: 'REMOVE_SEATS', seatIds: ['bob'] }, { ...again, sequence: 3 }]).ok).toBe(true);
  });

  it('derives the quantity changes, the initial seats as one change at sequence 0', () => {
    const changes = quantityChangesOfSeats([...initial, { startingAt: at(10), sequence: 2, action: 'ADD_SEATS', seatIds: ['cy', 'dan'], recordedAt: at(20) }]);
    expect(changes.map((c) => [c.startingAt.getUTCDate(), c.sequence, c.quantity])).toEqual([
      [1, 0, 3],
      [10, 2, 4],
    ]);
  });

  it('knows the seats at an instant as they were recorded then: the initial ones always, a backdated change only once made', () => {
    const backdated: SeatChange = { startingAt: at(1), sequence: 2, action: 'ADD_SEATS', seatIds: ['cy'], recordedAt: at(3) };
    expect(seatsKnownAt([...initial, backdated], at(1))).toEqual(['ada', 'bob']);
    expect(seatsKnownAt([...initial, backdated], at(4))).toEqual(['ada', 'bob', 'cy']);
  });
});
