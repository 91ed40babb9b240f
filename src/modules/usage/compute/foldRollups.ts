import type { RollupAdded } from '../../../lib/context.js';
import type { CompiledMetric, Match } from './matchMetric.js';
import { ExactDecimal } from './propertyValues.js';

export const HOUR_MS = 3_600_000;

/** A new event of a known customer, with the metrics it matched. */
export interface MatchedEvent {
  tenantId: string;
  customerId: string;
  transactionId: string;
  /** The event's instant, in milliseconds since the epoch. */
  timestampMs: number;
  matches: readonly Match[];
}

/** The latest value of a rollup: the one of the event with the greatest (timestamp, transaction id). */
export type Latest = NonNullable<RollupAdded['latest']>;

/** One row of `usage_rollups`: the events of one customer, metric, group and hour (what a commit adds to it: `RollupAdded`). */
export interface Rollup extends RollupAdded {
  tenantId: string;
  customerId: string;
}

/** One row of `usage_distinct_values`: a value of a UNIQUE metric seen in a customer's group and hour. */
export interface DistinctValue {
  tenantId: string;
  customerId: string;
  metricId: string;
  groupKey: readonly string[];
  hourMs: number;
  groupValues: readonly string[];
  value: string;
}

/** What a set of events adds to the rollups, one row per key, rows in key order. */
export interface Folded {
  rollups: Rollup[];
  distinctValues: DistinctValue[];
}

const NO_GROUP: readonly string[] = [];
const ZERO = new ExactDecimal(0);

/**
 * Compares strings by Unicode code point, as PostgreSQL compares UTF-8 text under `COLLATE "C"`
 * (JavaScript's `<` compares UTF-16 units, which orders U+E000–U+FFFF after astral characters).
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800–DFFF) encode code points above FFFF, so they sort after E000–FFFF.
    const rank = (unit: number) => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit);
    return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** The later of two latest values, by timestamp and then transaction id (code point order). */
export function laterOf(a: Latest | null, b: Latest | null): Latest | null {
  if (!a) return b;
  if (!b) return a;
  if (a.atMs !== b.atMs) return a.atMs > b.atMs ? a : b;
  return compareCodePoints(a.transactionId, b.transactionId) >= 0 ? a : b;
}

/**
 * Two rollups of the same key as one, exactly as the upsert combines a stored row with a new
 * one: counts and sums add, the greatest maximum stays, and the latest value is the one with the
 * greatest (timestamp, transaction id). Associative and commutative, so any order and batching of
 * the same events gives the same row.
 */
export function mergeRollup(stored: Rollup, incoming: Rollup): Rollup {
  return {
    ...stored,
    eventCount: stored.eventCount + incoming.eventCount,
    valueSum: stored.valueSum.plus(incoming.valueSum),
    valueMax: stored.valueMax === null ? incoming.valueMax : incoming.valueMax === null ? stored.valueMax : stored.valueMax.gte(incoming.valueMax) ? stored.valueMax : incoming.valueMax,
    latest: laterOf(stored.latest, incoming.latest),
  };
}

