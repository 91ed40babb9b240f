import { describe, expect, it } from 'vitest';
import * as webhooks from '../webhooks/service.js';
import { SUPPORTED_ALERT_TYPES } from './compute/alertTypes.js';

describe('webhook event types of alerts', () => {
  // The webhooks module lists the alert types itself (it cannot import this module, which sends through it).
  it('are exactly the reached and resolved events of the alert types evaluated', () => {
    const expected = SUPPORTED_ALERT_TYPES.flatMap((type) => [webhooks.reachedEventType(type), webhooks.resolvedEventType(type)]);
    const listed = webhooks.WEBHOOK_EVENT_TYPES.filter((type) => type.startsWith('alerts.'));
    expect([...listed].sort()).toEqual([...expected].sort());
    for (const type of expected) expect(webhooks.isKnownEventType(type), type).toBe(true);
  });
});
