import type { Decimal } from '../../../lib/money.js';
import { isBoundedDecimal, numericReading, propertyText, propertyValue } from './propertyValues.js';

export type Aggregation = 'COUNT' | 'SUM' | 'MAX' | 'UNIQUE' | 'LATEST';

/** A billable metric's definition, as `billable_metrics` stores it. */
export interface MetricDefinition {
  id: string;
  aggregation_type: Aggregation;
  aggregation_key: string | null;
  event_type_filter: { in_values?: string[] | undefined; not_in_values?: string[] | undefined } | null;
  property_filters: ReadonlyArray<{ name: string; exists?: boolean | undefined; in_values?: string[] | undefined; not_in_values?: string[] | undefined }>;
  group_keys: readonly (readonly string[])[];
}

/** One group key of a metric as rollups store it: its property names, sorted. */
export interface GroupKey {
  names: readonly string[];
  /** Where the key's values start in `Match.groupTexts`. */
  offset: number;
}

/** A metric prepared for matching many events: value lists as sets, group keys sorted. */
export interface CompiledMetric {
  id: string;
  aggregation: Aggregation;
  aggregationKey: string | null;
  eventTypeIn: ReadonlySet<string> | null;
  eventTypeNotIn: ReadonlySet<string> | null;
  filters: ReadonlyArray<{ name: string; exists: boolean | undefined; in: ReadonlySet<string> | null; notIn: ReadonlySet<string> | null }>;
  /** The metric's group keys, each sorted; rollups hold one row for the total and one per group key. */
  groupKeys: readonly GroupKey[];
  /** The names of every group key, one after the other. */
  groupNames: readonly string[];
}

export function compileMetric(metric: MetricDefinition): CompiledMetric {
  const set = (values: readonly string[] | undefined) => (values ? new Set(values) : null);
  let offset = 0;
  const groupKeys = metric.group_keys.map((names) => {
    const groupKey = { names: [...names].sort(), offset };
    offset += names.length;
    return groupKey;
  });
  return {
    id: metric.id,
    aggregation: metric.aggregation_type,
    aggregationKey: metric.aggregation_key,
    eventTypeIn: set(metric.event_type_filter?.in_values),
    eventTypeNotIn: set(metric.event_type_filter?.not_in_values),
    filters: metric.property_filters.map((filter) => ({ name: filter.name, exists: filter.exists, in: set(filter.in_values), notIn: set(filter.not_in_values) })),
    groupKeys,
    groupNames: groupKeys.flatMap((groupKey) => groupKey.names),
  };
}

/** An event as metrics see it. */
export interface MatchableEvent {
  eventType: string;
  properties: Readonly<Record<string, unknown>>;
}

/** How an event counts for a metric it matches. */
export interface Match {
  metric: CompiledMetric;
  /** The aggregated number, for SUM, MAX and LATEST; null for COUNT and UNIQUE. */
  value: Decimal | null;
  /** The aggregated value's text, for UNIQUE; null otherwise. */
  distinct: string | null;
  /** The event's values for the metric's `groupNames`, in that order (one flat list, so that a match allocates little). */
  groupTexts: readonly string[];
}

const NO_TEXTS: readonly string[] = [];

/** The event's values for the metric's group key `index`, in the order of its sorted names. */
export function groupValuesOf(match: Match, index: number): string[] {
  const { names, offset } = match.metric.groupKeys[index]!;
  return match.groupTexts.slice(offset, offset + names.length);
}

/**
 * Whether `event` counts for `metric`, and how. An event matches when:
 *
 * - its `event_type` is in `event_type_filter.in_values` (when given) and not in `not_in_values`;
 * - every property filter holds, comparing values as text (`propertyText`): `exists: true` needs
 *   the property with a string, number or boolean value, `exists: false` its absence (null,
 *   objects and arrays count as absent); `in_values` needs the value in the list, `not_in_values`
 *   a value outside it or none;
 * - for SUM, MAX and LATEST, the aggregation key holds a number within the bound (`propertyNumber`):
 *   `{"bytes": "648"}` counts 648, `{"bytes": "n/a"}` does not match; for UNIQUE, it holds a value
 *   with a text;
 * - every property of every group key has a text (the metric's filters require them anyway).
 *
 * An event that would match but for its number being beyond the bound (`{"bytes": "1e400"}`)
 * does not match; `onUnbounded`, when given, is told the aggregation key, so that ingest can
 * refuse the event rather than leave it uncounted.
 */
export function matchMetric(metric: CompiledMetric, event: MatchableEvent, onUnbounded?: (property: string) => void): Match | undefined {
  if (metric.eventTypeIn && !metric.eventTypeIn.has(event.eventType)) return undefined;
  if (metric.eventTypeNotIn?.has(event.eventType)) return undefined;
  const { properties } = event;
  for (const filter of metric.filters) {
    const text = propertyText(propertyValue(properties, filter.name));
    if (filter.exists === true && text === undefined) return undefined;
    if (filter.exists === false && text !== undefined) return undefined;
    if (filter.in && (text === undefined || !filter.in.has(text))) return undefined;
    if (filter.notIn && text !== undefined && filter.notIn.has(text)) return undefined;
  }

  let value: Decimal | null = null;
  let distinct: string | null = null;
  let unbounded = false;
  if (metric.aggregation !== 'COUNT') {
    const raw = propertyValue(properties, metric.aggregationKey ?? '');
    if (metric.aggregation === 'UNIQUE') {
      distinct = propertyText(raw) ?? null;
      if (distinct === null) return undefined;
    } else {
      value = numericReading(raw) ?? null;
      if (value === null) return undefined;
      if (!isBoundedDecimal(value)) {
        if (!onUnbounded) return undefined;
        // Whether the rest of the event matches decides whether the metric would have read it.
        unbounded = true;
      }
    }
  }

  const names = metric.groupNames;
  const groupTexts = names.length === 0 ? NO_TEXTS : new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) {
    const text = propertyText(propertyValue(properties, names[i]!));
    if (text === undefined) return undefined;
    (groupTexts as string[])[i] = text;
  }
  if (unbounded) {
    onUnbounded!(metric.aggregationKey ?? '');
    return undefined;
  }
  return { metric, value, distinct, groupTexts };
}
