import { z } from 'zod';
import { decimalInput } from '../../lib/money.js';
import { text } from '../../lib/text.js';
import { OTHER_ALERT_TYPES, SUPPORTED_ALERT_TYPES, type AlertType } from './compute/alertTypes.js';
import { MAX_GROUP_VALUES } from './compute/groupCombinations.js';

/**
 * Request schemas of `v1.alerts.*` and `v1.customers.alerts.*`, shaped as `@metronome/sdk` sends
 * them. Metronome fields Allot does not evaluate are refused by name, never ignored.
 */

const id = z.string().min(1, 'must not be empty');

const unsupported = (why: string) =>
  z
    .unknown()
    .refine((value) => value === undefined, why)
    .optional()
    .describe(`Not supported by Allot: ${why}`);

const alertType = z
  .string()
  .refine((value) => (SUPPORTED_ALERT_TYPES as readonly string[]).includes(value), {
    error: (issue) =>
      (OTHER_ALERT_TYPES as readonly string[]).includes(issue.input as string)
        ? `${String(issue.input)} is not supported by Allot (supported: ${SUPPORTED_ALERT_TYPES.join(', ')})`
        : `unknown alert type ${JSON.stringify(issue.input)} (supported: ${SUPPORTED_ALERT_TYPES.join(', ')})`,
  })
  .transform((value) => value as AlertType);

const groupValue = z.strictObject({
  key: text().min(1, 'must not be empty').max(256),
  value: text().max(1024).optional(),
});

export const createAlertBody = z.strictObject({
  alert_type: alertType,
  name: text().min(1, 'must not be empty').max(1024),
  threshold: decimalInput
    .refine((value) => value.gte(0), 'must be 0 or more')
    .refine((value) => value.lt('1e18'), 'must be less than 10^18')
    .refine((value) => value.decimalPlaces() <= 12, 'must have at most 12 decimal places'),
  customer_id: id.optional(),
  credit_type_id: id.optional(),
  billable_metric_id: id.optional(),
  group_values: z
    .array(groupValue)
    .min(1, 'must not be empty; leave it out to watch the whole customer')
    .max(MAX_GROUP_VALUES, `at most ${MAX_GROUP_VALUES} entries`)
    .optional(),
  evaluate_on_create: z.boolean().optional(),
  uniqueness_key: text().min(1, 'must not be empty').max(128).optional(),
  alert_specifiers: unsupported('alert specifiers are not supported; the alert watches every credit and commit of its pricing unit'),
  credit_grant_type_filters: unsupported('credit grant type filters are not supported'),
  custom_field_filters: unsupported('custom field filters are not supported'),
  invoice_types_filter: unsupported('invoice type filters are not supported'),
  plan_id: unsupported('plans are not supported; alerts watch contracts'),
  seat_filter: z.strictObject({ seat_group_key: text().min(1, 'must not be empty').max(256), seat_group_value: text().min(1, 'must not be empty').max(1024).optional() }).optional(),
});
export type CreateAlertBody = z.infer<typeof createAlertBody>;

export const archiveAlertBody = z.strictObject({
  id,
  release_uniqueness_key: z.boolean().optional(),
});

export const customerAlertListBody = z.strictObject({
  customer_id: id,
  alert_statuses: z.array(z.enum(['ENABLED', 'DISABLED', 'ARCHIVED', 'enabled', 'disabled', 'archived'])).optional(),
});
export const customerAlertListQuery = z.strictObject({ next_page: z.string().optional() });

export const customerAlertGetBody = z.strictObject({
  customer_id: id,
  alert_id: id,
  group_values: z.array(z.strictObject({ key: text().min(1), value: text() })).max(MAX_GROUP_VALUES, `at most ${MAX_GROUP_VALUES} entries`).optional(),
  plans_or_contracts: z.enum(['PLANS', 'CONTRACTS']).refine((value) => value === 'CONTRACTS', 'PLANS is not supported; alerts watch contracts').optional(),
  alert_specifiers: unsupported('alert specifiers are not supported'),
  seat_filter: z.strictObject({ seat_group_key: text().min(1), seat_group_value: text().min(1) }).optional(),
});

export const customerAlertResetBody = z.strictObject({ customer_id: id, alert_id: id });

const wireGroupValue = z.object({ key: z.string(), value: z.string().optional() });

export const customerAlert = z.object({
  alert: z.object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['enabled', 'archived', 'disabled']),
    threshold: z.number(),
    type: z.string(),
    updated_at: z.string(),
    credit_type: z.object({ id: z.string(), name: z.string() }).nullable().optional(),
    group_values: z.array(wireGroupValue).optional(),
    seat_filter: z.object({ seat_group_key: z.string(), seat_group_value: z.string().optional() }).optional(),
    uniqueness_key: z.string().optional(),
    billable_metric_id: z.string().optional(),
  }),
  customer_status: z.enum(['ok', 'in_alarm', 'evaluating']).nullable(),
  triggered_by: z.string().nullable().optional(),
});
export type WireCustomerAlert = z.infer<typeof customerAlert>;
