import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Frequency } from '../../../lib/periods.js';
import type { ContractRow, QuantityChangeRow, RecurringGrantRow, SubscriptionRow } from '../../contracts/repo.js';
import { deriveRecurringGrants } from './derivedGrants.js';
import { contractTerms } from './terms.js';

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;
const APRIL = at('2024-04-01T00:00:00Z');

const contract: ContractRow = {
  id: 'k',
  customer_id: 'c',
  name: null,
  starting_at: APRIL,
  ending_before: null,
  rate_card_id: 'rc',
  statement_frequency: 'MONTHLY',
  statement_day: 'FIRST_OF_MONTH',
  statement_anchor: APRIL,
  net_payment_terms_days: null,
  custom_fields: {},
  uniqueness_key: null,
  billing_provider_configuration_id: null,
  created_at: APRIL,
  archived_at: null,
  multiplier_override_prioritization: 'LOWEST_MULTIPLIER',
};
const subscription = (billingFrequency: Frequency): SubscriptionRow => ({
  id: 's',
  contract_id: 'k',
  customer_id: 'c',
  product_id: 'seats',
  billing_frequency: billingFrequency,
  collection_schedule: 'ADVANCE',
  is_prorated: true,
  invoice_behavior: 'BILL_ON_NEXT_COLLECTION_DATE',
  billing_anchor: APRIL,
  invoice_placement: 'ON_USAGE_INVOICE',
  starting_at: APRIL,
  ending_before: null,
  name: null,
  description: null,
  custom_fields: {},
  created_at: APRIL,
  quantity_management_mode: 'QUANTITY_ONLY',
  seat_group_key: null,
});
const credit = (recurrenceFrequency: Frequency): RecurringGrantRow => ({
  id: '0190a000-0000-7000-8000-000000000001',
  contract_id: 'k',
  customer_id: 'c',
  kind: 'CREDIT',
  product_id: 'p',
  credit_type_id: 'ai',
  unit_price: '100',
  quantity: null,
  priority: '1',
  applicable_product_ids: null,
  applicable_product_tags: null,
  starting_at: APRIL,
  ending_before: null,
  recurrence_frequency: recurrenceFrequency,
  proration: 'FIRST_AND_LAST',
  rollover_fraction: null,
  duration_periods: 1,
  subscription_id: 's',
  seat_increase_prorated: true,
  allocation: 'POOLED',
  rate_type: 'LIST_RATE',
  name: null,
  description: null,
  created_at: APRIL,
});
const change = (iso: string, sequence: number, quantity: { quantity?: number; delta?: number }, recordedAt = at(iso)): QuantityChangeRow => ({
  subscription_id: 's',
  sequence,
  starting_at: at(iso),
  quantity: quantity.quantity ?? null,
  quantity_delta: quantity.delta ?? null,
  created_at: recordedAt,
});

function derive({ seats, credits, changes, now }: { seats: Frequency; credits: Frequency; changes: QuantityChangeRow[]; now: Date }) {
  const { sources } = contractTerms([contract], { subscriptions: [subscription(seats)], changes, recurring: [credit(credits)], overrides: [] });
  return deriveRecurringGrants({ source: sources[0]!.source, recorded: new Map(), now });
}
const entries = (grants: ReturnType<typeof derive>) =>
  grants.map((grant) => grant.segments[0]!.ledger.entries.map((entry) => [entry.kind, entry.timestamp.toISOString().slice(0, 10), entry.amount.toFixed()]));

describe('a recurring credit linked to a subscription on its own frequency', () => {
  it('grants 100 per seat each month on 10 ANNUAL seats: 1,000 in April, +5 seats on April 16 add 250, May grants 1,500', () => {
    const changes = [change('2024-04-01T00:00:00Z', 0, { quantity: 10 }), change('2024-04-16T00:00:00Z', 1, { delta: 5 })];
    expect(entries(derive({ seats: 'ANNUAL', credits: 'MONTHLY', changes, now: at('2024-05-10T00:00:00Z') }))).toEqual([
      [
        ['SEGMENT_START', '2024-04-01', '1000'],
        ['SEAT_BASED_ADJUSTMENT', '2024-04-16', '250'],
        ['EXPIRATION', '2024-05-01', '-1250'],
      ],
      [['SEGMENT_START', '2024-05-01', '1500']],
    ]);
  });

  it('keeps the high-water mark per credit period: 10 → 5 → 12 in May grants 200 more, over the month of May', () => {
    const changes = [change('2024-04-01T00:00:00Z', 0, { quantity: 10 }), change('2024-05-05T00:00:00Z', 1, { quantity: 5 }), change('2024-05-17T00:00:00Z', 2, { quantity: 12 })];
    const may = derive({ seats: 'ANNUAL', credits: 'MONTHLY', changes, now: at('2024-05-20T00:00:00Z') })[1]!;
    // 2 seats above May's high-water mark of 10, with 15 of May's 31 days left: 3000/31, rounded once to 20 decimals.
    expect(may.segments[0]!.ledger.entries.map((entry) => entry.amount.toFixed())).toEqual(['1000', '96.77419354838709677419']);
  });

  it('property: what it grants does not depend on the subscription’s billing frequency', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<[Frequency, Frequency]>(['MONTHLY', 'ANNUAL'], ['MONTHLY', 'QUARTERLY'], ['QUARTERLY', 'ANNUAL']),
        fc.array(fc.record({ atHours: fc.integer({ min: 0, max: 24 * 400 }), quantity: fc.integer({ min: 0, max: 200 }), lateHours: fc.integer({ min: 0, max: 24 * 20 }) }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 24 * 420 }),
        ([credits, seats], steps, nowHours) => {
          const changes = [
            change('2024-04-01T00:00:00Z', 0, { quantity: 10 }),
            ...steps.map((step, i) => {
              const startingAt = new Date(APRIL.getTime() + step.atHours * HOUR);
              return change(startingAt.toISOString(), i + 1, { quantity: step.quantity }, new Date(startingAt.getTime() + step.lateHours * HOUR));
            }),
          ];
          const now = new Date(APRIL.getTime() + nowHours * HOUR);
          // The same credit linked to a subscription billed on the credit's own frequency, from the same anchor.
          expect(derive({ seats, credits, changes, now })).toEqual(derive({ seats: credits, credits, changes, now }));
        },
      ),
      { numRuns: 200 },
    );
  });
});
