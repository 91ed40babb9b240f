import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCreditType } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * ANNUAL seats with MONTHLY credits (docs/rules.md rules 4 and 5), Metronome's hybrid pricing: a
 * price per seat per year, 100 AI credits per seat per month. 10 seats billed ANNUAL from
 * 2024-04-01 grant 1,000 in April and a fresh 1,000 in May; +5 seats on April 16 add
 * 5 × 100 × 15/30 = 250 in April, and May grants 1,500. The seats are billed once for the year.
 */

type Balance = Awaited<ReturnType<Metronome['v1']['contracts']['listBalances']>>['data'][number];
type Frequency = 'MONTHLY' | 'QUARTERLY' | 'ANNUAL' | 'WEEKLY';

describe.each(ENGINES)('annual seats with monthly credits on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let aiCredits: string;
  let seatsProduct: string;
  let poolProduct: string;
  let rateCard: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-01T00:00:00Z' });
    client = server.client();
    aiCredits = await createCreditType(server, 'AI credits');
    seatsProduct = (await client.v1.contracts.products.create({ name: 'Seats', type: 'SUBSCRIPTION' })).data.id;
    poolProduct = (await client.v1.contracts.products.create({ name: 'Monthly AI credits', type: 'FIXED' })).data.id;
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'Hybrid plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 1 }] })).data.id;
    // $1,200 a seat a year, $300 a quarter or $120 a month.
    for (const [billing_frequency, price] of [['ANNUAL', 120_000], ['QUARTERLY', 30_000], ['MONTHLY', 12_000]] as const) {
      await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: seatsProduct, entitled: true, rate_type: 'SUBSCRIPTION', price, billing_frequency, starting_at: '2020-01-01T00:00:00Z' });
    }
  });
  afterAll(() => server.stop());

  async function contract({ seats, billing, credits, unitPrice = 100 }: { seats: number; billing: Frequency; credits?: Frequency; unitPrice?: number }) {
    const customer = (await client.v1.customers.create({ name: `${seats} ${billing} seats` })).data.id;
    const create = () =>
      client.v1.contracts.create({
        customer_id: customer,
        starting_at: '2024-04-01T00:00:00Z',
        rate_card_id: rateCard,
        subscriptions: [
          {
            temporary_id: 'seats',
            collection_schedule: 'ADVANCE',
            initial_quantity: seats,
            proration: { is_prorated: true, invoice_behavior: 'BILL_ON_NEXT_COLLECTION_DATE' },
            subscription_rate: { product_id: seatsProduct, billing_frequency: billing },
          },
        ],
        recurring_credits: [
          {
            product_id: poolProduct,
            name: 'AI credits',
            access_amount: { credit_type_id: aiCredits, unit_price: unitPrice },
            commit_duration: { value: 1, unit: 'PERIODS' },
            priority: 1,
            starting_at: '2024-04-01T00:00:00Z',
            ...(credits && { recurrence_frequency: credits }),
            subscription_config: { subscription_id: 'seats', allocation: 'POOLED', apply_seat_increase_config: { is_prorated: true } },
          },
        ],
      });
    return { customer, create };
  }

  async function seatContract(options: { seats: number; billing: Frequency; credits?: Frequency; unitPrice?: number }) {
    const { customer, create } = await contract(options);
    const id = (await create()).data.id;
    const subscription = (await client.v2.contracts.retrieve({ customer_id: customer, contract_id: id })).data.subscriptions![0]!.id!;
    const changeSeats = (updates: { starting_at: string; quantity?: number; quantity_delta?: number }[]) =>
      client.v2.contracts.edit({ customer_id: customer, contract_id: id, update_subscriptions: [{ subscription_id: subscription, quantity_updates: updates }] });
    return { customer, contract: id, subscription, changeSeats };
  }

  const balancesOf = async (customer: string): Promise<Balance[]> =>
    (await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true, include_ledgers: true })).data;
  const pool = async (customer: string) => (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits })).data.balance;
  const ledger = (balance: Balance) => (balance.ledger ?? []).map((entry) => [entry.type, entry.amount, entry.timestamp]);
  const windowOf = (balance: Balance) => [balance.access_schedule!.schedule_items[0]!.starting_at.slice(0, 10), balance.access_schedule!.schedule_items[0]!.ending_before.slice(0, 10)];
  async function seatLines(customer: string) {
    const invoices = [];
    for await (const invoice of client.v1.customers.invoices.list({ customer_id: customer })) invoices.push(invoice);
    return invoices.map((invoice) => [invoice.status, invoice.start_timestamp?.slice(0, 10), invoice.line_items.filter((line) => line.type === 'subscription').map((line) => line.total)]);
  }

  let hybrid: Awaited<ReturnType<typeof seatContract>>;
  let sameFrequency: Awaited<ReturnType<typeof seatContract>>;
  let quarterly: Awaited<ReturnType<typeof seatContract>>;
  let monthly: Awaited<ReturnType<typeof seatContract>>;

  it('grants 10 seats × 100 credits = 1,000 for April, on a credit recurring MONTHLY from its starting_at', async () => {
    hybrid = await seatContract({ seats: 10, billing: 'ANNUAL', credits: 'MONTHLY' });
    // The same seats with a credit on the subscription's own frequency: one grant for the year.
    sameFrequency = await seatContract({ seats: 10, billing: 'ANNUAL', unitPrice: 1200 });
    quarterly = await seatContract({ seats: 10, billing: 'ANNUAL', credits: 'QUARTERLY', unitPrice: 300 });
    monthly = await seatContract({ seats: 10, billing: 'MONTHLY', credits: 'MONTHLY' });

    const [april] = await balancesOf(hybrid.customer);
    expect(windowOf(april!)).toEqual(['2024-04-01', '2024-05-01']);
    expect(ledger(april!)).toEqual([['CREDIT_SEGMENT_START', 1000, '2024-04-01T00:00:00.000Z']]);
    expect(await pool(hybrid.customer)).toBe(1000);
    const retrieved = (await client.v2.contracts.retrieve({ customer_id: hybrid.customer, contract_id: hybrid.contract })).data;
    expect(retrieved.recurring_credits![0]).toMatchObject({ recurrence_frequency: 'MONTHLY', subscription_config: { subscription_id: hybrid.subscription } });
    expect(retrieved.subscriptions![0]!.billing_periods!.current).toEqual({ starting_at: '2024-04-01T00:00:00.000Z', ending_before: '2025-04-01T00:00:00.000Z' });

    const [year] = await balancesOf(sameFrequency.customer);
    expect(windowOf(year!)).toEqual(['2024-04-01', '2025-04-01']);
    expect(year!.balance).toBe(12000);
    const [quarter] = await balancesOf(quarterly.customer);
    expect(windowOf(quarter!)).toEqual(['2024-04-01', '2024-07-01']);
    expect(quarter!.balance).toBe(3000);
    expect(await pool(monthly.customer)).toBe(1000);
  });

  it('bills the ANNUAL seats once, as with a credit on the subscription’s frequency: 10 × $1,200', async () => {
    expect(await seatLines(hybrid.customer)).toEqual([['DRAFT', '2024-04-01', [1_200_000]]]);
    expect(await seatLines(hybrid.customer)).toEqual(await seatLines(sameFrequency.customer));
  });

  it('refuses a credit period longer than the billing period, or WEEKLY with another frequency, naming recurrence_frequency', async () => {
    await expect400((await contract({ seats: 1, billing: 'MONTHLY', credits: 'ANNUAL' })).create(), 'recurring_credits.0.recurrence_frequency');
    await expect400((await contract({ seats: 1, billing: 'QUARTERLY', credits: 'ANNUAL' })).create(), 'recurring_credits.0.recurrence_frequency');
    await expect400((await contract({ seats: 1, billing: 'MONTHLY', credits: 'WEEKLY' })).create(), 'recurring_credits.0.recurrence_frequency');
  });

  it('prorates +5 seats on April 16 into the April credit period: +5 × 100 × 15/30 = 250', async () => {
    await hybrid.changeSeats([{ starting_at: '2024-04-16T00:00:00Z', quantity_delta: 5 }]);
    await sameFrequency.changeSeats([{ starting_at: '2024-04-16T00:00:00Z', quantity_delta: 5 }]);
    expect(await pool(hybrid.customer)).toBe(1000);
    expect((await server.advanceClock('2024-04-16T00:00:00Z')).status).toBe(200);
    const [april] = await balancesOf(hybrid.customer);
    expect(ledger(april!)).toEqual([
      ['CREDIT_SEGMENT_START', 1000, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_SEAT_BASED_ADJUSTMENT', 250, '2024-04-16T00:00:00.000Z'],
    ]);
    expect(await pool(hybrid.customer)).toBe(1250);
    // The seat charge is the year's: 5 × $1,200 × 350/365 (April 16 to 2025-04-01), the same with either credit.
    const lines = await seatLines(hybrid.customer);
    expect(lines).toEqual(await seatLines(sameFrequency.customer));
    expect(lines[0]![2]).toEqual([1_200_000, expect.closeTo((600_000 * 350) / 365, 6)]);
  });

  it('refuses a quantity change dated in a credit period that has ended', async () => {
    expect((await server.advanceClock('2024-05-10T00:00:00Z')).status).toBe(200);
    await expect400(hybrid.changeSeats([{ starting_at: '2024-04-20T00:00:00Z', quantity: 20 }]), 'update_subscriptions.0.quantity_updates.0.starting_at');
    // The credit on the subscription's frequency is still in its first period: the year's open period allows April 20.
    await sameFrequency.changeSeats([{ starting_at: '2024-04-20T00:00:00Z', quantity: 16 }]);
  });

  it('expires April’s remainder and grants 15 seats × 100 = 1,500 for May', async () => {
    const [april, may] = await balancesOf(hybrid.customer);
    expect(ledger(april!)).toEqual([
      ['CREDIT_SEGMENT_START', 1000, '2024-04-01T00:00:00.000Z'],
      ['CREDIT_SEAT_BASED_ADJUSTMENT', 250, '2024-04-16T00:00:00.000Z'],
      ['CREDIT_EXPIRATION', -1250, '2024-05-01T00:00:00.000Z'],
    ]);
    expect(windowOf(may!)).toEqual(['2024-05-01', '2024-06-01']);
    expect(ledger(may!)).toEqual([['CREDIT_SEGMENT_START', 1500, '2024-05-01T00:00:00.000Z']]);
    expect(await pool(hybrid.customer)).toBe(1500);
    // The quarter and the year are still running; a MONTHLY credit on MONTHLY seats grants May as before.
    expect(await pool(quarterly.customer)).toBe(3000);
    expect(await pool(monthly.customer)).toBe(1000);
  });

  it('keeps May’s own high-water mark: 15 → 10 → 16 adds 1 × 100 × 12/31', async () => {
    await hybrid.changeSeats([
      { starting_at: '2024-05-10T00:00:00Z', quantity: 10 },
      { starting_at: '2024-05-20T00:00:00Z', quantity: 16 },
    ]);
    expect((await server.advanceClock('2024-05-20T00:00:00Z')).status).toBe(200);
    const may = (await balancesOf(hybrid.customer)).find((balance) => windowOf(balance)[0] === '2024-05-01')!;
    expect(ledger(may)).toEqual([
      ['CREDIT_SEGMENT_START', 1500, '2024-05-01T00:00:00.000Z'],
      ['CREDIT_SEAT_BASED_ADJUSTMENT', expect.closeTo(1200 / 31, 12), '2024-05-20T00:00:00.000Z'],
    ]);
    // The seats' high-water mark is the year's (15): 16 bills one seat more, for the 316 of 365 days left, on May's invoice.
    expect((await seatLines(hybrid.customer)).find(([status]) => status === 'DRAFT')).toEqual(['DRAFT', '2024-05-01', [expect.closeTo((120_000 * 316) / 365, 6)]]);
  });

  it('ends the monthly credit on a boundary of its own periods (June 1), though the seats’ year that began in April runs on', async () => {
    const credit = (await client.v2.contracts.retrieve({ customer_id: hybrid.customer, contract_id: hybrid.contract })).data.recurring_credits![0]!.id;
    const end = (ending_before: string) =>
      client.v2.contracts.edit({ customer_id: hybrid.customer, contract_id: hybrid.contract, update_recurring_credits: [{ recurring_credit_id: credit, ending_before }] });
    // Checked against the credit's monthly periods: against the seats' year (April 1 to April 1) it would cut a period begun before May.
    await end('2024-06-01T00:00:00Z');
    expect((await server.advanceClock('2024-06-02T00:00:00Z')).status).toBe(200);
    const windows = (await balancesOf(hybrid.customer)).map(windowOf);
    expect(windows).toEqual([
      ['2024-04-01', '2024-05-01'],
      ['2024-05-01', '2024-06-01'],
    ]);
  });
});
