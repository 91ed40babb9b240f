import type { ServiceContext } from '../../lib/context.js';
import { toRfc3339 } from '../../lib/time.js';
import * as account from '../account/service.js';
import * as customers from '../customers/service.js';
import * as webhooks from '../webhooks/service.js';
import * as repo from './repo.js';

/**
 * Writes `credit.segment.start` and `credit.segment.end` webhooks for the customer's credit
 * segments that started or ended by now (`account.segmentEventsDue`), shaped like Metronome's
 * system notifications. Each event is written once however often this runs (its dedupe key is
 * its type and segment). Returns how many were new.
 */
export async function announceCreditSegments(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<number> {
  const now = ctx.clock.now();
  const { balances } = await account.customerAccount(ctx, { tenantId, customerId });
  const dedupeKey = (event: account.SegmentEvent) => `${event.type}:${event.segmentId}`;
  const candidates = account.segmentEventsDue(balances, now);
  // Most looks find everything already announced: then nothing is written.
  const written = await webhooks.writtenDedupeKeys(ctx.db, tenantId, candidates.map(dedupeKey));
  const due = candidates.filter((event) => !written.has(dedupeKey(event)));
  if (due.length === 0) return 0;
  const [customer, contracts] = await Promise.all([customers.getCustomer(ctx, { tenantId, customerId }), repo.listContracts(ctx.db, tenantId, customerId)]);
  const grants = new Map(balances.map((balance) => [balance.id, balance]));
  const contractFields = new Map(contracts.map((contract) => [contract.id, contract.custom_fields]));
  const announced = await ctx.db.transaction(async (tx) => {
    let count = 0;
    for (const event of due) {
      const grant = grants.get(event.grantId)!;
      const id = await webhooks.enqueueWebhookEvent(tx, {
        tenantId,
        type: event.type,
        at: now,
        dedupeKey: dedupeKey(event),
        fields: {
          timestamp: toRfc3339(event.at),
          environment_type: 'PRODUCTION',
          credit_id: grant.id,
          credit_custom_fields: grant.customFields,
          contract_id: grant.contractId,
          contract_custom_fields: grant.contractId ? (contractFields.get(grant.contractId) ?? {}) : null,
          parent_recurring_credit_id: grant.recurringId,
          segment_index: event.segmentIndex,
          segment_count: event.segmentCount,
          segment_id: event.segmentId,
          customer_id: customerId,
          customer_custom_fields: customer.custom_fields,
        },
      });
      if (id) count += 1;
    }
    return count;
  });
  if (announced > 0) webhooks.signalOutboxWritten(ctx, tenantId);
  return announced;
}
