import { z } from 'zod';
import { isUuid } from '../../lib/ids.js';
import { pageQuery } from '../../lib/pagination.js';
import { customFields } from '../../lib/customFields.js';
import { text, truncate } from '../../lib/text.js';
import { customerBillingConfigurationInput } from '../billingProviders/service.js';

/** Metronome truncates names to 160 characters rather than rejecting them; so does Allot. */
const NAME_LENGTH = 160;
const name = text()
  .trim()
  .min(1, 'must not be empty')
  .transform((value) => truncate(value, NAME_LENGTH));
const alias = text()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .refine((value) => value.trim() === value, 'must not start or end with whitespace');
const aliases = z.array(alias).max(100, 'at most 100 aliases');
export const createCustomerBody = z.strictObject({
  name,
  ingest_aliases: aliases.optional(),
  custom_fields: customFields.optional(),
  external_id: alias.optional().describe('Deprecated in favour of ingest_aliases; taken as the first ingest alias'),
  customer_billing_provider_configurations: z
    .array(customerBillingConfigurationInput)
    .max(1, 'at most one: a customer has one live Stripe configuration')
    .optional()
    .describe('Set as v1.customers.setBillingConfigurations would, in the transaction that creates the customer'),
});

/** `v1.customers.updateConfig`. Allot keeps no Salesforce ids: only null (none) is taken. */
export const updateConfigBody = z.strictObject({
  leave_stripe_invoices_in_draft: z.boolean().nullable().optional(),
  salesforce_account_id: z.null({ error: 'Allot keeps no Salesforce account ids: only null is taken' }).optional(),
});

export const customerIdParams = z.object({ customer_id: z.string() });
export const archiveCustomerBody = z.strictObject({ id: z.string().min(1) });
export const setIngestAliasesBody = z.strictObject({ ingest_aliases: aliases });
export const setNameBody = z.strictObject({ name });

/** Query values arrive as text; arrays as `a,b` (the SDK's format) or as a repeated parameter. */
const idList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).filter(Boolean))
  .pipe(z.array(z.string().refine(isUuid, 'is not a customer id')).max(100, 'at most 100 ids'));

export const listCustomersQuery = pageQuery.extend({
  ingest_alias: text().optional(),
  customer_ids: idList.optional(),
  only_archived: z.enum(['true', 'false']).transform((value) => value === 'true').optional(),
});

/** `Customer` in the SDK: what create and setName return. */
export const customer = z.object({
  id: z.string(),
  external_id: z.string(),
  ingest_aliases: z.array(z.string()),
  name: z.string(),
  custom_fields: z.record(z.string(), z.string()),
});

/** `CustomerDetail` in the SDK: what retrieve and list return. */
export const customerDetail = customer.extend({
  created_at: z.string(),
  updated_at: z.string(),
  archived_at: z.string().nullable(),
  customer_config: z.object({ salesforce_account_id: z.null(), leave_stripe_invoices_in_draft: z.boolean().nullable() }),
});
