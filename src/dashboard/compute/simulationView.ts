import { Decimal } from '../../lib/money.js';

/** One customer's change, as the pricing page reads it: simulated − actual, in cents. */
export interface CustomerChange {
  customerId: string;
  actual: Decimal;
  simulated: Decimal;
  change: Decimal;
}

/** A bucket of the distribution of changes: `[from, to)` in cents (the last one includes `to`), and how many customers fall in it. */
export interface ChangeBucket {
  from: Decimal;
  to: Decimal;
  customers: number;
}

/**
 * The customers' changes (pure): sorted from the biggest saving (the most negative change) to the
 * biggest increase, the `top` winners (a negative change: they would pay less) and losers (a
 * positive one), and the distribution in at most `buckets` equal buckets between the smallest and
 * the largest change. Example: changes of −100, 0, 0 and 300 cents in 4 buckets: [−100, 0) 1,
 * [0, 100) 2, [100, 200) 0, [200, 300] 1.
 */
export function simulationView({ results, top = 5, buckets = 10 }: { results: readonly { customerId: string; actual: Decimal; simulated: Decimal }[]; top?: number; buckets?: number }) {
  const changes: CustomerChange[] = results
    .map((result) => ({ ...result, change: result.simulated.sub(result.actual) }))
    .sort((a, b) => a.change.comparedTo(b.change) || (a.customerId < b.customerId ? -1 : 1));
  const winners = changes.filter((row) => row.change.isNegative()).slice(0, top);
  const losers = changes.filter((row) => row.change.gt(0)).reverse().slice(0, top);
  return { changes, winners, losers, distribution: distributionOf(changes, buckets) };
}

function distributionOf(changes: readonly CustomerChange[], count: number): ChangeBucket[] {
  if (changes.length === 0) return [];
  const low = changes[0]!.change;
  const high = changes[changes.length - 1]!.change;
  if (low.eq(high)) return [{ from: low, to: high, customers: changes.length }];
  const width = high.sub(low).div(count);
  const buckets = Array.from({ length: count }, (_, i) => ({ from: low.add(width.mul(i)), to: i === count - 1 ? high : low.add(width.mul(i + 1)), customers: 0 }));
  for (const { change } of changes) {
    const index = Math.min(count - 1, change.sub(low).div(width).floor().toNumber());
    buckets[index]!.customers += 1;
  }
  return buckets;
}
