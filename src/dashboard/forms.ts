import { z } from 'zod';
import { Invalid } from '../lib/errors.js';
import { Decimal } from '../lib/money.js';
import { USD_CREDIT_TYPE_ID } from '../modules/pricing/service.js';

/**
 * The dashboard's forms. Each is checked here for its own shape (a clear message naming the
 * field), then turned into the API's request body and checked again by the API's schema, so a
 * form can do nothing the API would refuse.
 */

const csrf = z.string().min(1, 'is missing: reload the page and try again');
/** A form's one-time token: a form sent twice (a double click, a resubmitted page) acts once. */
export const once = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'is missing or malformed: reload the page and try again');
const wholeNumber = z.string().trim().regex(/^\d{1,10}$/, 'must be a whole number of 0 or more').transform(Number);
export const decimalText = z.string().trim().regex(/^\d{1,18}(\.\d{1,12})?$/, 'must be a number of 0 or more, e.g. 250 or 12.5');

export const seatPreviewQuery = z.strictObject({ contract_id: z.string().min(1), subscription_id: z.string().min(1), quantity: wholeNumber });
export const seatChangeForm = seatPreviewQuery.extend({ csrf, once, starting_at: z.iso.datetime({ offset: true }) });

export const creditForm = z.strictObject({
  csrf,
  once,
  amount: decimalText,
  credit_type_id: z.string().min(1),
  product_id: z.string().min(1, 'is required: choose a product'),
  name: z.string().trim().max(200).optional(),
  ending_before: z.iso.date('must be a date, e.g. 2026-12-31'),
});

export const alertForm = z.strictObject({
  csrf,
  once,
  name: z.string().trim().min(1, 'is required').max(1024),
  alert_type: z.string().min(1),
  threshold: decimalText,
  credit_type_id: z.string().optional(),
  billable_metric_id: z.string().optional(),
  group_key: z.string().optional(),
  /** A seat alert's `seat_filter`: the seats' group key and, for one seat, its id. */
  seat_group_key: z.string().optional(),
  seat_group_value: z.string().trim().max(1024).optional(),
});

export const signInForm = z.strictObject({ token: z.string().min(1), api_key: z.string().trim().min(1, 'is required'), next: z.string().optional() });

export const csrfForm = z.object({ csrf });
export const onceForm = z.object({ once });

/** Parses a form; the first problem becomes an `Invalid` naming its field. */
export function parseForm<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new Invalid(issue.path.join('.') || 'form', issue.message);
}

/** An amount typed in a form, in the credit type's stored unit: dollars become cents. */
export function storedAmount(typed: string, creditTypeId: string | undefined): Decimal {
  const amount = new Decimal(typed);
  return creditTypeId === USD_CREDIT_TYPE_ID ? amount.mul(100) : amount;
}
