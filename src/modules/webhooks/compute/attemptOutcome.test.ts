import { describe, expect, it } from 'vitest';
import { deliveryAfterAttempt } from './attemptOutcome.js';

const answered = (statusCode: number) => ({ kind: 'answered' as const, statusCode });

describe('a delivery after an attempt', () => {
  it('is delivered by any 2xx answer, and only by one', () => {
    for (const code of [200, 201, 204, 299]) {
      expect(deliveryAfterAttempt({ attempt: 1, maxAttempts: 3, result: answered(code), retryDelayMs: 50 }).status).toBe('delivered');
    }
    for (const code of [199, 301, 304, 400, 410, 500, 503]) {
      expect(deliveryAfterAttempt({ attempt: 1, maxAttempts: 3, result: answered(code), retryDelayMs: 50 })).toEqual({
        status: 'pending',
        retryInMs: 50,
        maxAttempts: 3,
      });
    }
  });

  it('fails once the last attempt of the budget fails', () => {
    expect(deliveryAfterAttempt({ attempt: 2, maxAttempts: 3, result: { kind: 'failed', error: 'ECONNREFUSED' }, retryDelayMs: 9 }).status).toBe('pending');
    expect(deliveryAfterAttempt({ attempt: 3, maxAttempts: 3, result: answered(500), retryDelayMs: 9 })).toEqual({
      status: 'failed',
      retryInMs: null,
      maxAttempts: 3,
    });
  });

  it('is due again at once after an interrupted attempt, which does not use up the budget', () => {
    expect(deliveryAfterAttempt({ attempt: 3, maxAttempts: 3, result: { kind: 'interrupted' }, retryDelayMs: 9 })).toEqual({
      status: 'pending',
      retryInMs: 0,
      maxAttempts: 4,
    });
    expect(deliveryAfterAttempt({ attempt: 1, maxAttempts: 3, result: { kind: 'interrupted' }, retryDelayMs: 9 }).maxAttempts).toBe(4);
  });
});
