import { z } from 'zod';
import { customFields } from '../../lib/customFields.js';
import { decimalInput } from '../../lib/money.js';
import { text } from '../../lib/text.js';
import { exactInstant, hourInstant, instant } from '../../lib/time.js';
import { prepaidBalanceThresholdInput, prepaidBalanceThresholdUpdate, spendThresholdInput, spendThresholdUpdate } from './thresholdSchemas.js';
import { seatConfig, seatUpdatesInput } from './seatSchemas.js';
import { id, nonNegativeDecimal } from './fieldSchemas.js';
import { overrideInput } from './overrideSchemas.js';

export { id } from './fieldSchemas.js';

export { overrideInput, type OverrideInput } from './overrideSchemas.js';

/**
 * Request schemas of contracts, subscriptions, credits and commits, shaped as `@metronome/sdk`
 * sends them. Fields Allot does not support are absent, so a request carrying one is a 400 that
 * names it; a supported field with an unsupported value says so in its message.
 */

const label = text().max(1024, 'must be at most 1024 characters');
const frequency = z.enum(['MONTHLY', 'QUARTERLY', 'ANNUAL', 'WEEKLY']);
const quantity = z.number().int('must be a whole number').min(0, 'must be 0 or more').max(1_000_000_000);
const productIds = z.array(id).max(1000).optional();
const productTags = z.array(text().min(1)).max(1000).optional();

/** `rate_type`: only list rates exist in Allot, so COMMIT_RATE is refused rather than priced as a list rate. */
const rateType = z
  .enum(['LIST_RATE', 'COMMIT_RATE'])
  .refine((value) => value === 'LIST_RATE', 'COMMIT_RATE is not supported; credits and commits draw down at list rates')
  .optional();

export const subscriptionInput = z
  .strictObject({
    collection_schedule: z.enum(['ADVANCE', 'ARREARS']),
    proration: z.strictObject({
      invoice_behavior: z.enum(['BILL_IMMEDIATELY', 'BILL_ON_NEXT_COLLECTION_DATE']).optional(),
      is_prorated: z.boolean().optional(),
    }),
    subscription_rate: z.strictObject({ billing_frequency: frequency, product_id: id }),
    billing_cycle_config: z
      .strictObject({
        anchor_date: hourInstant.optional(),
        // Seat charges go on the usage invoice (Metronome's default); a scheduled invoice of their own is not built.
        invoice_placement: z
          .enum(['ON_SCHEDULED_INVOICE', 'ON_USAGE_INVOICE'])
          .refine((value) => value === 'ON_USAGE_INVOICE', 'ON_SCHEDULED_INVOICE is not supported; subscription charges go on the usage invoice (ON_USAGE_INVOICE)')
          .optional(),
      })
      .optional(),
    custom_fields: customFields.optional(),
    description: label.optional(),
    name: label.optional(),
    starting_at: hourInstant.optional(),
    ending_before: hourInstant.optional(),
    initial_quantity: quantity.optional(),
    quantity_management_mode: z.enum(['SEAT_BASED', 'QUANTITY_ONLY']).optional(),
    seat_config: seatConfig.optional(),
    temporary_id: text().min(1).max(256).optional(),
  })
  .superRefine((subscription, context) => {
    if (subscription.quantity_management_mode === 'SEAT_BASED') {
      if (!subscription.seat_config) context.addIssue({ code: 'custom', path: ['seat_config'], message: 'is required for a SEAT_BASED subscription' });
      if (subscription.initial_quantity !== undefined) {
        context.addIssue({ code: 'custom', path: ['initial_quantity'], message: 'must be left out for a SEAT_BASED subscription: its quantity is its seats (seat_config)' });
      }
    } else {
      if (subscription.seat_config) context.addIssue({ code: 'custom', path: ['seat_config'], message: 'is only for a SEAT_BASED subscription (quantity_management_mode)' });
      if (subscription.initial_quantity === undefined) {
        context.addIssue({ code: 'custom', path: ['initial_quantity'], message: 'is required for a QUANTITY_ONLY subscription' });
      }
    }
    if (subscription.collection_schedule === 'ARREARS' && subscription.proration.invoice_behavior === 'BILL_IMMEDIATELY') {
      context.addIssue({ code: 'custom', path: ['proration', 'invoice_behavior'], message: 'BILL_IMMEDIATELY needs collection_schedule ADVANCE' });
    }
  });
export type SubscriptionInput = z.infer<typeof subscriptionInput>;

