import { z } from 'zod';
import { isUuid } from '../../lib/ids.js';
import { pageQuery } from '../../lib/pagination.js';
import { text } from '../../lib/text.js';

const id = (what: string) => z.string().refine(isUuid, `is not a ${what} id`);

export {
  archiveBillingConfigurationsBody,
  billingConfiguration,
  createdBillingConfiguration,
  retrieveBillingConfigurationsBody,
  setBillingConfigurationsBody,
  STRIPE_DIRECT_DELIVERY_METHOD_ID,
  type SetBillingConfigurationsBody,
  type StripeConfiguration,
} from '../billingProviders/service.js';

// ---- subscription links (Allot extension)

const stripeId = (example: string) =>
  text()
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    .describe(`e.g. ${example}`);

export const createLinkBody = z.strictObject({
  customer_id: id('customer'),
  contract_id: id('contract'),
  subscription_id: id('subscription'),
  stripe_subscription_id: stripeId('sub_1MowQVLkdIwHu7ixeRlqHVzs'),
  stripe_price_id: stripeId('price_1MowQULkdIwHu7ixraBm864M'),
});

export const listLinksQuery = pageQuery.extend({ customer_id: id('customer').optional() });

export const link = z.object({
  id: z.string(),
  customer_id: z.string(),
  contract_id: z.string(),
  subscription_id: z.string(),
  stripe_subscription_id: z.string(),
  stripe_price_id: z.string(),
  last_event_id: z.string().nullable(),
  last_event_created: z.string().nullable(),
  created_at: z.string(),
});

// ---- invoice pushes (Allot extension)

export const invoiceSyncParams = z.object({ invoice_id: id('invoice') });

export const invoiceSync = z.object({
  invoice_id: z.string(),
  customer_id: z.string(),
  billing_provider_configuration_id: z.string(),
  status: z.enum(['pending', 'synced', 'skipped', 'failed', 'voided']),
  attempts: z.number(),
  next_attempt_at: z.string().nullable(),
  stripe_invoice_id: z.string().nullable(),
  skip_reason: z.string().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

// ---- Stripe webhook events: the part Allot reads

export const subscriptionEvent = z.object({
  id: z.string().min(1),
  type: z.string(),
  // Unix seconds, up to the end of the year 9999.
  created: z.number().int().min(0).max(253_402_300_799),
  data: z.object({
    object: z.object({
      id: z.string().min(1),
      object: z.literal('subscription'),
      items: z
        .object({
          data: z.array(z.object({ price: z.object({ id: z.string() }).nullable().optional(), quantity: z.number().int().min(0).optional() })),
          has_more: z.boolean().optional(),
        })
        .optional(),
    }),
  }),
});
