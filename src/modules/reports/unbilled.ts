import type { ServiceContext } from '../../lib/context.js';
import * as customers from '../customers/service.js';
import * as invoices from '../invoices/service.js';
import * as usage from '../usage/service.js';
import { checkWindow, type Window } from './window.js';

/** A finalised usage invoice whose period received events after it was finalised: usage no invoice billed. */
export interface UnbilledUsageRow {
  customerId: string;
  contractId: string;
  invoiceId: string;
  startingAt: Date;
  endingBefore: Date;
  finalizedAt: Date;
  /** The customer's events dated in the period and received after the invoice was finalised. */
  lateEvents: number;
  firstReceivedAt: Date;
  lastReceivedAt: Date;
}

/**
 * Usage that reached no invoice, per customer and period: for each finalised usage invoice whose
 * period starts in the window, the customer's events dated in that period and received after the
 * invoice was finalised (after the tenant's grace period). A finalised invoice never changes, so
 * these events are billed nowhere; each row is a failing check. Events no billable metric matches
 * are counted too: the report does not judge what they would have cost.
 */
export async function unbilledUsageReport(
  ctx: ServiceContext,
  { tenantId, window, customerId }: { tenantId: string; window: Window; customerId?: string | undefined },
): Promise<UnbilledUsageRow[]> {
  checkWindow(window);
  if (customerId) await customers.getCustomer(ctx, { tenantId, customerId });
  const finalized = (await invoices.invoicesStartingBetween(ctx, { tenantId, ...window })).filter(
    (invoice) => invoice.type === 'USAGE' && invoice.status === 'FINALIZED' && invoice.finalizedAt && (!customerId || invoice.customerId === customerId.toLowerCase()),
  );
  const late = await usage.eventsReceivedAfter(ctx, {
    tenantId,
    windows: finalized.map((invoice) => ({ customerId: invoice.customerId, from: invoice.period.startingAt, to: invoice.period.endingBefore, after: invoice.finalizedAt! })),
  });
  return late
    .map(({ index, events, firstReceivedAt, lastReceivedAt }) => {
      const invoice = finalized[index]!;
      return {
        customerId: invoice.customerId,
        contractId: invoice.contractId,
        invoiceId: invoice.id,
        startingAt: invoice.period.startingAt,
        endingBefore: invoice.period.endingBefore,
        finalizedAt: invoice.finalizedAt!,
        lateEvents: events,
        firstReceivedAt,
        lastReceivedAt,
      };
    })
    .sort((a, b) => a.startingAt.getTime() - b.startingAt.getTime() || (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
}