const accessAmount = z.strictObject({ credit_type_id: id, unit_price: nonNegativeDecimal, quantity: nonNegativeDecimal.optional() });

export const recurringGrantInput = z
  .strictObject({
    access_amount: accessAmount,
    commit_duration: z.strictObject({ value: z.number().int('must be a whole number of periods').min(1).max(1000), unit: z.literal('PERIODS').optional() }),
    priority: decimalInput,
    product_id: id,
    starting_at: hourInstant,
    ending_before: hourInstant.optional(),
    applicable_product_ids: productIds,
    applicable_product_tags: productTags,
    description: label.optional(),
    name: label.optional(),
    proration: z.enum(['NONE', 'FIRST', 'LAST', 'FIRST_AND_LAST']).optional(),
    rate_type: rateType,
    recurrence_frequency: z
      .enum(['MONTHLY', 'QUARTERLY', 'ANNUAL', 'WEEKLY', 'DAILY'])
      .refine((value) => value !== 'DAILY', 'DAILY is not supported')
      .optional(),
    rollover_fraction: decimalInput.refine((value) => value.gte(0) && value.lte(1), 'must be between 0 and 1').optional(),
    subscription_config: z
      .strictObject({
        subscription_id: id,
        apply_seat_increase_config: z.strictObject({ is_prorated: z.boolean() }),
        allocation: z.enum(['POOLED', 'INDIVIDUAL']).optional(),
      })
      .optional(),
    temporary_id: text().min(1).max(256).optional(),
  })
  .superRefine((grant, context) => {
    if (!grant.subscription_config && grant.access_amount.quantity === undefined) {
      context.addIssue({ code: 'custom', path: ['access_amount', 'quantity'], message: 'is required unless subscription_config links a subscription' });
    }
    if (grant.ending_before && grant.ending_before <= grant.starting_at) {
      context.addIssue({ code: 'custom', path: ['ending_before'], message: 'must be after starting_at' });
    }
  });
export type RecurringGrantInput = z.infer<typeof recurringGrantInput>;

const accessSchedule = z.strictObject({
  schedule_items: z
    .array(z.strictObject({ amount: nonNegativeDecimal, starting_at: hourInstant, ending_before: hourInstant }))
    .min(1, 'needs at least one item')
    .max(1000)
    .superRefine((items, context) => {
      items.forEach((item, index) => {
        if (item.ending_before <= item.starting_at) context.addIssue({ code: 'custom', path: [index, 'ending_before'], message: 'must be after starting_at' });
      });
    }),
  credit_type_id: id.optional(),
});

const oneOffBase = {
  access_schedule: accessSchedule,
  product_id: id,
  applicable_product_ids: productIds,
  applicable_product_tags: productTags,
  custom_fields: customFields.optional(),
  description: label.optional(),
  name: label.optional(),
  priority: decimalInput.optional(),
  rate_type: rateType,
};

export const creditInput = z.strictObject(oneOffBase);
export type CreditInput = z.infer<typeof creditInput>;

export const commitInput = z.strictObject({
  ...oneOffBase,
  type: z.enum(['PREPAID', 'POSTPAID']).refine((value) => value === 'PREPAID', 'POSTPAID commits are not supported; use PREPAID'),
  temporary_id: text().min(1).max(256).optional(),
});
export type CommitInput = z.infer<typeof commitInput>;

const multiplierOverridePrioritization = z.enum(['LOWEST_MULTIPLIER', 'EXPLICIT']);

export const usageStatementSchedule = z
  .strictObject({
    frequency,
    day: z.enum(['FIRST_OF_MONTH', 'CONTRACT_START', 'CUSTOM_DATE']).optional(),
    billing_anchor_date: hourInstant.optional(),
  })
  .superRefine((schedule, context) => {
    if (schedule.day === 'CUSTOM_DATE' && !schedule.billing_anchor_date) {
      context.addIssue({ code: 'custom', path: ['billing_anchor_date'], message: 'is required when day is CUSTOM_DATE' });
    }
    if (schedule.day !== 'CUSTOM_DATE' && schedule.billing_anchor_date) {
      context.addIssue({ code: 'custom', path: ['billing_anchor_date'], message: 'is only allowed when day is CUSTOM_DATE' });
    }
  });

const uniquenessKey = text().min(1).max(128);

/**
 * Which of the customer's billing provider configurations the contract's invoices go through:
 * by id, or by provider and delivery method (Metronome's `billing_provider_configuration`).
 */
