import { describe, expect, it } from 'vitest';
import { isKnownEventType, reachedEventType, resolvedEventType, WEBHOOK_EVENT_TYPES } from './eventTypes.js';

describe('webhook event types', () => {
  it("names an alert's events as Metronome does", () => {
    expect(reachedEventType('spend_threshold_reached')).toBe('alerts.spend_threshold_reached');
    expect(resolvedEventType('spend_threshold_reached')).toBe('alerts.spend_threshold_resolved');
    expect(resolvedEventType('low_remaining_contract_credit_and_commit_balance_reached')).toBe(
      'alerts.low_remaining_contract_credit_and_commit_balance_resolved',
    );
  });

  it('knows the contract, segment and every alert type with its resolved twin, each once', () => {
    expect(WEBHOOK_EVENT_TYPES).toEqual(expect.arrayContaining(['contract.create', 'contract.edit', 'credit.segment.start', 'credit.segment.end']));
    expect(WEBHOOK_EVENT_TYPES).toEqual(
      expect.arrayContaining(['alerts.usage_threshold_reached', 'alerts.usage_threshold_resolved', 'alerts.monthly_invoice_total_spend_threshold_resolved']),
    );
    expect(new Set(WEBHOOK_EVENT_TYPES).size).toBe(WEBHOOK_EVENT_TYPES.length);
    expect(isKnownEventType('alerts.low_remaining_credit_percentage_resolved')).toBe(true);
    expect(isKnownEventType('alerts.spend_threshold')).toBe(false);
  });
});
