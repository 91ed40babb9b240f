import { z } from 'zod';
import { id, nonNegativeDecimal } from './fieldSchemas.js';
import { decimalInput } from '../../lib/money.js';
import { text } from '../../lib/text.js';
import { hourInstant } from '../../lib/time.js';

/** `overrides` of `v1.contracts.create` and `add_overrides` of `v2.contracts.edit`, as `@metronome/sdk` sends them (rule 9). */


/** A field of Metronome's that Allot does not build: present at all, it is a 400 saying why. */
const unsupported = (why: string) =>
  z
    .unknown()
    .refine((value) => value === undefined, why)
    .optional();

const commitSpecific = 'commit-specific overrides are not supported; an override applies to the contract\'s list rates';

const overrideSpecifier = z.strictObject({
  product_id: id.optional(),
  product_tags: z.array(text().min(1)).min(1, 'must hold at least one tag').max(100).optional(),
  pricing_group_values: unsupported('overrides by pricing group values are not supported; target products by product_id or product_tags'),
  presentation_group_values: unsupported('overrides by presentation group values are not supported; target products by product_id or product_tags'),
  billing_frequency: unsupported('overrides of subscription rates are not supported; overrides change usage prices'),
  commit_ids: unsupported(commitSpecific),
  recurring_commit_ids: unsupported(commitSpecific),
  any_commit_or_credit_ids: unsupported(commitSpecific),
});

const overwriteRate = z
  .strictObject({
    rate_type: z
      .enum(['FLAT', 'PERCENTAGE', 'SUBSCRIPTION', 'TIERED', 'TIERED_PERCENTAGE', 'CUSTOM'])
      .refine((value) => value === 'FLAT' || value === 'TIERED', 'only FLAT and TIERED overwrites are supported'),
    credit_type_id: id.optional(),
    price: nonNegativeDecimal.optional(),
    tiers: z.array(z.strictObject({ size: decimalInput.optional(), price: decimalInput })).max(100, 'at most 100 tiers').optional(),
    is_prorated: unsupported('overwrites of subscription rates are not supported'),
    quantity: unsupported('overwrites of subscription rates are not supported'),
    custom_rate: unsupported('CUSTOM rates are not supported'),
  })
  .superRefine((rate, context) => {
    if (rate.rate_type === 'FLAT' && rate.price === undefined) context.addIssue({ code: 'custom', path: ['price'], message: 'is required for a FLAT overwrite' });
    if (rate.rate_type === 'FLAT' && rate.tiers !== undefined) context.addIssue({ code: 'custom', path: ['tiers'], message: 'must be omitted for a FLAT overwrite' });
    if (rate.rate_type === 'TIERED' && rate.tiers === undefined) context.addIssue({ code: 'custom', path: ['tiers'], message: 'is required for a TIERED overwrite' });
    if (rate.rate_type === 'TIERED' && rate.price !== undefined) context.addIssue({ code: 'custom', path: ['price'], message: 'must be omitted for a TIERED overwrite' });
  });

/**
 * An override of the contract's list prices (`overrides` on create, `add_overrides` on edit): an
 * OVERWRITE or a MULTIPLIER, for the products named by `override_specifiers` or by the legacy
 * `product_id` / `applicable_product_tags`, from `starting_at` until `ending_before`.
 */
export const overrideInput = z
  .strictObject({
    starting_at: hourInstant,
    ending_before: hourInstant.optional(),
    type: z.enum(['OVERWRITE', 'MULTIPLIER', 'TIERED']).refine((value) => value !== 'TIERED', 'TIERED overrides are not supported; use OVERWRITE or MULTIPLIER').optional(),
    override_specifiers: z.array(overrideSpecifier).min(1, 'must hold at least one specifier').max(100).optional(),
    product_id: id.optional(),
    applicable_product_tags: z.array(text().min(1)).min(1, 'must hold at least one tag').max(100).optional(),
    entitled: z.boolean().optional(),
    multiplier: nonNegativeDecimal.optional(),
    overwrite_rate: overwriteRate.optional(),
    priority: decimalInput.refine((value) => value.gt(0), 'must be greater than 0').optional(),
    is_commit_specific: z.boolean().refine((value) => !value, commitSpecific).optional(),
    target: unsupported(`target applies to commit-specific overrides; ${commitSpecific}`),
    tiers: unsupported('TIERED overrides are not supported; use OVERWRITE or MULTIPLIER'),
  })
  .superRefine((override, context) => {
    const issue = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (override.ending_before && override.ending_before <= override.starting_at) issue('ending_before', 'must be after starting_at');
    const legacy = override.product_id !== undefined || override.applicable_product_tags !== undefined;
    if (override.override_specifiers && legacy) {
      issue(override.product_id !== undefined ? 'product_id' : 'applicable_product_tags', 'cannot be used with override_specifiers');
    } else if (!override.override_specifiers && !legacy) {
      issue('override_specifiers', 'is required: name the products the override applies to (or give product_id or applicable_product_tags)');
    }
    if (override.product_id !== undefined && override.applicable_product_tags !== undefined) issue('applicable_product_tags', 'give product_id or applicable_product_tags, not both');
    override.override_specifiers?.forEach((specifier, index) => {
      if (specifier.product_id === undefined && specifier.product_tags === undefined) {
        context.addIssue({ code: 'custom', path: ['override_specifiers', index], message: 'needs product_id or product_tags' });
      }
    });
    if (override.type === undefined) issue('type', 'is required: OVERWRITE or MULTIPLIER');
    if (override.type === 'OVERWRITE') {
      if (!override.overwrite_rate) issue('overwrite_rate', 'is required for an OVERWRITE override');
      if (override.multiplier !== undefined) issue('multiplier', 'must be omitted for an OVERWRITE override');
    }
    if (override.type === 'MULTIPLIER') {
      if (override.multiplier === undefined) issue('multiplier', 'is required for a MULTIPLIER override');
      if (override.overwrite_rate) issue('overwrite_rate', 'must be omitted for a MULTIPLIER override');
    }
  });
export type OverrideInput = z.infer<typeof overrideInput>;
