import { announceAccountChange, inTransaction, type ServiceContext } from '../../lib/context.js';
import { Decimal } from '../../lib/money.js';
import { periodsBetween, type Period, type PeriodSchedule } from '../../lib/periods.js';
import {
  customerAccount,
  customerContracts,
  invoiceIdFor,
  loadContracts,
  statementPeriodAt,
  statementScheduleOf,
  type Draft,
  type Subscription,
} from '../account/service.js';
import * as credits from '../credits/service.js';
import * as tenants from '../tenants/service.js';
import { finalizedLines } from './compute/buildInvoice.js';
import * as repo from './repo.js';
import { billImmediateIncreases } from './immediate.js';
import { draftInvoice } from './service.js';
import { store } from './store.js';

/** What one close of a customer wrote. */
export interface CloseResult {
  finalized: string[];
}

/** The statement periods of a contract that have ended by `cutoff` and have no invoice yet, oldest first. */
export function periodsToClose(schedule: PeriodSchedule, closedUntil: Date | null, cutoff: Date): Period[] {
  const from = closedUntil ?? schedule.startingAt;
  return periodsBetween(schedule, { from, to: cutoff }).filter((period) => period.startingAt >= from && period.endingBefore <= cutoff);
}

/**
 * Closes every period of the customer's live contracts whose grace period (the tenant's
 * `invoice_grace_period_hours`) has passed by the clock's now (oldest first, so each sees the deductions of the ones before), and writes the invoices of
 * seat increases billed immediately that the clock has reached. One transaction under a lock on
 * the customer: a second run, in this process or another, waits and then finds the invoices
 * written (their ids are derived from the contract and period), so nothing is written twice.
 *
 * Closing a period finalises its draft as it stood at the period's last instant: fiat lines
 * rounded to whole cents, the invoice stored, what each credit or commit paid recorded in its
 * ledger as an `AUTOMATED_INVOICE_DEDUCTION` (dated at the invoice's date, or the segment's end
 * when that comes first), and an `invoice.finalized` webhook written to the outbox.
 */
export async function closeCustomer(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    closedUntil,
  }: {
    tenantId: string;
    customerId: string;
    /**
     * Where each contract's close stands, when the caller has just read it (a run's discovery).
     * An out-of-date value costs only work: a period closed meanwhile is found by its invoice id
     * and skipped.
     */
    closedUntil?: ReadonlyMap<string, Date | null> | undefined;
  },
): Promise<CloseResult> {
  const finalized: string[] = [];
  await inTransaction(ctx, async (tx) => {
    // What a close writes is derived and idempotent: a crash that loses a just-committed close
    // loses nothing, as the next run writes the same invoice again. So its commit need not wait for
    // the WAL flush, which is most of its cost when thousands of contracts close at once.
    await repo.lockCustomerClose(tx.db, tenantId, customerId);
    const now = tx.clock.now();
    const [all, settings] = await Promise.all([customerContracts(tx, { tenantId, customerId }), tenants.settingsOfTenant(tx, tenantId)]);
    const cutoff = tenants.graceCutoff(now, settings);
    const contracts = all.filter((contract) => !contract.archived_at && contract.rate_card_id);
    if (contracts.length === 0) return;
    const hinted = closedUntil && contracts.every((contract) => closedUntil.has(contract.id));
    const closed = hinted ? closedUntil : await repo.closedUntil(tx.db, tenantId, contracts.map((contract) => contract.id));
    const due = contracts
      .flatMap((contract) => periodsToClose(statementScheduleOf(contract), closed.get(contract.id) ?? null, cutoff).map((period) => ({ contract, period })))
      .sort((a, b) => a.period.endingBefore.getTime() - b.period.endingBefore.getTime());
    let subscriptions: Subscription[] | undefined;
    for (const { contract, period } of due) {
      const lastInstant = new Date(period.endingBefore.getTime() - 1);
      // The account as it stood at the period's last instant: the period is still the open one there.
      // Another contract's period that ends at the same instant may be finalised already (just now, or
      // by an earlier run): its draws are in the ledgers, and must not be drawn a second time.
      const others = contracts.flatMap((other) => {
        const open = other.id === contract.id ? undefined : statementPeriodAt(other, lastInstant);
        return open ? [invoiceIdFor(other.id, open)] : [];
      });
      const finalizedOthers = await repo.existingInvoiceIds(tx.db, tenantId, others);
      const account = await customerAccount({ ...tx, clock: { now: () => lastInstant } }, { tenantId, customerId, contracts: all, finalized: finalizedOthers });
      subscriptions = account.loaded.subscriptions;
      const draft = account.drafts.find((d) => d.contractId === contract.id && d.period.startingAt.getTime() === period.startingAt.getTime());
      if (!draft) continue;
      const segments = new Map(account.current.flatMap((balance) => balance.segments.map((segment) => [segment.id, segment] as const)));
      const invoice = await finalizeDraft(tx, { tenantId, draft, segments, now });
      if (invoice) finalized.push(invoice);
    }
    subscriptions ??= (await loadContracts(tx, tenantId, all)).subscriptions;
    finalized.push(...(await billImmediateIncreases(tx, { tenantId, contracts, subscriptions, now })));
    // The recorded deductions now stand in the ledgers instead of the drafts' live ones.
    if (finalized.length > 0) await announceAccountChange(tx, { tenantId, customerIds: [customerId], cause: 'invoice' });
  });
  return { finalized };
}

async function finalizeDraft(
  tx: ServiceContext,
  { tenantId, draft, segments, now }: { tenantId: string; draft: Draft; segments: ReadonlyMap<string, { endingBefore: Date; ledger: { held: Decimal } }>; now: Date },
): Promise<string | undefined> {
  const invoice = draftInvoice(draft);
  // What each segment held for this invoice: what it holds with the invoice's draws, plus those draws.
  const room = new Map<string, Decimal>();
  for (const line of invoice.lines) {
    if (!line.applied) continue;
    const held = room.get(line.applied.segmentId) ?? segments.get(line.applied.segmentId)?.ledger.held ?? new Decimal(0);
    room.set(line.applied.segmentId, held.sub(line.total));
  }
  const { lines, total } = finalizedLines(invoice.lines, invoice.creditTypeId, room);
  if (!(await store(tx, tenantId, { ...invoice, lines, total, status: 'FINALIZED', finalizedAt: now }))) return undefined;
  // What each segment paid, as the finalised (rounded) applied lines show it.
  const drawn = new Map<string, { grantId: string; amount: Decimal }>();
  for (const line of lines) {
    if (!line.applied) continue;
    const entry = drawn.get(line.applied.segmentId) ?? { grantId: line.applied.grantId, amount: new Decimal(0) };
    entry.amount = entry.amount.add(line.total);
    drawn.set(line.applied.segmentId, entry);
  }
  await credits.recordInvoiceDeductions(tx.db, {
    tenantId,
    customerId: invoice.customerId,
    invoiceId: invoice.id,
    deductions: [...drawn]
      .filter(([, { amount }]) => !amount.isZero())
      .map(([segmentId, { grantId, amount }]) => {
        const end = segments.get(segmentId)?.endingBefore ?? invoice.issuedAt;
        return { grantId, segmentId, amount, timestamp: end < invoice.issuedAt ? end : invoice.issuedAt };
      }),
    at: now,
  });
  return invoice.id;
}


