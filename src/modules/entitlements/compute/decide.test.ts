import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { decide } from './decide.js';

const d = (value: number | string) => new Decimal(value);
const plain = (decision: ReturnType<typeof decide>) => ({ ...decision, remaining: decision.remaining.toFixed() });

describe('decide', () => {
  it('allows what the pool less holds covers', () => {
    expect(plain(decide({ pool: d(10), held: d(7), amount: d(3), hasContract: true }))).toEqual({ allowed: true, remaining: '0' });
    expect(plain(decide({ pool: d(10), held: d(7), amount: d('3.000001'), hasContract: true }))).toEqual({ allowed: false, remaining: '3', reason: 'insufficient_balance' });
  });

  it('holds to the smallest cap left, and says a cap stopped it', () => {
    expect(plain(decide({ pool: d(10), held: d(0), caps: [d(5), d(2)], amount: d(2), hasContract: true }))).toEqual({ allowed: true, remaining: '0' });
    expect(plain(decide({ pool: d(10), held: d(0), caps: [d(5), d(2)], amount: d(3), hasContract: true }))).toEqual({ allowed: false, remaining: '2', reason: 'cap_reached' });
    // A cap already overspent leaves 0.
    expect(plain(decide({ pool: d(10), held: d(0), caps: [d(-4)], amount: d(0), hasContract: true }))).toEqual({ allowed: true, remaining: '0' });
  });

  it('names the pool when both the pool and a cap fall short', () => {
    expect(plain(decide({ pool: d(1), held: d(0), caps: [d(2)], amount: d(3), hasContract: true }))).toEqual({ allowed: false, remaining: '1', reason: 'insufficient_balance' });
  });

  it('refuses without a live contract', () => {
    expect(plain(decide({ pool: d(10), held: d(0), amount: d(1), hasContract: false }))).toEqual({ allowed: false, remaining: '0', reason: 'no_contract' });
  });
});
