import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import type { PeriodSchedule } from '../../../lib/periods.js';
import { deriveOneOffGrant, deriveRecurringGrants, generatedId, grantBalance, type RecurringGrantSource } from './derivedGrants.js';

const at = (iso: string) => new Date(iso);
const monthly: PeriodSchedule = { anchor: at('2024-01-01T00:00:00Z'), frequency: 'MONTHLY', startingAt: at('2024-01-01T00:00:00Z'), endingBefore: null };
const source = (overrides: Partial<RecurringGrantSource> = {}): RecurringGrantSource => ({
  id: '0190a000-0000-7000-8000-000000000001',
  terms: { unitPrice: new Decimal(100), proration: 'FIRST_AND_LAST', seatIncrease: null },
  schedule: monthly,
  fixedQuantity: new Decimal(2),
  seats: null,
  durationPeriods: 1,
  rolloverFraction: null,
  ...overrides,
});
const summary = (grants: ReturnType<typeof deriveRecurringGrants>) =>
  grants.map((g) => g.segments.map((s) => [s.startingAt.toISOString().slice(0, 10), s.endingBefore.toISOString().slice(0, 10), s.ledger.balance.toFixed()]));

describe('derived grants', () => {
  it('generates one grant per period that has started, expiring the ended ones', () => {
    const grants = deriveRecurringGrants({ source: source(), recorded: new Map(), now: at('2024-03-10T00:00:00Z') });
    expect(summary(grants)).toEqual([[['2024-01-01', '2024-02-01', '0']], [['2024-02-01', '2024-03-01', '0']], [['2024-03-01', '2024-04-01', '200']]]);
  });

  it('gives each segment access for commit_duration periods', () => {
    const grants = deriveRecurringGrants({ source: source({ durationPeriods: 2 }), recorded: new Map(), now: at('2024-02-10T00:00:00Z') });
    expect(summary(grants)).toEqual([[['2024-01-01', '2024-03-01', '200']], [['2024-02-01', '2024-04-01', '200']]]);
  });

  it('derives the same ids on every read, sorted by the time they start', () => {
    const read = () => deriveRecurringGrants({ source: source(), recorded: new Map(), now: at('2024-03-10T00:00:00Z') }).map((g) => g.id);
    const ids = read();
    expect(read()).toEqual(ids);
    expect([...ids].sort()).toEqual(ids);
    expect(generatedId(at('2024-01-01T00:00:00Z'), 'x')).toMatch(/^018cc251-f400-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('rolls the remainder over into a credit for the next period, once', () => {
    const grants = deriveRecurringGrants({ source: source({ rolloverFraction: new Decimal('0.25') }), recorded: new Map(), now: at('2024-02-10T00:00:00Z') });
    expect(summary(grants)).toEqual([[['2024-01-01', '2024-02-01', '0']], [['2024-02-01', '2024-03-01', '50']], [['2024-02-01', '2024-03-01', '200']]]);
    expect(grants[1]!.rolledOverFrom).toBe(grants[0]!.id);
  });

  it('counts recorded movements on the segment they name', () => {
    const grant = deriveOneOffGrant({
      source: { id: 'g', segments: [{ id: 's1', startingAt: at('2024-01-01T00:00:00Z'), endingBefore: at('2024-02-01T00:00:00Z'), amount: new Decimal(10000) }] },
      recorded: new Map([['s1', [{ kind: 'MANUAL', amount: new Decimal(-6300), timestamp: at('2024-01-15T00:00:00Z') }]]]),
      now: at('2024-01-20T00:00:00Z'),
    });
    expect(grantBalance(grant).toFixed()).toBe('3700');
  });
});
