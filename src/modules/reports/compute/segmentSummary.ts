import { Decimal, sumExactly } from '../../../lib/money.js';
import type { LedgerEntry, LedgerEntryKind } from '../../account/service.js';

/** What a segment did during a reporting window, by kind of movement. */
export interface SegmentSummary {
  opening: Decimal;
  grants: Decimal;
  seatAdjustments: Decimal;
  deductions: Decimal;
  manual: Decimal;
  rollovers: Decimal;
  expirations: Decimal;
  closing: Decimal;
  /** opening + every movement = closing. */
  addsUp: boolean;
}

type Column = keyof Omit<SegmentSummary, 'opening' | 'closing' | 'addsUp'>;

const COLUMN: Record<LedgerEntryKind, Column> = {
  SEGMENT_START: 'grants',
  SEAT_BASED_ADJUSTMENT: 'seatAdjustments',
  AUTOMATED_INVOICE_DEDUCTION: 'deductions',
  MANUAL: 'manual',
  ROLLOVER: 'rollovers',
  EXPIRATION: 'expirations',
};

/** Movements that close a segment: dated at its end, they belong to the window that ends there. */
const CLOSING: ReadonlySet<LedgerEntryKind> = new Set(['AUTOMATED_INVOICE_DEDUCTION', 'ROLLOVER', 'EXPIRATION']);

/**
 * When a movement counts in a report. An invoice deduction is dated at its invoice's date, the
 * end of the period it pays for (or the segment's end, when that comes first), and belongs to
 * that period: it counts just before its date. A live one (the open period's draft) has happened
 * by now, so it counts by now at the latest. A rollover or expiration at the segment's end
 * belongs to the window ending there.
 */
function reportedAt(entry: LedgerEntry, segmentEnd: Date, now: Date | undefined): number {
  const justBefore = entry.timestamp.getTime() - 1;
  if (entry.kind === 'AUTOMATED_INVOICE_DEDUCTION') return entry.live && now ? Math.min(justBefore, now.getTime()) : justBefore;
  return CLOSING.has(entry.kind) && entry.timestamp.getTime() === segmentEnd.getTime() ? justBefore : entry.timestamp.getTime();
}

/**
 * A segment's ledger over the window `[from, to)`: the balance before it, each kind of movement
 * in it, and the balance after it. A movement that closes the segment at its end (the period's
 * invoice deduction, rollover, expiration) belongs to the window ending there, so April's report
 * of a $100 credit with $63 used reads: opening 0, grants 10000, deductions −6300, expirations
 * −3700, closing 0. The open period's live deductions count at `now`, when they have happened so
 * far, not at the period's end they are dated at. The closing balance is `closing` when given (the engine's own figure, for a
 * window that reaches now) and otherwise the sum of the entries before `to`; `addsUp` checks that
 * the opening balance and the movements make it.
 */
export function segmentSummary({
  entries,
  segmentEnd,
  from,
  to,
  closing,
  now,
}: {
  entries: readonly LedgerEntry[];
  segmentEnd: Date;
  from: Date;
  to: Date;
  closing?: Decimal | undefined;
  /** The clock's now, for the open period's live deductions. */
  now?: Date | undefined;
}): SegmentSummary {
  const zero = new Decimal(0);
  const summary: SegmentSummary = { opening: zero, grants: zero, seatAdjustments: zero, deductions: zero, manual: zero, rollovers: zero, expirations: zero, closing: zero, addsUp: true };
  // Every sum is exact (`sumExactly`), so the check fails only when the amounts do not add up.
  const before: Decimal[] = [];
  const opening: Decimal[] = [];
  const columns = new Map<Column, Decimal[]>();
  for (const entry of entries) {
    const at = reportedAt(entry, segmentEnd, now);
    if (at < to.getTime()) before.push(entry.amount);
    if (at < from.getTime()) opening.push(entry.amount);
    else if (at < to.getTime()) {
      const column = columns.get(COLUMN[entry.kind]) ?? [];
      columns.set(COLUMN[entry.kind], column);
      column.push(entry.amount);
    }
  }
  summary.opening = sumExactly(opening);
  for (const [column, amounts] of columns) summary[column] = sumExactly(amounts);
  summary.closing = closing ?? sumExactly(before);
  const movements = [summary.grants, summary.seatAdjustments, summary.deductions, summary.manual, summary.rollovers, summary.expirations];
  summary.addsUp = sumExactly([summary.opening, ...movements]).eq(summary.closing);
  return summary;
}
