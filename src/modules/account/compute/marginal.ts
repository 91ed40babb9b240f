import { Decimal } from '../../../lib/money.js';
import type { FirstSeenRow, SliceRollupRow } from '../../usage/sliceRepo.js';
import { floorToDay, floorToHour } from '../../../lib/time.js';
import { mergeUsage, ratePeriod, type PeriodUsage, type PreparedPeriod, type UsageWindow } from './rating.js';
import { allRowsOf, rowsOfBucketsFrom } from './usageFold.js';

/** Usage that has not happened: what one event would add to one metric. */
export interface HypotheticalUsage {
  metricId: string;
  /** The event's values of the metric's group properties, by property name. */
  groupValues: Readonly<Record<string, string>>;
  /** What the metric aggregates (null for COUNT and UNIQUE). */
  value: Decimal | null;
  /** The value a UNIQUE metric counts; null for the others. */
  distinct: string | null;
}

/**
 * What `additions` (an event, as the metrics it matches see it) would cost on an open period at
 * `at`, per pricing unit: the period rated with the event's usage added, less the period rated as
 * it is. The same rating as the draft's, so graduated tiers continue where the period's usage has
 * got to, overrides apply, and a product priced per group (pricing group key) is priced at the
 * event's group's rate. Empty when `at` is outside the period.
 *
 * 1,000 tokens at 0.0001 AI credits each cost 0.1; past a tier boundary at 10,000 tokens, the
 * units above it cost the next tier's price.
 */
export function marginalCharges(
  { prepared, window, usage, additions, at }: { prepared: PreparedPeriod; window: UsageWindow; usage: PeriodUsage; additions: readonly HypotheticalUsage[]; at: Date },
): Map<string, Decimal> {
  const costs = new Map<string, Decimal>();
  const slice = window.slices.findIndex((s) => s.startingAt <= at && at < s.endingBefore);
  if (slice === -1) return costs;
  const rows: SliceRollupRow[] = [];
  const firstSeen: FirstSeenRow[] = [];
  for (const selection of window.selections) {
    for (const addition of additions) {
      if (addition.metricId !== selection.metricId) continue;
      const groupValues = selection.groupKey.map((name) => addition.groupValues[name] ?? '');
      const value = addition.value?.toFixed() ?? null;
      rows.push({
        metric_id: selection.metricId,
        group_key: [...selection.groupKey],
        group_values: groupValues,
        slice,
        event_count: '1',
        value_sum: value ?? '0',
        value_max: value,
        latest_value: value,
        latest_at: value === null ? null : at,
        latest_transaction_id: value === null ? null : '',
      });
      if (addition.distinct !== null) firstSeen.push({ metric_id: selection.metricId, group_key: [...selection.groupKey], group_values: groupValues, value: addition.distinct, slice });
    }
  }
  if (rows.length === 0) return costs;
  const totals = (period: ReturnType<typeof ratePeriod>, sign: 1 | -1) => {
    for (const line of period.lines) costs.set(line.creditTypeId, (costs.get(line.creditTypeId) ?? new Decimal(0)).add(line.total.mul(sign)));
  };
  totals(ratePeriod({ prepared, window, usage: withAdded(usage, rows, firstSeen, at) }), 1);
  totals(ratePeriod({ prepared, window, usage }), -1);
  return costs;
}

/**
 * `usage` with the rows of an event at `at` added. Usage read per bucket (kept usage) gets them
 * as a re-read of `at`'s bucket would bring them (`mergeUsage`), so the folds kept with it carry
 * over and only the event's group is folded and priced again; other usage, appended.
 */
function withAdded(usage: PeriodUsage, rows: SliceRollupRow[], firstSeen: FirstSeenRow[], at: Date): PeriodUsage {
  if (!usage.hourlyFrom) return { rows: [...allRowsOf(usage), ...rows], firstSeen: [...usage.firstSeen, ...firstSeen] };
  const bucket = at >= usage.hourlyFrom ? floorToHour(at) : floorToDay(at);
  const from = bucket.getTime();
  const inBucket = (row: { day?: Date | undefined }) => row.day !== undefined && row.day.getTime() >= from;
  const fresh: PeriodUsage = {
    rows: [...rowsOfBucketsFrom(usage, from), ...rows.map((row) => ({ ...row, day: bucket }))],
    firstSeen: [...usage.firstSeen.filter(inBucket), ...firstSeen.map((row) => ({ ...row, day: bucket }))],
    hourlyFrom: usage.hourlyFrom,
  };
  return mergeUsage([usage], [fresh], bucket)[0]!;
}
