/**
 * Parses a Stripe form body (or query string) into nested objects, as Stripe reads it:
 * `a=1&metadata[k]=v&items[0][quantity]=110&expand[]=x` →
 * `{a: '1', metadata: {k: 'v'}, items: {'0': {quantity: '110'}}, expand: 'x'}`. Values stay strings.
 */
export function parseStripeForm(body: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split(/\[|\]\[|\]/).filter((part) => part !== '');
    let target: Record<string, unknown> = result;
    for (const [index, part] of path.entries()) {
      if (index === path.length - 1) target[part] = value;
      else {
        const next = target[part];
        // `a=1&a[b]=2`: the nested form wins, as a later, more specific parameter.
        target = (next !== null && typeof next === 'object' ? next : (target[part] = {})) as Record<string, unknown>;
      }
    }
  }
  return result;
}

/** The entries of a form "array" (`items[0][…]`, `items[1][…]`), in index order. */
export function formList(value: unknown): Record<string, unknown>[] {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>)
    .filter(([index]) => /^\d+$/.test(index))
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, entry]) => (entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>) : {}));
}
