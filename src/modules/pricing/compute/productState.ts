/** The fields of a product that an update may change. */
export interface ProductFields {
  name: string;
  billableMetricId: string | null;
  pricingGroupKey: string[] | null;
  presentationGroupKey: string[] | null;
  tags: string[];
}

/** One update: `null` fields are unchanged; `sequence` orders updates made with the same `startingAt`. */
export interface ProductUpdate {
  startingAt: Date;
  sequence: string;
  changes: { [K in keyof ProductFields]: ProductFields[K] | null };
}

/**
 * The product's fields in force at `at`: the initial fields, then every update with
 * `startingAt <= at` applied in order of `startingAt` (then of creation). An update scheduled
 * after `at` does not count yet; a retroactive one counts from its own `startingAt`, even when
 * it was made after a later-starting update.
 */
export function productFieldsAt<U extends ProductUpdate>(
  initial: ProductFields,
  updates: U[],
  at: Date,
): { fields: ProductFields; lastApplied: U | undefined } {
  const applied = updates
    .filter((update) => update.startingAt.getTime() <= at.getTime())
    .sort((a, b) => a.startingAt.getTime() - b.startingAt.getTime() || (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
  let fields = initial;
  for (const update of applied) {
    fields = {
      name: update.changes.name ?? fields.name,
      billableMetricId: update.changes.billableMetricId ?? fields.billableMetricId,
      pricingGroupKey: update.changes.pricingGroupKey ?? fields.pricingGroupKey,
      presentationGroupKey: update.changes.presentationGroupKey ?? fields.presentationGroupKey,
      tags: update.changes.tags ?? fields.tags,
    };
  }
  return { fields, lastApplied: applied[applied.length - 1] };
}
