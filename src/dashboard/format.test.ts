import { describe, expect, it } from 'vitest';
import { Decimal } from '../lib/money.js';
import { USD_CREDIT_TYPE_ID } from '../modules/pricing/service.js';
import { chartValue, formatAmount, formatDay, formatInstant, formatQuantity } from './format.js';

const usd = { id: USD_CREDIT_TYPE_ID, name: 'USD (cents)' };
const credits = { id: 'a7c1f3c2-0000-4000-8000-000000000001', name: 'AI credits' };

describe('amount formatting', () => {
  it('shows cents as dollars, exactly, past what a double holds', () => {
    expect(formatAmount(new Decimal('123456'), usd)).toBe('$1,234.56');
    expect(formatAmount(new Decimal('-5'), usd)).toBe('-$0.05');
    expect(formatAmount(new Decimal('1234567890123456789'), usd)).toBe('$12,345,678,901,234,567.89');
    expect(formatAmount(new Decimal('0.5'), usd)).toBe('$0.01');
  });

  it('shows custom units by name, to two decimals', () => {
    expect(formatAmount(new Decimal('5000'), credits)).toBe('5,000.00 AI credits');
    expect(formatAmount(new Decimal('1234.567'), credits)).toBe('1,234.57 AI credits');
    expect(formatAmount(new Decimal('-0.005'), credits, { bare: true })).toBe('-0.01');
    expect(formatAmount(new Decimal('123456'), usd, { bare: true })).toBe('$1,234.56');
  });

  it('plots cents in dollars and custom units as they are', () => {
    expect(chartValue(new Decimal('123456'), usd)).toBe('1234.56');
    expect(chartValue(new Decimal('12.34567'), credits)).toBe('12.3457');
  });

  it('formats quantities and dates in UTC', () => {
    expect(formatQuantity(new Decimal('1234567.123456'))).toBe('1,234,567.1235');
    expect(formatDay(new Date('2026-04-03T23:30:00Z'))).toBe('Apr 3, 2026');
    expect(formatInstant(new Date('2026-04-03T14:05:00Z'))).toBe('Apr 3, 2026, 14:05 UTC');
  });
});
