import type { ServiceContext } from '../../lib/context.js';
import type { Problems } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { toNumericText } from '../../lib/money.js';
import * as pricing from '../pricing/service.js';
import { checkCreditType, checkProduct, within } from './plan.js';
import type { ContractOverrideRow, ContractRow } from './repo.js';
import type { OverrideInput } from './schemas.js';

/**
 * Validates the overrides a create (`overrides`) or an edit (`add_overrides`) adds to `contract`
 * and builds their rows. The products they name must be live USAGE products (overrides change
 * usage prices); the contract needs a rate card (overrides change its prices); an override lies
 * within the contract, from `notBefore` on (the open period's start on an edit). `priority` orders
 * multipliers under the contract's `multiplier_override_prioritization` EXPLICIT, where every
 * multiplier needs one; anywhere else it would have no effect and is refused. Every problem, of
 * every override, goes to `problems`; the rows are only good to write when there are none.
 */
export async function planOverrides(
  ctx: ServiceContext,
  {
    tenantId,
    contract,
    field,
    items,
    notBefore,
    problems,
  }: { tenantId: string; contract: ContractRow; field: string; items: readonly OverrideInput[]; notBefore: Date; problems: Problems },
): Promise<ContractOverrideRow[]> {
  if (items.length === 0) return [];
  problems.check(contract.rate_card_id !== null, field, "overrides change the rate card's prices; the contract has no rate_card_id");
  const productIds = new Set<string>();
  for (const item of items) {
    if (item.product_id) productIds.add(item.product_id);
    for (const specifier of item.override_specifiers ?? []) if (specifier.product_id) productIds.add(specifier.product_id);
  }
  const creditTypeIds = items.flatMap((item) => (item.overwrite_rate?.credit_type_id ? [item.overwrite_rate.credit_type_id] : []));
  const [products, creditTypes] = await Promise.all([
    pricing.findProducts(ctx, { tenantId, productIds: [...productIds] }),
    pricing.findCreditTypes(ctx, { tenantId, creditTypeIds: [...new Set(creditTypeIds)] }),
  ]);
  const explicit = contract.multiplier_override_prioritization === 'EXPLICIT';
  return items.map((item, index): ContractOverrideRow => {
    const at = `${field}.${index}`;
    if (item.product_id) checkProduct(problems, products, `${at}.product_id`, item.product_id, 'USAGE');
    item.override_specifiers?.forEach((specifier, i) => {
      if (specifier.product_id) checkProduct(problems, products, `${at}.override_specifiers.${i}.product_id`, specifier.product_id, 'USAGE');
    });
    within(problems, `${at}.starting_at`, item.starting_at, contract, { notBefore });
    if (item.ending_before) within(problems, `${at}.ending_before`, item.ending_before, contract, { notBefore: item.starting_at });
    if (item.priority !== undefined && !explicit) {
      problems.add(`${at}.priority`, 'orders multipliers only under multiplier_override_prioritization EXPLICIT; this contract picks the lowest multiplier');
    } else if (item.priority !== undefined && item.type === 'OVERWRITE') {
      problems.add(`${at}.priority`, 'must be omitted for an OVERWRITE override: overwrites take precedence over multipliers');
    } else if (item.priority === undefined && explicit && item.type === 'MULTIPLIER') {
      problems.add(`${at}.priority`, 'is required for a MULTIPLIER under multiplier_override_prioritization EXPLICIT');
    }
    const rate = item.overwrite_rate;
    if (rate?.credit_type_id) checkCreditType(problems, creditTypes, `${at}.overwrite_rate.credit_type_id`, rate.credit_type_id);
    const tiers = rate?.tiers?.map((tier) => ({ size: tier.size ?? null, price: tier.price }));
    if (tiers) problems.addAll(pricing.tierProblems(tiers, `${at}.overwrite_rate.tiers`));
    return {
      id: newId(),
      contract_id: contract.id,
      customer_id: contract.customer_id,
      type: item.type!,
      starting_at: item.starting_at,
      ending_before: item.ending_before ?? null,
      override_specifiers: item.override_specifiers
        ? item.override_specifiers.map((specifier) => ({ ...(specifier.product_id && { product_id: specifier.product_id }), ...(specifier.product_tags && { product_tags: specifier.product_tags }) }))
        : null,
      product_id: item.product_id ?? null,
      applicable_product_tags: item.applicable_product_tags ?? null,
      entitled: item.entitled ?? null,
      priority: item.priority ? toNumericText(item.priority) : null,
      multiplier: item.multiplier ? toNumericText(item.multiplier) : null,
      rate_type: (rate?.rate_type as 'FLAT' | 'TIERED' | undefined) ?? null,
      price: rate?.price ? toNumericText(rate.price) : null,
      tiers: tiers ? tiers.map((tier) => ({ size: tier.size && toNumericText(tier.size), price: toNumericText(tier.price) })) : null,
      credit_type_id: rate?.credit_type_id ?? null,
      created_at: ctx.clock.now(),
    };
  });
}
