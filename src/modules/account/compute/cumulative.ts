import { Decimal } from '../../../lib/money.js';

export type Aggregation = 'COUNT' | 'SUM' | 'MAX' | 'UNIQUE' | 'LATEST';

/** The latest value seen, by event time and then transaction id (so any arrival order gives the same one). */
export interface Latest {
  value: Decimal;
  at: Date;
  transactionId: string;
}

/** What the rollups hold for one slice of a period, for one metric and group. */
export interface SliceAggregate {
  count: Decimal;
  sum: Decimal;
  max: Decimal | null;
  latest: Latest | null;
  /** For UNIQUE: how many distinct values were first seen in this slice of the period. */
  newDistinct: Decimal;
}

export function emptyAggregate(): SliceAggregate {
  return { count: new Decimal(0), sum: new Decimal(0), max: null, latest: null, newDistinct: new Decimal(0) };
}

export function laterOf(a: Latest | null, b: Latest | null): Latest | null {
  if (!a) return b;
  if (!b) return a;
  const byTime = a.at.getTime() - b.at.getTime();
  if (byTime !== 0) return byTime > 0 ? a : b;
  // Transaction ids compare by code point (UTF-8 bytes), as the database's COLLATE "C" does.
  return Buffer.compare(Buffer.from(a.transactionId), Buffer.from(b.transactionId)) >= 0 ? a : b;
}

/** Two aggregates of the same slice combined (rows of several groups that price as one). */
export function combine(a: SliceAggregate, b: SliceAggregate): SliceAggregate {
  return {
    count: a.count.add(b.count),
    sum: a.sum.add(b.sum),
    max: a.max === null ? b.max : b.max === null ? a.max : Decimal.max(a.max, b.max),
    latest: laterOf(a.latest, b.latest),
    newDistinct: a.newDistinct.add(b.newDistinct),
  };
}

/**
 * The metric's value over the period from its start to the end of each slice, in slice order:
 * COUNT and SUM add up, MAX keeps the greatest, LATEST the latest value, UNIQUE counts the
 * distinct values seen so far. A period with nothing yet is 0 for every aggregation.
 */
export function cumulativeQuantities(aggregation: Aggregation, slices: readonly SliceAggregate[]): Decimal[] {
  const totals: Decimal[] = [];
  let count = new Decimal(0);
  let sum = new Decimal(0);
  let max: Decimal | null = null;
  let latest: Latest | null = null;
  let distinct = new Decimal(0);
  for (const slice of slices) {
    count = count.add(slice.count);
    sum = sum.add(slice.sum);
    if (slice.max !== null) max = max === null ? slice.max : Decimal.max(max, slice.max);
    latest = laterOf(latest, slice.latest);
    distinct = distinct.add(slice.newDistinct);
    totals.push(
      aggregation === 'COUNT'
        ? count
        : aggregation === 'SUM'
          ? sum
          : aggregation === 'MAX'
            ? (max ?? new Decimal(0))
            : aggregation === 'LATEST'
              ? (latest?.value ?? new Decimal(0))
              : distinct,
    );
  }
  return totals;
}
