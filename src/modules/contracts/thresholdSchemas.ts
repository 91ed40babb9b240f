import { z } from 'zod';
import { id } from './fieldSchemas.js';
import { decimalInput } from '../../lib/money.js';
import { text } from '../../lib/text.js';

/**
 * `prepaid_balance_threshold_configuration` (auto top-up) and `spend_threshold_configuration`
 * (threshold billing), as `@metronome/sdk` sends them on `v1.contracts.create` and in the `add_…`
 * and `update_…` forms of `v2.contracts.edit`. What Allot does not build is refused by name.
 */

const label = text().max(1024, 'must be at most 1024 characters');

const unsupported = (why: string) =>
  z
    .unknown()
    .refine((value) => value === undefined, why)
    .optional();

const paymentGateConfig = z
  .strictObject({
    payment_gate_type: z
      .enum(['NONE', 'STRIPE', 'EXTERNAL'])
      .refine((value) => value !== 'EXTERNAL', 'EXTERNAL is not supported: Allot collects through STRIPE, or releases the commit at once (NONE)'),
    stripe_config: z
      .strictObject({
        payment_type: z
          .enum(['INVOICE', 'PAYMENT_INTENT'])
          .refine((value) => value === 'INVOICE', 'PAYMENT_INTENT is not supported; Allot pays a Stripe invoice (INVOICE)'),
        invoice_metadata: z.record(z.string(), z.string()).optional(),
      })
      .optional(),
    tax_type: z
      .enum(['NONE', 'STRIPE', 'ANROK', 'PRECALCULATED'])
      .refine((value) => value === 'NONE', 'only NONE is supported: Allot calculates no tax')
      .optional(),
    precalculated_tax_config: unsupported('PRECALCULATED tax is not supported'),
  })
  .superRefine((gate, context) => {
    if (gate.stripe_config && gate.payment_gate_type !== 'STRIPE') {
      context.addIssue({ code: 'custom', path: ['stripe_config'], message: 'is only for payment_gate_type STRIPE' });
    }
  });
export type PaymentGateConfigInput = z.infer<typeof paymentGateConfig>;

const positive = decimalInput.refine((value) => value.gt(0), 'must be greater than 0');
const nonNegative = decimalInput.refine((value) => value.gte(0), 'must be 0 or more');
const productIds = z.array(id).max(1000);
const productTags = z.array(text().min(1)).max(1000);

const baseCommit = {
  product_id: id,
  description: label.optional(),
  name: label.optional(),
  priority: decimalInput.optional(),
};
const discountUnsupported = unsupported('discount_configuration is not supported: the threshold commit is charged at its amount');

export const prepaidBalanceThresholdInput = z
  .strictObject({
    commit: z.strictObject({
      ...baseCommit,
      applicable_product_ids: productIds.optional(),
      applicable_product_tags: productTags.optional(),
      specifiers: unsupported('specifiers are not supported; use applicable_product_ids or applicable_product_tags'),
    }),
    is_enabled: z.boolean(),
    payment_gate_config: paymentGateConfig,
    recharge_to_amount: positive,
    threshold_amount: nonNegative,
    custom_credit_type_id: id.optional(),
    discount_configuration: discountUnsupported,
    threshold_balance_specifiers: unsupported('threshold_balance_specifiers are not supported: every credit and commit of the pricing unit counts'),
  })
  .superRefine((configuration, context) => {
    if (!configuration.recharge_to_amount.gt(configuration.threshold_amount)) {
      context.addIssue({ code: 'custom', path: ['recharge_to_amount'], message: 'must be greater than threshold_amount' });
    }
  });
export type PrepaidBalanceThresholdInput = z.infer<typeof prepaidBalanceThresholdInput>;

/** `update_prepaid_balance_threshold_configuration`: any of the fields, merged over the stored configuration. */
export const prepaidBalanceThresholdUpdate = z.strictObject({
  commit: z
    .strictObject({
      product_id: id.optional(),
      description: label.optional(),
      name: label.optional(),
      priority: decimalInput.nullable().optional(),
      applicable_product_ids: productIds.nullable().optional(),
      applicable_product_tags: productTags.nullable().optional(),
      specifiers: unsupported('specifiers are not supported; use applicable_product_ids or applicable_product_tags'),
    })
    .optional(),
  is_enabled: z.boolean().optional(),
  payment_gate_config: paymentGateConfig.optional(),
  recharge_to_amount: positive.optional(),
  threshold_amount: nonNegative.optional(),
  custom_credit_type_id: id.nullable().optional(),
  discount_configuration: discountUnsupported,
  threshold_balance_specifiers: unsupported('threshold_balance_specifiers are not supported: every credit and commit of the pricing unit counts'),
});
export type PrepaidBalanceThresholdUpdate = z.infer<typeof prepaidBalanceThresholdUpdate>;

export const spendThresholdInput = z.strictObject({
  commit: z.strictObject(baseCommit),
  is_enabled: z.boolean(),
  payment_gate_config: paymentGateConfig,
  threshold_amount: positive,
  discount_configuration: discountUnsupported,
});
export type SpendThresholdInput = z.infer<typeof spendThresholdInput>;

/** `update_spend_threshold_configuration`: any of the fields, merged over the stored configuration. */
export const spendThresholdUpdate = z.strictObject({
  commit: z
    .strictObject({ product_id: id.optional(), description: label.optional(), name: label.optional(), priority: decimalInput.nullable().optional() })
    .optional(),
  is_enabled: z.boolean().optional(),
  payment_gate_config: paymentGateConfig.optional(),
  threshold_amount: positive.optional(),
  discount_configuration: discountUnsupported,
});
export type SpendThresholdUpdate = z.infer<typeof spendThresholdUpdate>;
