import type { FieldProblem } from '../../../lib/errors.js';

/** A billable metric's definition as the rules see it (plain data, already shape-checked). */
export interface MetricDefinition {
  /** Undefined when the request left it out: the rules that depend on it are then skipped. */
  aggregationType: 'COUNT' | 'SUM' | 'MAX' | 'UNIQUE' | 'LATEST' | undefined;
  aggregationKey: string | null;
  propertyFilters: Array<{ name: string; exists?: boolean | undefined; in_values?: string[] | undefined; not_in_values?: string[] | undefined }>;
  groupKeys: string[][];
}

export interface Problem {
  field: string;
  message: string;
}

/**
 * What is wrong with a metric's definition, in request order; empty when it is valid.
 *
 * - `SUM`, `MAX`, `UNIQUE` and `LATEST` aggregate one property, so they need `aggregation_key`;
 *   `COUNT` counts events and refuses one (it would be silently meaningless).
 * - The aggregation key and every property of every group key must be the name of a property
 *   filter with `exists: true`, as Metronome requires: `group_keys: [["user_id"]]` needs
 *   `property_filters: [{name: "user_id", exists: true}]`.
 * - A property is filtered once; `exists: false` cannot be combined with value lists.
 */
export function metricProblems(metric: MetricDefinition): Problem[] {
  const problems: Problem[] = [];
  if (metric.aggregationType === undefined) problems.push({ field: 'aggregation_type', message: 'is required (COUNT, SUM, MAX, UNIQUE or LATEST)' });
  const required = new Set<string>();
  const seen = new Set<string>();
  metric.propertyFilters.forEach((filter, index) => {
    const field = `property_filters.${index}`;
    if (seen.has(filter.name)) problems.push({ field: `${field}.name`, message: `"${filter.name}" is filtered more than once` });
    seen.add(filter.name);
    if (filter.exists === false && (filter.in_values || filter.not_in_values)) {
      problems.push({ field: `${field}.exists`, message: 'a property that must not exist cannot have in_values or not_in_values' });
    }
    if (filter.exists === true) required.add(filter.name);
  });

  if (metric.aggregationType === undefined) {
    // Nothing to check the aggregation key against.
  } else if (metric.aggregationType === 'COUNT') {
    if (metric.aggregationKey !== null) {
      problems.push({ field: 'aggregation_key', message: 'must be omitted for COUNT, which counts events rather than aggregating a property' });
    }
  } else if (metric.aggregationKey === null) {
    problems.push({ field: 'aggregation_key', message: `is required for ${metric.aggregationType}: name the property to aggregate` });
  } else if (!required.has(metric.aggregationKey)) {
    problems.push({
      field: 'aggregation_key',
      message: `"${metric.aggregationKey}" must be the name of a property filter with exists: true`,
    });
  }

  const groupKeysSeen = new Set<string>();
  metric.groupKeys.forEach((groupKey, index) => {
    const canonical = JSON.stringify([...groupKey].sort());
    if (groupKeysSeen.has(canonical)) problems.push({ field: `group_keys.${index}`, message: 'repeats an earlier group key' });
    groupKeysSeen.add(canonical);
    if (new Set(groupKey).size !== groupKey.length) problems.push({ field: `group_keys.${index}`, message: 'names a property more than once' });
    groupKey.forEach((property, position) => {
      if (!required.has(property)) {
        problems.push({ field: `group_keys.${index}.${position}`, message: `"${property}" must be the name of a property filter with exists: true` });
      }
    });
  });
  return problems;
}

/**
 * Whether a product's pricing and presentation group keys fit its metric: as Metronome states it,
 * their union must be one of the metric's compound group keys (order does not matter).
 * `group_keys: [["user_id"], ["team", "region"]]` admits `pricing_group_key: ["team"]` with
 * `presentation_group_key: ["region"]`, but not `pricing_group_key: ["team"]` alone.
 */
export function groupKeysFitMetric(metricGroupKeys: string[][], pricingGroupKey: string[] | null, presentationGroupKey: string[] | null): boolean {
  if (!pricingGroupKey && !presentationGroupKey) return true;
  const union = new Set([...(pricingGroupKey ?? []), ...(presentationGroupKey ?? [])]);
  return metricGroupKeys.some((groupKey) => groupKey.length === union.size && groupKey.every((property) => union.has(property)));
}
