import { z } from 'zod';
import { decimalInput } from '../../lib/money.js';
import { text } from '../../lib/text.js';

/** Metronome's color names, each a CSS variable of the dashboard's stylesheet. */
export const COLOR_VARIABLES = {
  Gray_dark: '--gray-dark',
  Gray_medium: '--gray-medium',
  Gray_light: '--gray-light',
  Gray_extralight: '--gray-extralight',
  White: '--white',
  Primary_medium: '--primary',
  Primary_light: '--primary-light',
  UsageLine_0: '--line-0',
  UsageLine_1: '--line-1',
  UsageLine_2: '--line-2',
  UsageLine_3: '--line-3',
  UsageLine_4: '--line-4',
  UsageLine_5: '--line-5',
  UsageLine_6: '--line-6',
  UsageLine_7: '--line-7',
  UsageLine_8: '--line-8',
  UsageLine_9: '--line-9',
  Primary_green: '--green',
  Primary_red: '--red',
  Progress_bar: '--progress',
  Progress_bar_background: '--progress-background',
  Action: '--action',
  Action_hover: '--action-hover',
} as const;

const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const flag = z.enum(['true', 'false'], { error: 'must be "true" or "false"' });

/** The options Allot applies, by key, with the values each accepts. */
export const DASHBOARD_OPTIONS = {
  show_zero_usage_line_items: flag,
  hide_voided_invoices: flag,
  hide_grant_name: flag,
  contract_id: z.string().min(1),
  invoice_type: z.enum(['USAGE', 'SCHEDULED'], { error: 'must be USAGE or SCHEDULED' }),
  invoice_status_filter: z.enum(['VOID', 'FINALIZED', 'DRAFT', 'FINALIZED_AND_DRAFT', 'ALL'], { error: 'must be VOID, FINALIZED, DRAFT, FINALIZED_AND_DRAFT or ALL' }),
  credit_ledger_credit_type_id: z.string().min(1),
} as const;

const colorOverrides = z
  .array(
    z.strictObject({
      name: z.enum(Object.keys(COLOR_VARIABLES) as [keyof typeof COLOR_VARIABLES, ...(keyof typeof COLOR_VARIABLES)[]], { error: `must be one of ${Object.keys(COLOR_VARIABLES).join(', ')}` }),
      value: z.string().regex(HEX, 'must be a hex color, e.g. #ff0000'),
    }),
  )
  .max(50)
  .optional();

const groupKeyOverrides = z
  .array(
    z.strictObject({
      group_key_name: z.string().min(1, 'must not be empty').max(256),
      display_name: z.string().max(256).optional(),
      value_display_names: z.record(z.string(), z.string().max(256)).optional(),
    }),
  )
  .max(50)
  .optional();

export const getEmbeddableUrlBody = z
  .strictObject({
    customer_id: z.string().min(1, 'must not be empty'),
    dashboard: z.enum(['invoices', 'usage', 'credits', 'commits_and_credits'], { error: 'must be invoices, usage, credits or commits_and_credits' }),
    color_overrides: colorOverrides,
    dashboard_options: z
      .array(z.strictObject({ key: z.string(), value: z.string() }))
      .max(20)
      .optional(),
    bm_group_key_overrides: groupKeyOverrides,
    seat_id: text()
      .min(1, 'must not be empty')
      .max(1024)
      .optional()
      .describe("Allot's own, not in Metronome's request: scopes the credits view to one seat of a SEAT_BASED subscription, showing only that seat's own credits and the pool it draws on"),
  })
  .superRefine((body, context) => {
    if (body.seat_id !== undefined && body.dashboard !== 'credits' && body.dashboard !== 'commits_and_credits') {
      context.addIssue({ code: 'custom', path: ['seat_id'], message: 'scopes only the credits (or commits_and_credits) dashboard to a seat' });
    }
    body.dashboard_options?.forEach((option, index) => {
      const schema = Object.hasOwn(DASHBOARD_OPTIONS, option.key) ? DASHBOARD_OPTIONS[option.key as keyof typeof DASHBOARD_OPTIONS] : undefined;
      if (!schema) {
        context.addIssue({ code: 'custom', path: ['dashboard_options', index, 'key'], message: `must be one of ${Object.keys(DASHBOARD_OPTIONS).join(', ')}` });
        return;
      }
      const parsed = schema.safeParse(option.value);
      if (!parsed.success) context.addIssue({ code: 'custom', path: ['dashboard_options', index, 'value'], message: parsed.error.issues[0]!.message });
    });
  });

/** The most group keys a controls URL may open to capping. */
export const MAX_CONTROL_GROUP_KEYS = 10;

const bound = decimalInput
  .refine((value) => value.gt(0), 'must be more than 0')
  .refine((value) => value.lt('1e18'), 'must be less than 10^18')
  .refine((value) => value.decimalPlaces() <= 12, 'must have at most 12 decimal places');

/**
 * `POST /v1/allot/dashboards/controls-url` (Allot's own): a signed URL for the `controls` view, in
 * which the customer's admin sets per-group caps and spend alerts within the bounds given here.
 */
export const controlsUrlBody = z.strictObject({
  customer_id: z.string().min(1, 'must not be empty'),
  credit_type_id: z.string().min(1, 'must not be empty').describe('The pricing unit every cap and alert of the view is in (USD cents, or a custom unit)'),
  group_keys: z
    .array(text().min(1, 'must not be empty').max(256))
    .min(1, 'must name at least one group key, e.g. ["user_id"]')
    .max(MAX_CONTROL_GROUP_KEYS, `at most ${MAX_CONTROL_GROUP_KEYS} keys`)
    .refine((keys) => new Set(keys).size === keys.length, 'names each key once')
    .describe('The group properties the customer may cap and alert on (`user_id`, `team`): each must be a group key of a live billable metric'),
  max_cap_amount: bound.describe('The largest cap the customer may set, in the pricing unit (cents for USD)'),
  max_alert_threshold: bound.optional().describe('The largest spend alert threshold the customer may set; `max_cap_amount` when absent'),
  color_overrides: colorOverrides,
  bm_group_key_overrides: groupKeyOverrides,
});
export type ControlsUrlBody = z.infer<typeof controlsUrlBody>;
