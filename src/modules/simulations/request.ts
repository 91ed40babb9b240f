import type { ServiceContext } from '../../lib/context.js';
import { NotFound, Problems } from '../../lib/errors.js';
import { Decimal } from '../../lib/money.js';
import * as customers from '../customers/service.js';
import * as pricing from '../pricing/service.js';
import type { RateChange, Scenario } from './compute/scenario.js';
import type { SimulationBody } from './schemas.js';

/** A simulation as asked for, checked: the window, the customers (null: every live customer), the credit type and the scenario. */
export interface SimulationRequest {
  startingOn: Date;
  endingBefore: Date;
  customerIds: string[] | null;
  creditTypeId: string | null;
  scenario: Scenario;
}

/**
 * Checks a simulation request against the tenant's catalog and customers, and names every
 * offending field in one 400: the window (`ending_before` after `starting_on`, `starting_on` not
 * in the future), each unknown customer (`customer_ids.2`), an unknown credit type or rate card,
 * and each rate change's product (a live USAGE product), price or tiers, pricing unit (one the
 * named rate card converts, when it names a custom one) and pricing group values.
 */
export async function checkRequest(ctx: ServiceContext, { tenantId, body }: { tenantId: string; body: SimulationBody }): Promise<SimulationRequest> {
  const problems = new Problems();
  const now = ctx.clock.now();
  problems.check(body.ending_before > body.starting_on, 'ending_before', 'must be after starting_on');
  problems.check(body.starting_on <= now, 'starting_on', 'must not be in the future: a simulation replays stored usage');
  const customerIds = body.customer_ids?.map((customerId) => customerId.toLowerCase()) ?? null;
  if (customerIds) {
    const found = await Promise.all(customerIds.map((customerId) => customers.getCustomer(ctx, { tenantId, customerId }).then(() => true, notFoundAsFalse)));
    found.forEach((ok, index) => problems.check(ok, `customer_ids.${index}`, `no customer with id ${customerIds[index]}`));
  }
  const creditTypeId = body.credit_type_id?.toLowerCase() ?? null;
  if (creditTypeId) problems.check((await pricing.findCreditType(ctx, { tenantId, creditTypeId })) !== undefined, 'credit_type_id', `no pricing unit with id ${creditTypeId}`);
  const rateCardId = body.rate_card_id?.toLowerCase() ?? null;
  const rateCard = rateCardId ? await pricing.findRateCard(ctx, { tenantId, rateCardId }) : undefined;
  if (rateCardId) problems.check(rateCard !== undefined, 'rate_card_id', `no rate card with id ${rateCardId}`);
  const rateChanges = await checkRateChanges(ctx, { tenantId, changes: body.rate_changes ?? [], rateCard, problems });
  const credits = body.contract_changes?.credits_per_seat ?? null;
  const seatPrice = body.contract_changes?.seat_price ?? null;
  if (credits) problems.check(!credits.isNegative(), 'contract_changes.credits_per_seat', 'must be 0 or more');
  if (seatPrice) problems.check(!seatPrice.isNegative(), 'contract_changes.seat_price', 'must be 0 or more');
  problems.throwIfAny();
  return {
    startingOn: body.starting_on,
    endingBefore: body.ending_before,
    customerIds: customerIds && [...new Set(customerIds)],
    creditTypeId,
    scenario: { rateCardId, rateChanges, creditsPerSeat: credits, seatPrice },
  };
}

function notFoundAsFalse(error: unknown): false {
  if (error instanceof NotFound) return false;
  throw error;
}

async function checkRateChanges(
  ctx: ServiceContext,
  { tenantId, changes, rateCard, problems }: { tenantId: string; changes: NonNullable<SimulationBody['rate_changes']>; rateCard: pricing.RateCard | undefined; problems: Problems },
): Promise<RateChange[]> {
  const productIds = [...new Set(changes.map((change) => change.product_id.toLowerCase()))];
  const creditTypeIds = [...new Set(changes.map((change) => change.credit_type_id?.toLowerCase() ?? pricing.USD_CREDIT_TYPE_ID))];
  const [products, creditTypes] = await Promise.all([pricing.findProducts(ctx, { tenantId, productIds }), pricing.findCreditTypes(ctx, { tenantId, creditTypeIds })]);
  return changes.map((change, index) => {
    const at = (field: string) => `rate_changes.${index}.${field}`;
    const productId = change.product_id.toLowerCase();
    const product = products.get(productId);
    if (problems.check(product !== undefined, at('product_id'), `no product with id ${productId}`)) {
      if (problems.check(product!.type === 'USAGE', at('product_id'), `${product!.name} is a ${product!.type} product: rate changes price usage (seat prices are contract_changes.seat_price)`)) {
        problems.check(!product!.archivedAt, at('product_id'), `${product!.name} is archived`);
      }
      const key = product!.pricingGroupKey ?? [];
      const values = change.pricing_group_values;
      if (values) {
        const named = Object.keys(values).sort();
        problems.check(key.length > 0, at('pricing_group_values'), `${product!.name} has no pricing_group_key`) &&
          problems.check(named.length === key.length && [...key].sort().every((property, i) => property === named[i]), at('pricing_group_values'), `must name exactly the product's pricing_group_key: ${key.join(', ')}`);
      }
    }
    if (change.rate_type === 'FLAT') {
      if (problems.check(change.price !== undefined, at('price'), 'is required for a FLAT rate')) problems.check(!change.price!.isNegative(), at('price'), 'must be at least 0');
      problems.check(change.tiers === undefined, at('tiers'), 'must be omitted for a FLAT rate');
    } else {
      problems.check(change.price === undefined, at('price'), 'must be omitted for a TIERED rate: each tier has its price');
      if (problems.check(change.tiers !== undefined, at('tiers'), 'is required for a TIERED rate')) problems.addAll(pricing.tierProblems(tiersOf(change.tiers!), at('tiers')));
    }
    const creditTypeId = change.credit_type_id?.toLowerCase() ?? pricing.USD_CREDIT_TYPE_ID;
    const creditType = creditTypes.get(creditTypeId);
    if (problems.check(creditType !== undefined, at('credit_type_id'), `no pricing unit with id ${creditTypeId}`) && rateCard && !creditType!.isCurrency) {
      problems.check(
        rateCard.creditTypeConversions.some((conversion) => conversion.customCreditTypeId === creditTypeId),
        at('credit_type_id'),
        `the rate card ${rateCard.name} has no conversion for ${creditType!.name}`,
      );
    }
    return {
      productId,
      startingAt: change.starting_at,
      rateType: change.rate_type,
      price: change.price ?? null,
      tiers: change.tiers ? tiersOf(change.tiers) : null,
      creditTypeId,
      pricingGroupValues: change.pricing_group_values ?? null,
    };
  });
}

const tiersOf = (tiers: { size?: Decimal | undefined; price: Decimal }[]): pricing.Tier[] => tiers.map((tier) => ({ size: tier.size ?? null, price: tier.price }));