const billingProviderConfiguration = z
  .strictObject({
    billing_provider: z
      .enum(['aws_marketplace', 'azure_marketplace', 'gcp_marketplace', 'stripe', 'netsuite'])
      .refine((value) => value === 'stripe', 'must be stripe: Allot delivers invoices to Stripe only')
      .optional(),
    delivery_method: z
      .enum(['direct_to_billing_provider', 'aws_sqs', 'tackle', 'aws_sns'])
      .refine((value) => value === 'direct_to_billing_provider', 'must be direct_to_billing_provider: the only delivery method Allot has')
      .optional(),
    billing_provider_configuration_id: id.optional(),
  })
  .superRefine((selection, context) => {
    if (selection.billing_provider_configuration_id !== undefined) {
      for (const field of ['billing_provider', 'delivery_method'] as const) {
        if (selection[field] !== undefined) context.addIssue({ code: 'custom', path: [field], message: 'must be left out when billing_provider_configuration_id names the configuration' });
      }
      return;
    }
    for (const field of ['billing_provider', 'delivery_method'] as const) {
      if (selection[field] === undefined) context.addIssue({ code: 'custom', path: [field], message: 'is required unless billing_provider_configuration_id names the configuration' });
    }
  });

export const createContractBody = z.strictObject({
  customer_id: id,
  starting_at: hourInstant,
  ending_before: hourInstant.optional(),
  name: label.optional(),
  custom_fields: customFields.optional(),
  net_payment_terms_days: z.number().int().min(0).max(3650).optional(),
  rate_card_id: id.optional(),
  usage_statement_schedule: usageStatementSchedule.optional(),
  subscriptions: z.array(subscriptionInput).max(100).optional(),
  recurring_credits: z.array(recurringGrantInput).max(100).optional(),
  recurring_commits: z.array(recurringGrantInput).max(100).optional(),
  credits: z.array(creditInput).max(100).optional(),
  commits: z.array(commitInput).max(100).optional(),
  overrides: z.array(overrideInput).max(100).optional(),
  multiplier_override_prioritization: multiplierOverridePrioritization.optional(),
  uniqueness_key: uniquenessKey.optional(),
  billing_provider_configuration: billingProviderConfiguration.optional(),
  prepaid_balance_threshold_configuration: prepaidBalanceThresholdInput.optional(),
  spend_threshold_configuration: spendThresholdInput.optional(),
});
export type CreateContractBody = z.infer<typeof createContractBody>;

export const quantityUpdateInput = z
  .strictObject({
    // Seats change at any instant (Metronome states no hour rule here), kept to the millisecond.
    starting_at: exactInstant,
    quantity: quantity.optional(),
    quantity_delta: z
      .number()
      .int('must be a whole number')
      .min(-1_000_000_000)
      .max(1_000_000_000)
      .refine((value) => value !== 0, 'must not be 0')
      .optional(),
  })
  .superRefine((update, context) => {
    if ((update.quantity === undefined) === (update.quantity_delta === undefined)) {
      context.addIssue({ code: 'custom', path: [update.quantity === undefined ? 'quantity' : 'quantity_delta'], message: 'give exactly one of quantity and quantity_delta' });
    }
  });

/**
 * `update_subscriptions[]`: quantity changes (rule 7), seat changes of a SEAT_BASED subscription
 * (rule 28) and a new end (`ending_before`; null for none, so the subscription runs to the
 * contract's end). At least one of them.
 */
const subscriptionUpdateInput = z
  .strictObject({
    subscription_id: id,
    quantity_updates: z.array(quantityUpdateInput).min(1).max(100).optional(),
    seat_updates: seatUpdatesInput.optional(),
    ending_before: hourInstant.nullable().optional(),
  })
  .superRefine((update, context) => {
    if (update.quantity_updates === undefined && update.seat_updates === undefined && update.ending_before === undefined) {
      context.addIssue({ code: 'custom', path: ['quantity_updates'], message: 'give quantity_updates, seat_updates or ending_before' });
    }
  });

/**
 * `update_recurring_credits[]` / `update_recurring_commits[]`: a new end (`ending_before`; null
 * for none) and a new amount (`access_amount`: `unit_price`, `quantity` or both, in force from the
 * grant's first period starting at or after the edit). Only LIST_RATE exists; other fields the SDK
 * offers (`proration_rounding`, `invoice_amount`) are absent, so they are refused by name.
 */
const accessAmountUpdate = z
  .strictObject({ unit_price: nonNegativeDecimal.optional(), quantity: nonNegativeDecimal.optional() })
  .superRefine((amount, context) => {
    if (amount.unit_price === undefined && amount.quantity === undefined) {
      context.addIssue({ code: 'custom', path: ['unit_price'], message: 'give unit_price, quantity or both' });
    }
  });