/** The identity of a rollup row, as one string. */
export function rollupKey(row: Pick<Rollup, 'tenantId' | 'customerId' | 'metricId' | 'groupKey' | 'hourMs' | 'groupValues'>): string {
  return JSON.stringify([row.tenantId, row.customerId, row.metricId, row.groupKey, row.hourMs, row.groupValues]);
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const compareLists = (a: readonly string[], b: readonly string[]) => {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const order = compareText(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
};

/**
 * The order every writer upserts rollup rows in, so that two transactions touching the same rows
 * take their locks in the same order and never deadlock: every group row (of any tenant, customer
 * and metric) before any total, each part by (tenant, customer, metric, group key, hour, group
 * values). Any fixed total order would do; this one takes the rows concurrent batches share most
 * (a customer's totals of an hour) at the end of the statement, so they are held for the shortest
 * time before the commit. It needs no string building.
 */
export function compareRollupKeys(a: Pick<Rollup, 'tenantId' | 'customerId' | 'metricId' | 'groupKey' | 'hourMs' | 'groupValues'>, b: typeof a): number {
  return (
    (a.groupKey.length === 0 ? 1 : 0) - (b.groupKey.length === 0 ? 1 : 0) ||
    compareText(a.tenantId, b.tenantId) ||
    compareText(a.customerId, b.customerId) ||
    compareText(a.metricId, b.metricId) ||
    compareLists(a.groupKey, b.groupKey) ||
    a.hourMs - b.hourMs ||
    compareLists(a.groupValues, b.groupValues)
  );
}

/** The rows of one customer and metric: per group key (slot 0 is the total), per hour, per group values. */
type MetricRows = Array<Map<number, Map<string, Rollup>>>;

/**
 * Folds events into hourly rollups (docs/rules.md, "The ingest path"): for every metric an event matches, one row for the
 * metric's total (group key `[]`) and one per group key of the metric, in the hour the event's
 * timestamp falls in; for UNIQUE metrics, also the distinct value per row. Rows come back in the
 * order of `compareRollupKeys`, the order every writer upserts in, so that concurrent writers
 * never deadlock.
 *
 * Two events of customer C in hour 10:00 with `{tokens: 5, user_id: "u1"}` and `{tokens: 7,
 * user_id: "u2"}`, for a SUM of tokens grouped by `["user_id"]`: total row count 2, sum 12, max 7;
 * rows `["user_id"]`/`["u1"]` (1, 5) and `["user_id"]`/`["u2"]` (1, 7).
 */
export function foldRollups(events: Iterable<MatchedEvent>): Folded {
  const customers = new Map<string, Map<CompiledMetric, MetricRows>>();
  const rows: Rollup[] = [];
  const distinct = new Map<Rollup, Set<string>>();
  for (const event of events) {
    const hourMs = Math.floor(event.timestampMs / HOUR_MS) * HOUR_MS;
    const customerKey = `${event.tenantId}\u0000${event.customerId}`;
    let metrics = customers.get(customerKey);
    if (!metrics) customers.set(customerKey, (metrics = new Map()));
    for (const match of event.matches) {
      const { metric } = match;
      let slots = metrics.get(metric);
      if (!slots) {
        slots = Array.from({ length: metric.groupKeys.length + 1 }, () => new Map<number, Map<string, Rollup>>());
        metrics.set(metric, slots);
      }
      const latest = match.value === null ? null : { value: match.value, atMs: event.timestampMs, transactionId: event.transactionId };
      for (let slot = 0; slot < slots.length; slot++) {
        const groupKey = slot === 0 ? undefined : metric.groupKeys[slot - 1]!;
        const valuesKey = !groupKey
          ? ''
          : groupKey.names.length === 1
            ? match.groupTexts[groupKey.offset]!
            : match.groupTexts.slice(groupKey.offset, groupKey.offset + groupKey.names.length).join('\u0000');
        let hours = slots[slot]!.get(hourMs);
        if (!hours) slots[slot]!.set(hourMs, (hours = new Map()));
        let row = hours.get(valuesKey);
        if (!row) {
          row = {
            tenantId: event.tenantId,
            customerId: event.customerId,
            metricId: metric.id,
            groupKey: groupKey ? groupKey.names : NO_GROUP,
            hourMs,
            groupValues: groupKey ? match.groupTexts.slice(groupKey.offset, groupKey.offset + groupKey.names.length) : NO_GROUP,
            eventCount: 1,
            valueSum: match.value ?? ZERO,
            valueMax: match.value,
            latest,
          };
          hours.set(valuesKey, row);
          rows.push(row);
        } else {
          row.eventCount++;
          if (match.value !== null) {
            row.valueSum = row.valueSum.plus(match.value);
            if (row.valueMax === null || match.value.gt(row.valueMax)) row.valueMax = match.value;
            row.latest = laterOf(row.latest, latest);
          }
        }
        if (match.distinct !== null) {
          let values = distinct.get(row);
          if (!values) distinct.set(row, (values = new Set()));
          values.add(match.distinct);
        }
      }
    }
  }
  rows.sort(compareRollupKeys);
  const distinctValues: DistinctValue[] = [];
  for (const row of rows) {
    const values = distinct.get(row);
    if (!values) continue;
    for (const value of [...values].sort(compareText)) {
      distinctValues.push({
        tenantId: row.tenantId,
        customerId: row.customerId,
        metricId: row.metricId,
        groupKey: row.groupKey,
        hourMs: row.hourMs,
        groupValues: row.groupValues,
        value,
      });
    }
  }
  return { rollups: rows, distinctValues };
}
