import { z } from 'zod';
import { isUuid } from '../../lib/ids.js';
import { text } from '../../lib/text.js';

const id = (what: string) => z.string().refine(isUuid, `is not a ${what} id`);

/**
 * The delivery method Allot has for Stripe: invoices go straight to Stripe's API. Metronome gives
 * each account's delivery methods an id; Allot has this one, the same for every tenant.
 */
export const STRIPE_DIRECT_DELIVERY_METHOD_ID = '7d1ed6c6-2f0b-4f4a-9c55-1e0d6f6f7a01';

export const stripeConfiguration = z.strictObject({
  stripe_customer_id: text()
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    .describe('The Stripe customer invoices are created for, e.g. cus_NffrFeUfNV2Hib'),
  stripe_collection_method: z.enum(['charge_automatically', 'send_invoice'], {
    error: 'must be charge_automatically or send_invoice (the payment-intent methods are not supported)',
  }),
  days_until_due: z
    .number()
    .int('must be a whole number')
    .min(0, 'must be 0 or more')
    .max(365, 'must be at most 365')
    .optional()
    .describe('Allot extension: days_until_due of send_invoice invoices (default 30)'),
});
export type StripeConfiguration = z.infer<typeof stripeConfiguration>;

const billingProvider = z.enum(['stripe'], { error: 'must be stripe: Allot delivers invoices to Stripe only' });
const deliveryMethod = z.enum(['direct_to_billing_provider'], { error: 'must be direct_to_billing_provider: the only delivery method Allot has' });

const deliveryMethodId = z
  .string()
  .refine((value) => value === STRIPE_DIRECT_DELIVERY_METHOD_ID, `is not a delivery method of this server: its one (Stripe, direct_to_billing_provider) is ${STRIPE_DIRECT_DELIVERY_METHOD_ID}`);

/**
 * A Stripe configuration as Metronome's provisioning calls send it: `delivery_method`, or the id of
 * Allot's one delivery method as `delivery_method_id`, or both. `tax_provider` is refused as an
 * unknown field.
 */
const billingConfigurationFields = {
  billing_provider: billingProvider,
  delivery_method: deliveryMethod.optional(),
  delivery_method_id: deliveryMethodId.optional(),
  configuration: stripeConfiguration,
};

function requireDeliveryMethod(entry: { delivery_method?: string | undefined; delivery_method_id?: string | undefined }, context: z.RefinementCtx): void {
  if (entry.delivery_method === undefined && entry.delivery_method_id === undefined) {
    context.addIssue({ code: 'custom', path: ['delivery_method'], message: 'give delivery_method (direct_to_billing_provider) or delivery_method_id' });
  }
}

/** One of `customer_billing_provider_configurations` on `v1.customers.create`. */
export const customerBillingConfigurationInput = z.strictObject(billingConfigurationFields).superRefine(requireDeliveryMethod);
export type CustomerBillingConfigurationInput = z.infer<typeof customerBillingConfigurationInput>;

export const setBillingConfigurationsBody = z.strictObject({
  data: z
    .array(z.strictObject({ customer_id: id('customer'), ...billingConfigurationFields }).superRefine(requireDeliveryMethod))
    .min(1, 'must hold at least one configuration')
    .max(100, 'at most 100 configurations'),
});
export type SetBillingConfigurationsBody = z.infer<typeof setBillingConfigurationsBody>;

export const retrieveBillingConfigurationsBody = z.strictObject({
  customer_id: id('customer'),
  include_archived: z.boolean().optional(),
});

export const archiveBillingConfigurationsBody = z.strictObject({
  customer_id: id('customer'),
  customer_billing_provider_configuration_ids: z.array(id('billing provider configuration')).min(1, 'must name at least one configuration').max(100),
});

/** `CustomerRetrieveBillingConfigurationsResponse.Data` in the SDK. */
export const billingConfiguration = z.object({
  id: z.string(),
  customer_id: z.string(),
  billing_provider: z.string(),
  delivery_method: z.string(),
  delivery_method_id: z.string(),
  delivery_method_configuration: z.record(z.string(), z.unknown()),
  configuration: z.record(z.string(), z.unknown()),
  archived_at: z.string().nullable(),
});

/** `CustomerSetBillingConfigurationsResponse.Data` in the SDK. */
export const createdBillingConfiguration = z.object({
  id: z.string(),
  customer_id: z.string(),
  billing_provider: z.string(),
  delivery_method_id: z.string(),
  configuration: z.record(z.string(), z.unknown()),
});
