import { z } from 'zod';
import { AppError, Invalid, type FieldProblem } from '../lib/errors.js';
import type { Decimal } from '../lib/money.js';
import { text } from '../lib/text.js';
import type { ControlBounds } from '../modules/dashboards/service.js';
import { formatAmount, type Unit } from './format.js';
import { decimalText, once, storedAmount } from './forms.js';

/**
 * The forms of the embeddable `controls` view. Each carries the view's signed token (the
 * credential: its customer, its unit and its bounds come from the token, never from the form) and
 * a one-time token. A form is checked for its shape (400 naming every field), then against the
 * bounds the operator signed into the URL (403 naming every field beyond them).
 */

const token = z.string().min(1, 'is missing: open the controls again from the application that showed them');
const groupKey = z.string().min(1, 'is required: choose one of the keys offered');
const groupValue = text().trim().min(1, 'is required, e.g. a user id').max(1000, 'must be at most 1,000 characters');

export const capForm = z.strictObject({ token, once, group_key: groupKey, group_value: groupValue, amount: decimalText });
export const capRemoveForm = z.strictObject({ token, once, group_key: groupKey, group_value: groupValue });
export const alertForm = z.strictObject({
  token,
  once,
  group_key: groupKey,
  group_value: groupValue,
  threshold: decimalText,
  name: text().trim().max(200, 'must be at most 200 characters').optional(),
});
export const alertRemoveForm = z.strictObject({ token, once, alert_id: z.string().min(1, 'is required') });

/** The most caps, and the most alerts made in the view, that one customer may hold in it. */
export const MAX_CONTROL_ENTRIES = 100;

/** Alerts made in the controls view carry a `uniqueness_key` with this prefix: those, and only those, its admin may remove. */
export const CONTROLS_ALERT_KEY_PREFIX = 'allot-controls:';

/** A form asking for more than the operator allows: a 403 naming every field beyond the bounds. */
export class BeyondBounds extends AppError {
  readonly status = 403;
  constructor(readonly problems: readonly FieldProblem[]) {
    super(problems.map((problem) => `${problem.field}: ${problem.message}`).join('; '));
  }
}

/** Parses a form, naming every offending field in one 400. */
export function parseControlsForm<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const [first, ...others] = result.error.issues.map((issue) => ({ field: issue.path.join('.') || 'form', message: issue.message }));
  throw Invalid.all([first!, ...others]);
}

/**
 * What of a form is beyond the bounds: a group key not offered, an amount above the largest allowed.
 * `amount` is as typed (dollars for USD); the result's `stored` is in the unit (cents for USD).
 */
export function beyondBounds(
  bounds: ControlBounds,
  unit: Unit,
  form: { group_key: string; amount?: { field: string; typed: string; max: Decimal; what: string } },
): { problems: FieldProblem[]; stored?: Decimal } {
  const problems: FieldProblem[] = [];
  if (!bounds.groupKeys.includes(form.group_key)) problems.push({ field: 'group_key', message: `must be one of ${bounds.groupKeys.join(', ')}: your provider allows no other` });
  if (!form.amount) return { problems };
  const stored = storedAmount(form.amount.typed, unit.id);
  if (stored.gt(form.amount.max)) {
    problems.push({ field: form.amount.field, message: `must be at most ${formatAmount(form.amount.max, unit)}, the largest ${form.amount.what} your provider allows` });
  }
  return { problems, stored };
}

/** What a refused form held, to fill it in again: its own fields only, never the tokens. */
export function typedFields(body: unknown): Record<string, string> {
  if (!body || typeof body !== 'object') return {};
  const fields = ['group_key', 'group_value', 'amount', 'threshold', 'name'];
  return Object.fromEntries(
    Object.entries(body as Record<string, unknown>)
      .filter(([key, value]) => fields.includes(key) && typeof value === 'string')
      .map(([key, value]) => [key, (value as string).slice(0, 1000)]),
  );
}
