import type { Decimal } from '../../../lib/money.js';
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
  matches: ReadonlyArray<{ metric: CompiledMetric; match: Match }>;
}

/** The latest value of a rollup: the one of the event with the greatest (timestamp, transaction id). */
export interface Latest {
  value: Decimal;
  atMs: number;
  transactionId: string;
}

/** One row of `usage_rollups`: the events of one customer, metric, group and hour. */
export interface Rollup {
  tenantId: string;
  customerId: string;
  metricId: string;
  /** The group key's property names, sorted; [] for the metric's total. */
  groupKey: readonly string[];
  hourMs: number;
  /** The events' values for `groupKey`, in its order. */
  groupValues: readonly string[];
  eventCount: number;
  /** The sum of the aggregated values (SUM, MAX, LATEST); 0 for COUNT and UNIQUE. */
  valueSum: Decimal;
  /** The greatest aggregated value; null for COUNT and UNIQUE. */
  valueMax: Decimal | null;
  latest: Latest | null;
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

/** The identity of a rollup row; also its place in the order every writer upserts in. */
export function rollupKey(row: Pick<Rollup, 'tenantId' | 'customerId' | 'metricId' | 'groupKey' | 'hourMs' | 'groupValues'>): string {
  return `${row.tenantId}\u0000${row.customerId}\u0000${row.metricId}\u0000${JSON.stringify(row.groupKey)}\u0000${row.hourMs}\u0000${JSON.stringify(row.groupValues)}`;
}

const byKey = <T>(entries: Map<string, T>): T[] => [...entries.keys()].sort().map((key) => entries.get(key)!);

/**
 * Folds events into hourly rollups (DESIGN §5): for every metric an event matches, one row for the
 * metric's total (group key `[]`) and one per group key of the metric, in the hour the event's
 * timestamp falls in; for UNIQUE metrics, also the distinct value per row. Rows come back in key
 * order, the order every writer upserts them in, so that concurrent writers never deadlock.
 *
 * Two events of customer C in hour 10:00 with `{tokens: 5, user_id: "u1"}` and `{tokens: 7,
 * user_id: "u2"}`, for a SUM of tokens grouped by `["user_id"]`: total row count 2, sum 12, max 7;
 * rows `["user_id"]`/`["u1"]` (1, 5) and `["user_id"]`/`["u2"]` (1, 7).
 */
export function foldRollups(events: Iterable<MatchedEvent>): Folded {
  const rollups = new Map<string, Rollup>();
  const distinct = new Map<string, DistinctValue>();
  for (const event of events) {
    const hourMs = Math.floor(event.timestampMs / HOUR_MS) * HOUR_MS;
    for (const { metric, match } of event.matches) {
      const contribution = (groupKey: readonly string[], groupValues: readonly string[]) => {
        const identity = { tenantId: event.tenantId, customerId: event.customerId, metricId: metric.id, groupKey, hourMs, groupValues };
        const key = rollupKey(identity);
        const row: Rollup = {
          ...identity,
          eventCount: 1,
          valueSum: match.value ?? ZERO,
          valueMax: match.value,
          latest: match.value === null ? null : { value: match.value, atMs: event.timestampMs, transactionId: event.transactionId },
        };
        const stored = rollups.get(key);
        rollups.set(key, stored ? mergeRollup(stored, row) : row);
        if (match.distinct !== null) distinct.set(`${key}\u0000${match.distinct}`, { ...identity, value: match.distinct });
      };
      contribution(NO_GROUP, NO_GROUP);
      metric.groupKeys.forEach((groupKey, index) => contribution(groupKey.names, match.groupValues[index]!));
    }
  }
  return { rollups: byKey(rollups), distinctValues: byKey(distinct) };
}