const recurringGrantUpdate = {
  ending_before: hourInstant.nullable().optional(),
  access_amount: accessAmountUpdate.optional(),
  rate_type: rateType,
};

function requireAChange(update: { ending_before?: Date | null | undefined; access_amount?: unknown; rate_type?: unknown }, context: z.RefinementCtx): void {
  if (update.ending_before === undefined && update.access_amount === undefined && update.rate_type === undefined) {
    context.addIssue({ code: 'custom', path: ['ending_before'], message: 'give ending_before or access_amount: the changes a recurring grant takes' });
  }
}

const recurringCreditUpdateInput = z.strictObject({ recurring_credit_id: id, ...recurringGrantUpdate }).superRefine(requireAChange);
const recurringCommitUpdateInput = z.strictObject({ recurring_commit_id: id, ...recurringGrantUpdate }).superRefine(requireAChange);

export const editContractBody = z.strictObject({
  contract_id: id,
  customer_id: id,
  add_subscriptions: z.array(subscriptionInput).max(100).optional(),
  add_recurring_credits: z.array(recurringGrantInput).max(100).optional(),
  add_recurring_commits: z.array(recurringGrantInput).max(100).optional(),
  add_credits: z.array(creditInput).max(100).optional(),
  add_commits: z.array(commitInput).max(100).optional(),
  add_overrides: z.array(overrideInput).max(100).optional(),
  update_subscriptions: z.array(subscriptionUpdateInput).max(100).optional(),
  update_recurring_credits: z.array(recurringCreditUpdateInput).max(100).optional(),
  update_recurring_commits: z.array(recurringCommitUpdateInput).max(100).optional(),
  update_contract_name: label.nullable().optional(),
  update_contract_end_date: hourInstant.nullable().optional(),
  allow_contract_ending_before_finalized_invoice: z.boolean().optional(),
  uniqueness_key: uniquenessKey.optional(),
  add_prepaid_balance_threshold_configuration: prepaidBalanceThresholdInput.optional(),
  update_prepaid_balance_threshold_configuration: prepaidBalanceThresholdUpdate.optional(),
  add_spend_threshold_configuration: spendThresholdInput.optional(),
  update_spend_threshold_configuration: spendThresholdUpdate.optional(),
}).superRefine((edit, context) => {
  const { contract_id: _contract, customer_id: _customer, uniqueness_key: _key, allow_contract_ending_before_finalized_invoice: _allow, ...changes } = edit;
  if (Object.values(changes).every((value) => value === undefined || (Array.isArray(value) && value.length === 0))) {
    context.addIssue({ code: 'custom', path: [], message: 'an edit needs at least one change, e.g. update_subscriptions or add_recurring_credits' });
  }
});
export type EditContractBody = z.infer<typeof editContractBody>;

export const contractRef = z.strictObject({ customer_id: id, contract_id: id });

export const retrieveContractBody = z.strictObject({
  customer_id: id,
  contract_id: id,
  include_balance: z.boolean().optional(),
  include_ledgers: z.boolean().optional(),
});

export const listContractsBody = z.strictObject({
  customer_id: id,
  covering_date: instant.optional(),
  starting_at: instant.optional(),
  include_archived: z.boolean().optional(),
  include_balance: z.boolean().optional(),
  include_ledgers: z.boolean().optional(),
});

export const archiveContractBody = z.strictObject({ customer_id: id, contract_id: id, void_invoices: z.boolean().optional() });

/** `v1.contracts.updateEndDate`: no `ending_before` makes the contract open-ended. */
export const updateEndDateBody = z.strictObject({
  customer_id: id,
  contract_id: id,
  ending_before: hourInstant.optional(),
  allow_ending_before_finalized_invoice: z.boolean().optional(),
});

export const quantityHistoryBody = z.strictObject({ customer_id: id, contract_id: id, subscription_id: id });

export const createCustomerCreditBody = z.strictObject({
  ...oneOffBase,
  customer_id: id,
  priority: decimalInput,
  applicable_contract_ids: z.array(id).max(100).optional(),
});

export const createCustomerCommitBody = z.strictObject({
  ...oneOffBase,
  customer_id: id,
  priority: decimalInput,
  type: commitInput.shape.type,
  applicable_contract_ids: z.array(id).max(100).optional(),
});

export const idResponse = z.object({ data: z.object({ id: z.string() }) });
