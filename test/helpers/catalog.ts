import type Metronome from '@metronome/sdk';
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

export type SeatCatalog = Awaited<ReturnType<typeof seatCatalog>>;

export interface SeatContractOptions {
  catalog: SeatCatalog;
  seats: number;
  /** Whether a seat increase mid-period is prorated (default true). */
  isProrated?: boolean;
  startingAt?: string;
  rolloverFraction?: number;
  day?: 'FIRST_OF_MONTH' | 'CONTRACT_START';
  /** When a seat increase is billed (default on the next collection date). */
  invoiceBehavior?: 'BILL_IMMEDIATELY' | 'BILL_ON_NEXT_COLLECTION_DATE';
}

/**
 * A new customer on `seats` monthly seats with 50 AI credits per seat pooled, from `startingAt`
 * (default 2024-04-01); returns the customer, contract and subscription ids.
 */
export async function createSeatContract(
  client: Metronome,
  { catalog, seats, isProrated = true, startingAt = '2024-04-01T00:00:00Z', rolloverFraction, day, invoiceBehavior = 'BILL_ON_NEXT_COLLECTION_DATE' }: SeatContractOptions,
): Promise<{ customer: string; contract: string; subscription: string }> {
  const customer = (await client.v1.customers.create({ name: `Team of ${seats}` })).data.id;
  const contract = (
    await client.v1.contracts.create({
      customer_id: customer,
      starting_at: startingAt,
      rate_card_id: catalog.rateCard,
      ...(day && { usage_statement_schedule: { frequency: 'MONTHLY', day } }),
      subscriptions: [
        {
          temporary_id: 'seats',
          collection_schedule: 'ADVANCE',
          initial_quantity: seats,
          proration: { is_prorated: true, invoice_behavior: invoiceBehavior },
          subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
        },
      ],
      recurring_credits: [
        {
          product_id: catalog.poolProduct,
          name: 'Pooled AI credits',
          access_amount: { credit_type_id: catalog.aiCredits, unit_price: 50 },
          commit_duration: { value: 1, unit: 'PERIODS' },
          priority: 1,
          starting_at: startingAt,
          ...(rolloverFraction !== undefined && { rollover_fraction: rolloverFraction }),
          subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: isProrated } },
        },
      ],
    })
  ).data.id;
  const retrieved = await client.v2.contracts.retrieve({ customer_id: customer, contract_id: contract });
  return { customer, contract, subscription: retrieved.data.subscriptions![0]!.id! };
}

/**
 * A "Tokens" metric summing `credits` grouped by `user_id`, and a Chat product on the seat
 * catalog's rate card at 1 AI credit a unit: usage that names its seat (docs/rules.md rule 29).
 */
export async function addSeatChat(client: Metronome, catalog: SeatCatalog): Promise<string> {
  const metric = (
    await client.v1.billableMetrics.create({
      name: 'Tokens',
      event_type_filter: { in_values: ['tokens'] },
      aggregation_type: 'SUM',
      aggregation_key: 'credits',
      property_filters: [
        { name: 'credits', exists: true },
        { name: 'user_id', exists: true },
      ],
      group_keys: [['user_id']],
    })
  ).data.id;
  const chat = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
  await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: chat, entitled: true, rate_type: 'FLAT', price: 1, credit_type_id: catalog.aiCredits, starting_at: '2024-01-01T00:00:00Z' });
  return chat;
}

/**
 * A new customer on a SEAT_BASED subscription (seats by `user_id`) from April 1, 2024, with 50 AI
 * credits a seat of its own (`seatPriority`) and 100 a seat pooled (`poolPriority`).
 */
export async function createHybridSeatContract(
  client: Metronome,
  { catalog, name, seatIds, seatPriority, poolPriority }: { catalog: SeatCatalog; name: string; seatIds: string[]; seatPriority: number; poolPriority: number },
): Promise<{ customer: string; contract: string }> {
  const customer = (await client.v1.customers.create({ name })).data.id;
  const grant = (allocation: 'INDIVIDUAL' | 'POOLED', unit_price: number, priority: number) => ({
    product_id: catalog.poolProduct,
    name: allocation === 'POOLED' ? 'Team pool' : 'Own credits',
    access_amount: { credit_type_id: catalog.aiCredits, unit_price },
    commit_duration: { value: 1, unit: 'PERIODS' as const },
    priority,
    starting_at: '2024-04-01T00:00:00Z',
    subscription_config: { subscription_id: 'seats', allocation, apply_seat_increase_config: { is_prorated: true } },
  });
  const contract = (
    await client.v1.contracts.create({
      customer_id: customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: catalog.rateCard,
      subscriptions: [
        {
          temporary_id: 'seats',
          collection_schedule: 'ADVANCE',
          quantity_management_mode: 'SEAT_BASED',
          seat_config: { initial_seat_ids: seatIds, seat_group_key: 'user_id' },
          proration: { is_prorated: true },
          subscription_rate: { product_id: catalog.seatsProduct, billing_frequency: 'MONTHLY' },
        },
      ],
      recurring_credits: [grant('INDIVIDUAL', 50, seatPriority), grant('POOLED', 100, poolPriority)],
    })
  ).data.id;
  return { customer, contract };
}
