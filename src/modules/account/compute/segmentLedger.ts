import { Decimal, productExactly, roundDerivedAmount, sumExactly } from '../../../lib/money.js';

export type LedgerEntryKind =
  | 'SEGMENT_START'
  | 'SEAT_BASED_ADJUSTMENT'
  | 'MANUAL'
  | 'AUTOMATED_INVOICE_DEDUCTION'
  | 'ROLLOVER'
  | 'EXPIRATION';

/** A signed movement on a segment. */
export interface LedgerEntry {
  kind: LedgerEntryKind;
  amount: Decimal;
  timestamp: Date;
  reason?: string | undefined;
  invoiceId?: string | undefined;
  /**
   * A live deduction of the open period's draft invoice: it counts now, whatever its timestamp
   * (the invoice's date, at the period's end or the segment's, whichever comes first).
   */
  live?: boolean | undefined;
}

export interface SegmentWindow {
  startingAt: Date;
  endingBefore: Date;
}

export interface SegmentLedger {
  /** Entries up to `now`, in time order. */
  entries: LedgerEntry[];
  /** The sum of `entries`. */
  balance: Decimal;
  /** What the segment held before its remainder expired or rolled over (its balance while it runs). */
  held: Decimal;
  /** What rolled over into the next period when the segment ended (0 otherwise). */
  rolledOver: Decimal;
}

/**
 * What rolls over from a segment that ended holding `remainder`: `fraction` of it, rounded once,
 * down, to 20 decimals (`roundDerivedAmount`), so that it never exceeds the remainder; the rest
 * expires. 4,000 × 0.5 = 2,000; 5837.5 × 0.333 = 1943.8875; 0.00000000000000000003 × 0.5 rolls
 * over 0.00000000000000000001 and 0.00000000000000000002 expires.
 */
export function rolloverAmount(remainder: Decimal, fraction: Decimal): Decimal {
  return roundDerivedAmount(productExactly(remainder, fraction), 'down');
}

const KIND_ORDER: Record<LedgerEntryKind, number> = {
  SEGMENT_START: 0,
  SEAT_BASED_ADJUSTMENT: 1,
  MANUAL: 2,
  AUTOMATED_INVOICE_DEDUCTION: 3,
  ROLLOVER: 4,
  EXPIRATION: 5,
};

/**
 * A segment's ledger as of `now` (docs/rules.md rule 11). Balances are derived: the ledger is the
 * movements recorded or generated for the segment up to `now`, and, once the segment has ended,
 * its positive remainder leaves it at `endingBefore`: `rolloverFraction` of it rolls over into
 * the next period (when there is one; `rolloverAmount`) and the rest, exactly, expires. The
 * balance is the exact sum of the entries (`sumExactly`). A $100 credit with $63 used:
 * +10000, −6300, then −3700 expiration at the end. A segment that has not started has no
 * entries and a balance of 0. Only a manual entry can overdraw a segment; an overdrawn segment
 * keeps its negative sum when it ends, and nothing expires.
 */
export function segmentLedger({
  window,
  movements,
  rolloverFraction,
  canRollOver,
  now,
}: {
  window: SegmentWindow;
  movements: readonly LedgerEntry[];
  rolloverFraction: Decimal | null;
  canRollOver: boolean;
  now: Date;
}): SegmentLedger {
  const entries = movements
    // An invoice deduction is dated at the invoice's date, which may be the segment's end: it still draws from the segment.
    .filter(
      (entry) =>
        entry.live ||
        (entry.timestamp <= now &&
          (entry.timestamp < window.endingBefore || (entry.kind === 'AUTOMATED_INVOICE_DEDUCTION' && entry.timestamp.getTime() === window.endingBefore.getTime()))),
    )
    .sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime() || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  let balance = sumExactly(entries.map((entry) => entry.amount));
  const held = balance;
  let rolledOver = new Decimal(0);
  if (window.endingBefore <= now && window.startingAt <= now && balance.gt(0)) {
    if (canRollOver && rolloverFraction && rolloverFraction.gt(0)) {
      rolledOver = rolloverAmount(balance, rolloverFraction);
      entries.push({ kind: 'ROLLOVER', amount: rolledOver.neg(), timestamp: window.endingBefore });
    }
    // Exactly what is left, so the ledger sums to 0.
    const expired = sumExactly([balance, rolledOver.neg()]);
    if (expired.gt(0)) entries.push({ kind: 'EXPIRATION', amount: expired.neg(), timestamp: window.endingBefore });
    balance = new Decimal(0);
  }
  return { entries, balance, held, rolledOver };
}
