import { Decimal } from '../../../lib/money.js';

/**
 * Splits what is measured per period: the open periods together, and the ended periods still in
 * their grace period by the instant they ended (each its own part; two of one contract in grace at
 * once are never added up). Empty parts are left out.
 */
export function partitionByEnded<T extends { period: { endingBefore: Date } }>(items: readonly T[], now: Date): T[][] {
  const parts = new Map<number, T[]>();
  for (const item of items) {
    const key = item.period.endingBefore <= now ? item.period.endingBefore.getTime() : Infinity;
    const part = parts.get(key) ?? [];
    part.push(item);
    parts.set(key, part);
  }
  return [...parts.values()];
}

/** The greatest of what each ended period in its grace period and the open periods measure. */
export function greatestOfPeriods<T extends { period: { endingBefore: Date } }>(items: readonly T[], now: Date, measure: (part: readonly T[]) => Decimal): Decimal {
  return partitionByEnded(items, now)
    .map(measure)
    .reduce((greatest, value) => Decimal.max(greatest, value));
}
