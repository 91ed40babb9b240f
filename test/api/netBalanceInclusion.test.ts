import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { createCreditType } from '../helpers/catalog.js';
import { expect400 } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * `getNetBalance`'s `invoice_inclusion_mode` through the SDK, on a clock starting 2024-04-10: a
 * credit of 400 AI credits from April to July, usage at 12 credits a unit. FINALIZED_AND_DRAFT
 * (the default) counts the drafts' live deductions, FINALIZED only what finalised invoices
 * deducted; an ended period still in its grace period is a draft too.
 */
describe.each(ENGINES)('getNetBalance invoice_inclusion_mode on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let aiCredits: string;
  let rateCard: string;
  let fixed: string;
  let sequence = 0;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z', periodClose: { intervalMs: 3_600_000 } });
    client = server.client();
    aiCredits = await createCreditType(server, 'AI credits');
    fixed = (await client.v1.contracts.products.create({ name: 'Credits', type: 'FIXED' })).data.id;
    const metric = (
      await client.v1.billableMetrics.create({ name: 'Units', event_type_filter: { in_values: ['usage'] }, aggregation_type: 'SUM', aggregation_key: 'units', property_filters: [{ name: 'units', exists: true }] })
    ).data.id;
    const product = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
    rateCard = (await client.v1.contracts.rateCards.create({ name: 'AI plan', credit_type_conversions: [{ custom_credit_type_id: aiCredits, fiat_per_custom_credit: 100 }] })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: rateCard, product_id: product, entitled: true, rate_type: 'FLAT', price: 12, credit_type_id: aiCredits, starting_at: '2024-01-01T00:00:00Z' });
  }, 120_000);
  afterAll(() => server?.stop());

  async function customerWithPool(alias: string) {
    const customer = (await client.v1.customers.create({ name: alias, ingest_aliases: [alias] })).data.id;
    await client.v1.contracts.create({
      customer_id: customer,
      starting_at: '2024-04-01T00:00:00Z',
      rate_card_id: rateCard,
      credits: [{ product_id: fixed, name: 'Pool', priority: 1, access_schedule: { credit_type_id: aiCredits, schedule_items: [{ amount: 400, starting_at: '2024-04-01T00:00:00Z', ending_before: '2024-07-01T00:00:00Z' }] } }],
    });
    return customer;
  }

  const ingest = (alias: string, units: number, timestamp: string) =>
    client.v1.usage.ingest({ usage: [{ transaction_id: `inclusion-${++sequence}`, customer_id: alias, event_type: 'usage', timestamp, properties: { units } }] });

  const net = async (customer: string, mode?: 'FINALIZED' | 'FINALIZED_AND_DRAFT') =>
    (await client.v1.contracts.getNetBalance({ customer_id: customer, credit_type_id: aiCredits, ...(mode && { invoice_inclusion_mode: mode }) })).data.balance;

  const setGraceHours = async (hours: number) => {
    const response = await fetch(`${server.baseURL}/v1/allot/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_grace_period_hours: hours }),
    });
    expect(response.status).toBe(200);
  };

  it('counts the draft’s 120 live: 280 by default and with FINALIZED_AND_DRAFT, 400 with FINALIZED; after April closes, 280 both', async () => {
    const customer = await customerWithPool('inclusion-a');
    await ingest('inclusion-a', 10, '2024-04-05T10:00:00Z');
    expect(await net(customer)).toBe(280);
    expect(await net(customer, 'FINALIZED_AND_DRAFT')).toBe(280);
    expect(await net(customer, 'FINALIZED')).toBe(400);
    // listBalances takes no inclusion mode (the SDK has none): it shows the live deductions.
    const { data } = await client.v1.contracts.listBalances({ customer_id: customer, include_balance: true });
    expect(data.map((grant) => grant.balance)).toEqual([280]);

    // A grace period of 24 hours: on May 1 at 12:00 April's invoice is still a draft.
    await setGraceHours(24);
    expect((await server.advanceClock('2024-05-01T12:00:00Z')).status).toBe(200);
    expect(await net(customer, 'FINALIZED_AND_DRAFT')).toBe(280);
    expect(await net(customer, 'FINALIZED')).toBe(400);

    // On May 2 April is finalised: its deduction is recorded, and both modes count it.
    expect((await server.advanceClock('2024-05-02T00:00:00Z')).status).toBe(200);
    const finalized = (await client.v1.customers.invoices.list({ customer_id: customer, status: 'FINALIZED' })).data;
    expect(finalized).toHaveLength(1);
    expect(await net(customer, 'FINALIZED_AND_DRAFT')).toBe(280);
    expect(await net(customer, 'FINALIZED')).toBe(280);

    // May's usage is May's draft: 3 units, 36 credits.
    await ingest('inclusion-a', 3, '2024-05-02T00:30:00Z');
    expect(await net(customer)).toBe(244);
    expect(await net(customer, 'FINALIZED')).toBe(280);
  });

  it('refuses an unknown invoice_inclusion_mode, naming it', async () => {
    const customer = await customerWithPool('inclusion-b');
    await expect400(client.v1.contracts.getNetBalance({ customer_id: customer, invoice_inclusion_mode: 'DRAFT' as 'FINALIZED' }), 'invoice_inclusion_mode');
  });
});
