import { Decimal } from '../lib/money.js';
import type { Rate } from '../modules/pricing/service.js';
import type { Unit } from './format.js';

/** What the pricing form offers: the tenant's rate cards, the chosen one's usage rates in force now (with names), products it could add, and what was typed. */
export interface PricingForm {
  csrf: string;
  rateCards: { id: string; name: string }[];
  rateCardId: string | null;
  /** The card's FLAT and TIERED usage rates in force now; `index` names their fields (`price.N`, `tier.N.T.size`, `tier.N.T.price`). */
  rates: { index: number; rate: Rate; productName: string; unit: Unit }[];
  /** Live usage products the card does not price now: one can be added (`new_product_id`, `new_price`, `new_credit_type_id`). */
  newProducts: { id: string; name: string }[];
  /** The units a new rate can be priced in: the card's fiat unit and the custom units it converts. */
  units: Unit[];
  values: Record<string, string>;
  error?: string | undefined;
}

/** A typed amount: undefined when left empty, null when it is no number. */
function amountOf(values: Record<string, string>, field: string): Decimal | null | undefined {
  const text = values[field]?.trim() ?? '';
  if (text === '') return undefined;
  try {
    const amount = new Decimal(text);
    return amount.isFinite() ? amount : null;
  } catch {
    return null;
  }
}

/**
 * The simulation the form asks for, in the API's body shape (checked again by the API's schema),
 * or every problem of what was typed, each naming its field as the page labels it. A flat rate's
 * new price replaces it; a tiered rate's typed tier sizes and prices replace those of its tiers
 * (the others kept), and a price in its added row adds a tier after the last, which then needs a
 * size; a new product takes a flat price in one of the card's units. Every change starts with the window.
 */
export function simulationBodyOf(form: PricingForm, values: Record<string, string>): { body?: unknown; problems?: string[] } {
  const problems: string[] = [];
  const number = (field: string, label: string) => {
    const amount = amountOf(values, field);
    if (amount === null) problems.push(`${label}: must be a number`);
    return amount ?? undefined;
  };
  const startingAt = values.starting_on;
  const rateChanges: Record<string, unknown>[] = [];
  for (const { index, rate, productName } of form.rates) {
    const common = { product_id: rate.productId, starting_at: startingAt, credit_type_id: rate.creditTypeId, ...(rate.pricingGroupValues && { pricing_group_values: rate.pricingGroupValues }) };
    if (rate.rateType === 'FLAT') {
      const price = number(`price.${index}`, `New price of ${productName}`);
      if (price) rateChanges.push({ ...common, rate_type: 'FLAT', price: price.toFixed() });
      continue;
    }
    const current = rate.tiers ?? [];
    let typed = false;
    const tiers = current.map((tier, t) => {
      const size = number(`tier.${index}.${t}.size`, `Tier ${t + 1} size of ${productName}`);
      const price = number(`tier.${index}.${t}.price`, `Tier ${t + 1} price of ${productName}`);
      typed ||= size !== undefined || price !== undefined;
      return { size: size ?? tier.size, price: price ?? tier.price };
    });
    const added = current.length;
    const addedPrice = number(`tier.${index}.${added}.price`, `Added tier price of ${productName}`);
    const addedSize = number(`tier.${index}.${added}.size`, `Added tier size of ${productName}`);
    if (addedSize !== undefined && addedPrice === undefined) problems.push(`Added tier price of ${productName}: is required for an added tier`);
    if (addedPrice !== undefined) {
      typed = true;
      if (tiers.length && tiers.at(-1)!.size === null) problems.push(`Tier ${added} size of ${productName}: is required when a tier is added after it`);
      tiers.push({ size: addedSize ?? null, price: addedPrice });
    } else if (tiers.length && tiers.at(-1)!.size !== null && typed) {
      problems.push(`Tier ${added} size of ${productName}: must be empty on the last tier, which has no upper bound`);
    }
    if (typed) rateChanges.push({ ...common, rate_type: 'TIERED', tiers: tiers.map((tier) => ({ ...(tier.size !== null && { size: tier.size.toFixed() }), price: tier.price.toFixed() })) });
  }
  const newProductId = values.new_product_id?.trim() ?? '';
  const newPrice = number('new_price', 'Price of the added product');
  const newProduct = form.newProducts.find((product) => product.id === newProductId);
  const newUnit = form.units.find((unit) => unit.id === values.new_credit_type_id) ?? form.units[0];
  if (newProductId !== '' && !newProduct) problems.push('Product to add: is not a usage product this card leaves unpriced');
  if (newProductId !== '' && newPrice === undefined && !problems.some((problem) => problem.startsWith('Price of the added product'))) problems.push('Price of the added product: is required to add a product');
  if (newProductId === '' && newPrice !== undefined) problems.push('Product to add: choose the product the price is for');
  if (newProduct && newPrice && newUnit) rateChanges.push({ product_id: newProduct.id, starting_at: startingAt, rate_type: 'FLAT', price: newPrice.toFixed(), credit_type_id: newUnit.id });
  const credits = number('credits_per_seat', 'credits_per_seat');
  const seatDollars = amountOf(values, 'seat_price');
  if (seatDollars === null) problems.push('seat_price: must be a number (dollars)');
  if (problems.length) return { problems };
  const contractChanges = { ...(credits && { credits_per_seat: credits.toFixed() }), ...(seatDollars && { seat_price: seatDollars.mul(100).toFixed() }) };
  return {
    body: {
      starting_on: values.starting_on,
      ending_before: values.ending_before,
      ...(rateChanges.length && { rate_changes: rateChanges }),
      ...(Object.keys(contractChanges).length && { contract_changes: contractChanges }),
    },
  };
}

/**
 * The API's message about a body the form built, its `rate_changes.N` fields named as the page
 * labels them: `rate_changes.1.tiers.0.price: must be at least 0` → `Tier 1 price of Search: must be at least 0`.
 */
export function labelledProblems(message: string, form: PricingForm, body: unknown): string {
  const names = new Map([...form.rates.map(({ rate, productName }) => [rate.productId, productName] as const), ...form.newProducts.map((product) => [product.id, product.name] as const)]);
  const changes = ((body as { rate_changes?: { product_id: string }[] } | undefined)?.rate_changes ?? []).map((change) => names.get(change.product_id) ?? change.product_id);
  const name = (index: string) => changes[Number(index)] ?? `rate change ${Number(index) + 1}`;
  return message
    .replace(/rate_changes\.(\d+)\.tiers\.(\d+)\.(size|price)/g, (_, index: string, tier: string, field: string) => `Tier ${Number(tier) + 1} ${field} of ${name(index)}`)
    .replace(/rate_changes\.(\d+)(?:\.(\w+))?/g, (_, index: string, field: string | undefined) => `${name(index)}${field ? ` (${field.replace(/_/g, ' ')})` : ''}`);
}
