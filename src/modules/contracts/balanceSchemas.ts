import { z } from 'zod';
import { decimalInput } from '../../lib/money.js';
import { text } from '../../lib/text.js';
import { instant } from '../../lib/time.js';
import { id } from './schemas.js';

/** Request schemas of balance reads and manual ledger entries, shaped as `@metronome/sdk` sends them. */

const balanceWindow = {
  covering_date: instant.optional(),
  starting_at: instant.optional(),
  effective_before: instant.optional(),
  include_archived: z.boolean().optional(),
  include_balance: z.boolean().optional(),
  include_ledgers: z.boolean().optional(),
  limit: z.number().int().min(1).max(100).optional(),
  next_page: z.string().nullable().optional(),
};

export const listBalancesBody = z.strictObject({
  customer_id: id,
  id: id.optional(),
  exclude_zero_balances: z.boolean().optional(),
  include_contract_balances: z.boolean().optional(),
  ...balanceWindow,
});

export const listCustomerCreditsBody = z.strictObject({
  customer_id: id,
  credit_id: id.optional(),
  include_contract_credits: z.boolean().optional(),
  ...balanceWindow,
});

export const listCustomerCommitsBody = z.strictObject({
  customer_id: id,
  commit_id: id.optional(),
  include_contract_commits: z.boolean().optional(),
  ...balanceWindow,
});

export const netBalanceBody = z.strictObject({
  customer_id: id,
  credit_type_id: id.optional(),
  filters: z
    .array(
      z.strictObject({
        balance_types: z.array(z.enum(['PREPAID_COMMIT', 'POSTPAID_COMMIT', 'CREDIT'])).optional(),
        custom_fields: z.record(z.string(), z.string()).optional(),
        ids: z.array(id).optional(),
      }),
    )
    .optional(),
  invoice_inclusion_mode: z.enum(['FINALIZED', 'FINALIZED_AND_DRAFT']).optional(),
});

export const manualEntryBody = z.strictObject({
  id,
  customer_id: id,
  segment_id: id,
  amount: decimalInput,
  reason: text().min(1, 'must not be empty').max(1024),
  contract_id: id.optional(),
  timestamp: instant.optional(),
});
