import { z } from 'zod';
import type { TestClock } from '../lib/clock.js';
import { Invalid } from '../lib/errors.js';
import { instant, toRfc3339 } from '../lib/time.js';
import type { App } from './types.js';

const clockResponse = z.object({ data: z.object({ now: z.string() }) });

/**
 * Only in test-clock mode (`allot serve --test-clock ISO`): read the frozen clock, and move it
 * forward. The clock is the process's, shared by every tenant; it never moves backward. An advance
 * answers once what the new time starts or ends (alerts, credit segments) has been looked at.
 */
export function registerTestClockRoutes(app: App, clock: TestClock, { afterAdvance }: { afterAdvance?: () => Promise<void> | undefined } = {}): void {
  app.get('/v1/allot/test-clock', { schema: { tags: ['allot'], response: { 200: clockResponse } } }, async () => ({
    data: { now: toRfc3339(clock.now()) },
  }));

  app.post(
    '/v1/allot/test-clock/advance',
    // Moving to an instant twice is moving there once, so an Idempotency-Key is accepted and ignored:
    // the request must not run in a transaction of its own, as the sweep it waits for reads the database.
    { config: { idempotency: 'built-in' }, schema: { tags: ['allot'], body: z.strictObject({ to: instant }), response: { 200: clockResponse } } },
    async (request) => {
      if (!clock.advanceTo(request.body.to)) {
        throw new Invalid('to', `must not be before the clock's current time ${toRfc3339(clock.now())}`);
      }
      await afterAdvance?.();
      return { data: { now: toRfc3339(clock.now()) } };
    },
  );
}
