import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_QUANTITY, quantityAt, quantityKnownAt, quantitySchedule } from './quantitySchedule.js';

const at = (iso: string) => new Date(iso);

describe('quantity schedule (rule 7)', () => {
  it('applies changes at the same instant in the order sent: 12, then −1 → 11', () => {
    const result = quantitySchedule([
      { startingAt: at('2024-01-01T00:00:00Z'), sequence: 0, quantity: 100 },
      { startingAt: at('2024-01-10T00:00:00Z'), sequence: 1, quantity: 12 },
      { startingAt: at('2024-01-10T00:00:00Z'), sequence: 2, quantityDelta: -1 },
    ]);
    expect(result.ok && result.steps.map((s) => s.quantity)).toEqual([100, 11]);
  });

  it('applies changes in time order whatever order they were made in', () => {
    const result = quantitySchedule([
      { startingAt: at('2024-01-01T00:00:00Z'), sequence: 0, quantity: 10 },
      { startingAt: at('2024-03-01T00:00:00Z'), sequence: 1, quantityDelta: 5 },
      { startingAt: at('2024-02-01T00:00:00Z'), sequence: 2, quantity: 20 },
    ]);
    expect(result.ok && result.steps.map((s) => s.quantity)).toEqual([10, 20, 25]);
    expect(result.ok && quantityAt(result.steps, at('2024-02-15T00:00:00Z'))).toBe(20);
    expect(result.ok && quantityAt(result.steps, at('2023-12-01T00:00:00Z'))).toBe(0);
  });

  it('names the change that would take the quantity below 0', () => {
    const bad = { startingAt: at('2024-02-01T00:00:00Z'), sequence: 1, quantityDelta: -3 };
    const result = quantitySchedule([{ startingAt: at('2024-01-01T00:00:00Z'), sequence: 0, quantity: 2 }, bad]);
    expect(result).toEqual({ ok: false, change: bad, quantity: -1 });
  });

  it('knows, at an instant, only the changes recorded by then (and the initial quantity)', () => {
    const changes = [
      { startingAt: at('2024-04-01T00:00:00Z'), sequence: 0, quantity: 110, recordedAt: at('2024-04-25T00:00:00Z') },
      { startingAt: at('2024-04-01T00:00:00Z'), sequence: 1, quantity: 100, recordedAt: at('2024-04-26T00:00:00Z') },
      { startingAt: at('2024-05-01T00:00:00Z'), sequence: 2, quantityDelta: 5, recordedAt: at('2024-04-26T00:00:00Z') },
    ];
    expect(quantityKnownAt(changes, at('2024-04-01T00:00:00Z'))).toBe(110);
    expect(quantityKnownAt(changes, at('2024-05-01T00:00:00Z'))).toBe(105);
  });

  it('refuses a quantity above the largest a subscription may reach', () => {
    const result = quantitySchedule([
      { startingAt: at('2024-01-01T00:00:00Z'), sequence: 0, quantity: MAX_QUANTITY },
      { startingAt: at('2024-02-01T00:00:00Z'), sequence: 1, quantityDelta: 1 },
    ]);
    expect(result.ok).toBe(false);
  });

  it('ends at the sum of the deltas after the last absolute quantity', () => {
    fc.assert(
      fc.property(fc.nat(50), fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 20 }), (start, deltas) => {
        const changes = [
          { startingAt: at('2024-01-01T00:00:00Z'), sequence: 0, quantity: start },
          ...deltas.map((delta, i) => ({ startingAt: new Date(Date.UTC(2024, 0, 2 + i)), sequence: i + 1, quantityDelta: delta })),
        ];
        const result = quantitySchedule(changes);
        expect(result.ok && result.steps.at(-1)!.quantity).toBe(start + deltas.reduce((a, b) => a + b, 0));
      }),
    );
  });
});
