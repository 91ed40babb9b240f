import { z } from 'zod';
import { Decimal, decimalInput, wireNumber } from '../../lib/money.js';
import { text } from '../../lib/text.js';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import * as service from './service.js';

const groupValue = z.strictObject({ key: text().min(1).max(256), value: text().min(1).max(1000) });

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
    group_values: z
      .array(groupValue)
      .max(10)
      .refine((groups) => new Set(groups.map((group) => group.key)).size === groups.length, 'names each key once')
      .optional()
      .describe('The groups the spend belongs to (`user_id`, `team`, a seat id): their caps apply, and a hold counts against them'),
  })
  .superRefine((body, context) => {
    const problem = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
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
  reason: z.enum(['insufficient_balance', 'cap_reached', 'no_contract']).optional(),
  hold_id: z.string().optional(),
  hold_expires_at: z.string().optional(),
});

/** Allot's own hard-stop check (Metronome has none): may a customer spend an amount now, optionally holding it. */
export function registerEntitlementRoutes(app: App): void {
  registerCapRoutes(app);
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
        groupValues: body.group_values,
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

const capFields = {
  customer_id: z.string().min(1, 'must not be empty'),
  credit_type_id: z.string().min(1, 'must not be empty'),
  group_key: text().min(1).max(256),
  group_value: text().min(1).max(1000),
};
const cap = z.object({ customer_id: z.string(), credit_type_id: z.string(), group_key: z.string(), group_value: z.string(), amount: z.number(), updated_at: z.string() });
const toCap = (row: service.CapRow) => ({
  customer_id: row.customer_id,
  credit_type_id: row.credit_type_id,
  group_key: row.group_key,
  group_value: row.group_value,
  amount: wireNumber(new Decimal(row.amount)),
  updated_at: toRfc3339(row.updated_at),
});

/** Caps on a group's spend per billing period, which the check holds to (Allot's own). */
export function registerCapRoutes(app: App): void {
  app.post(
    '/v1/allot/entitlements/caps',
    {
      schema: {
        tags: ['allot'],
        description: 'Sets a cap: at most `amount` of the pricing unit per billing period for the customer\'s usage whose `group_key` property is `group_value` (a user, a team). Setting it again changes the amount.',
        body: z.strictObject({ ...capFields, amount: decimalInput.refine((amount) => !amount.isNegative(), 'must be 0 or more') }),
        response: { 200: z.object({ data: cap }) },
      },
    },
    async (request) => {
      const body = request.body;
      const row = await service.setCap(request.context, {
        tenantId: request.auth.tenantId,
        customerId: body.customer_id.toLowerCase(),
        creditTypeId: body.credit_type_id.toLowerCase(),
        group: { key: body.group_key, value: body.group_value },
        amount: body.amount,
      });
      return { data: toCap(row) };
    },
  );
  app.get(
    '/v1/allot/entitlements/caps',
    { schema: { tags: ['allot'], description: 'The customer\'s caps.', querystring: z.strictObject({ customer_id: z.string().min(1, 'must not be empty') }), response: { 200: z.object({ data: z.array(cap) }) } } },
    async (request) => ({ data: (await service.listCaps(request.context, { tenantId: request.auth.tenantId, customerId: request.query.customer_id.toLowerCase() })).map(toCap) }),
  );
  app.post(
    '/v1/allot/entitlements/caps/remove',
    { schema: { tags: ['allot'], description: 'Removes a cap.', body: z.strictObject(capFields), response: { 200: z.object({}) } } },
    async (request) => {
      const body = request.body;
      await service.removeCap(request.context, {
        tenantId: request.auth.tenantId,
        customerId: body.customer_id.toLowerCase(),
        creditTypeId: body.credit_type_id.toLowerCase(),
        group: { key: body.group_key, value: body.group_value },
      });
      return {};
    },
  );
}
