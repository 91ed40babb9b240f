import type { TestServer } from './server.js';

/** A custom pricing unit, through Allot's own `POST /v1/allot/credit-types/create`. */
export async function createCreditType(server: TestServer, name: string): Promise<string> {
  const response = await fetch(`${server.baseURL}/v1/allot/credit-types/create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (response.status !== 200) throw new Error(`creating the pricing unit ${name} failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { data: { id: string } }).data.id;
}

/**
 * The catalog of a seat plan: an "AI credits" unit, a SUBSCRIPTION product for seats, a FIXED
 * product for the pooled credits, and a rate card with a monthly seat rate of `seatPrice` cents.
 */
export async function seatCatalog(
  server: TestServer,
  { seatPrice = 0, aiCreditsInCents }: { seatPrice?: number; aiCreditsInCents?: number } = {},
): Promise<{ aiCredits: string; seatsProduct: string; poolProduct: string; rateCard: string }> {
  const client = server.client();
  const aiCredits = await createCreditType(server, 'AI credits');
  const seatsProduct = (await client.v1.contracts.products.create({ name: 'Seats', type: 'SUBSCRIPTION' })).data.id;
  const poolProduct = (await client.v1.contracts.products.create({ name: 'Pooled AI credits', type: 'FIXED' })).data.id;
  const rateCard = (
    await client.v1.contracts.rateCards.create({
      name: 'Team plan',
      ...(aiCreditsInCents !== undefined && { credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: aiCreditsInCents }] }),
    })
  ).data.id;
  await client.v1.contracts.rateCards.rates.add({
    rate_card_id: rateCard,
    product_id: seatsProduct,
    entitled: true,
    rate_type: 'SUBSCRIPTION',
    price: seatPrice,
    billing_frequency: 'MONTHLY',
    starting_at: '2020-01-01T00:00:00Z',
  });
  return { aiCredits, seatsProduct, poolProduct, rateCard };
}
