import { z } from 'zod';
import { decimalInput } from '../../lib/money.js';
import { hourInstant } from '../../lib/time.js';

const id = z.string().min(1, 'must not be empty');

const rateChange = z.strictObject({
  product_id: id,
  starting_at: hourInstant,
  rate_type: z.enum(['FLAT', 'TIERED'], { error: 'must be FLAT or TIERED' }),
  price: decimalInput.optional(),
  tiers: z.array(z.strictObject({ size: decimalInput.optional(), price: decimalInput })).max(100, 'at most 100 tiers').optional(),
  credit_type_id: id.optional(),
  pricing_group_values: z.record(z.string(), z.string()).optional(),
});

/** `POST /v1/allot/pricing/simulations`: the window, who, in which credit type, and the scenario. */
export const simulationBody = z.strictObject({
  starting_on: hourInstant,
  ending_before: hourInstant,
  customer_ids: z.array(id).min(1, 'must name at least one customer, or be left out for all').max(10_000, 'at most 10,000 customers').optional(),
  credit_type_id: id.optional(),
  rate_card_id: id.optional(),
  rate_changes: z.array(rateChange).max(100, 'at most 100 rate changes').optional(),
  contract_changes: z
    .strictObject({
      credits_per_seat: decimalInput.optional(),
      seat_price: decimalInput.optional(),
    })
    .optional(),
});

export type SimulationBody = z.infer<typeof simulationBody>;

const customerResult = z.object({
  customer_id: z.string(),
  credit_type_id: z.string().describe('The pricing unit the credits are counted in: the request’s, or the customer’s pooled credit’s'),
  actual_total: z.number().describe('The replayed periods’ invoices under the current terms, in cents'),
  simulated_total: z.number().describe('The same under the scenario, in cents'),
  credits_burned_actual: z.number(),
  credits_burned_simulated: z.number(),
  runs_out_at_actual: z.string().nullable(),
  runs_out_at_simulated: z.string().nullable(),
  crosses_pool_simulated: z.boolean(),
  burn_down: z
    .array(z.object({ date: z.string(), actual_remaining: z.number().nullable(), simulated_remaining: z.number().nullable() }))
    .describe('The pool of `credit_type_id` at the window’s start, each UTC midnight in it and its end (or now): what remains under the current terms and simulated, never below 0; null when no pool is active then'),
});

export const simulationSummaryOut = z.object({
  id: z.string(),
  status: z.enum(['queued', 'running', 'completed', 'cancelled', 'failed']),
  percent: z.number().describe('Customers replayed, out of 100'),
  created_at: z.string(),
  starting_on: z.string(),
  ending_before: z.string(),
  customer_count: z.number(),
  error: z.string().nullable(),
  totals: z.object({ actual: z.number(), simulated: z.number() }).describe('The customers replayed so far, in cents'),
});

export const simulationOut = simulationSummaryOut.extend({ customers: z.array(customerResult) });
