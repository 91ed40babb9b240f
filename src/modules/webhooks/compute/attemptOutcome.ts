/** What one attempt came to: the endpoint answered with a status, the request failed, or the server stopped it midway. */
export type AttemptResult =
  | { kind: 'answered'; statusCode: number }
  | { kind: 'failed'; error: string }
  | { kind: 'interrupted' };

export interface DeliveryAfterAttempt {
  status: 'delivered' | 'pending' | 'failed';
  /** For a pending delivery: how long from now until the next attempt is due. */
  retryInMs: number | null;
  /** The delivery's attempt budget after this attempt. */
  maxAttempts: number;
}

/**
 * Where a delivery stands after attempt number `attempt`: a 2xx answer delivers it; any other
 * answer or a failed request leaves it pending, due after `retryDelayMs`, while attempts remain,
 * and fails it once `attempt` reaches `maxAttempts`. An attempt the server interrupted (it was
 * stopping) is not the endpoint's fault: it is due again at once and the budget grows by one, so
 * the endpoint still gets `maxAttempts` real tries. With a budget of 3: 500, 500, 500 → failed;
 * 500, interrupted, 500, 200 → delivered at attempt 4 of a budget grown to 4.
 */
export function deliveryAfterAttempt({
  attempt,
  maxAttempts,
  result,
  retryDelayMs,
}: {
  attempt: number;
  maxAttempts: number;
  result: AttemptResult;
  retryDelayMs: number;
}): DeliveryAfterAttempt {
  if (result.kind === 'answered' && isSuccess(result.statusCode)) return { status: 'delivered', retryInMs: null, maxAttempts };
  if (result.kind === 'interrupted') return { status: 'pending', retryInMs: 0, maxAttempts: maxAttempts + 1 };
  if (attempt < maxAttempts) return { status: 'pending', retryInMs: retryDelayMs, maxAttempts };
  return { status: 'failed', retryInMs: null, maxAttempts };
}

/** Only a 2xx answer counts as received; a redirect is not followed and counts as a failure. */
function isSuccess(statusCode: number): boolean {
  return statusCode >= 200 && statusCode < 300;
}
