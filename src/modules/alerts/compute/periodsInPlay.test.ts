import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { greatestOfPeriods } from './periodsInPlay.js';

const at = (iso: string) => new Date(iso);
const spend = (endingBefore: string, amount: number) => ({ period: { endingBefore: at(endingBefore) }, amount: new Decimal(amount) });
const total = (part: readonly { amount: Decimal }[]) => part.reduce((sum, item) => sum.add(item.amount), new Decimal(0));

describe('the periods an alert measures during a grace period', () => {
  it('takes the greatest period, never the sum of two periods in grace: January 60 and February 60 in grace, March 10 open → 60', () => {
    const items = [spend('2024-02-01T00:00:00Z', 60), spend('2024-03-01T00:00:00Z', 60), spend('2024-04-01T00:00:00Z', 10)];
    expect(greatestOfPeriods(items, at('2024-03-02T00:00:00Z'), total).toFixed()).toBe('60');
  });

  it('adds the contracts of one period: two contracts ending February 1 (40 + 30) in grace, March open at 50 → 70', () => {
    const items = [spend('2024-02-01T00:00:00Z', 40), spend('2024-02-01T00:00:00Z', 30), spend('2024-03-01T00:00:00Z', 50)];
    expect(greatestOfPeriods(items, at('2024-02-01T06:00:00Z'), total).toFixed()).toBe('70');
  });
});
