import { z } from 'zod';
import { decimalInput, wireNumber } from '../../lib/money.js';
import { text } from '../../lib/text.js';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import * as service from './service.js';

const checkBody = z
  .strictObject({
    customer_id: z.string().min(1, 'must not be empty'),
    credit_type_id: z.string().min(1, 'must not be empty'),
    amount: decimalInput.refine((amount) => !amount.isNegative(), 'must be 0 or more').optional(),
    reserve: z.boolean().optional(),
    transaction_id: text().min(1).max(256).optional(),
    hold_seconds: z.number().int().min(1).max(service.MAX_HOLD_SECONDS).optional(),
    event: z
      .strictObject({ event_type: text().min(1).max(256), properties: z.record(z.string(), z.unknown()).optional() })
      .optional()
      .describe('An event to price with the contract\'s rates instead of an amount: what it would add to the open period\'s charges in the pricing unit'),
    // Named so that a caller learns why it is refused, not that the field is unknown.
    group_values: z.unknown().optional(),
  })
  .superRefine((body, context) => {
    const problem = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (body.group_values !== undefined) problem('group_values', 'per-user and per-team caps are not supported yet');
    if (body.amount === undefined && body.event === undefined) problem('amount', 'is required (or an event to price in `event`)');
    if (body.amount !== undefined && body.event !== undefined) problem('event', 'is taken instead of `amount`, not with it');
    if (body.reserve && body.transaction_id === undefined) problem('transaction_id', 'is required with reserve: true (the event whose ingest releases the hold)');
    if (!body.reserve && body.transaction_id !== undefined) problem('transaction_id', 'is only taken with reserve: true');
    if (!body.reserve && body.hold_seconds !== undefined) problem('hold_seconds', 'is only taken with reserve: true');
  });

const checkResult = z.object({
  allowed: z.boolean(),
  amount: z.number().describe('The amount checked: as sent, or what the event costs'),
  remaining: z.number().describe('What can still be spent now after this request, in the pricing unit: the pool less open holds (and less this request when allowed)'),
  reason: z.enum(['insufficient_balance', 'no_contract']).optional(),
  hold_id: z.string().optional(),
  hold_expires_at: z.string().optional(),
});

/** Allot's own hard-stop check (Metronome has none): may a customer spend an amount now, optionally holding it. */
export function registerEntitlementRoutes(app: App): void {
  app.post(
    '/v1/allot/entitlements/check',
    {
      // A reserve is idempotent by its transaction_id; the check itself changes nothing.
      config: { idempotency: false },
      schema: {
        tags: ['allot'],
        description:
          'Whether the customer may spend `amount` of the pricing unit `credit_type_id` now (or what `event` would cost, priced with the contract\'s rates): the balance of its live credits and commits of that unit, less open holds, must cover it. With `reserve: true` and a `transaction_id`, an allowed amount is held until the event with that transaction id is ingested or `hold_seconds` (default 300) pass; a repeated reserve returns the same hold.',
        body: checkBody,
        response: { 200: z.object({ data: checkResult }) },
      },
    },
    async (request) => {
      const body = request.body;
      const result = await service.check(request.context, {
        tenantId: request.auth.tenantId,
        customerId: body.customer_id.toLowerCase(),
        creditTypeId: body.credit_type_id.toLowerCase(),
        cost: body.event ? { event: { eventType: body.event.event_type, properties: body.event.properties ?? {} } } : { amount: body.amount! },
        reserve: body.reserve ? { transactionId: body.transaction_id!, holdSeconds: body.hold_seconds ?? service.DEFAULT_HOLD_SECONDS } : undefined,
      });
      return {
        data: {
          allowed: result.allowed,
          amount: wireNumber(result.amount),
          remaining: wireNumber(result.remaining),
          ...(result.reason && { reason: result.reason }),
          ...(result.holdId && { hold_id: result.holdId, hold_expires_at: toRfc3339(result.holdExpiresAt!) }),
        },
      };
    },
  );
}
