import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { csrfOf, Visitor } from '../helpers/visitor.js';

/**
 * The dashboard's pricing page over HTTP: the setup of `simulations.test.ts` (20 seats, a pool of
 * 1,000 AI credits, Chat at 5 credits a unit, 10 units a day through April, an AI credit worth 10
 * cents; the clock at May 10). Chat's price doubled on a copy of the card: $250.00 → $400.00.
 */
describe.each(ENGINES)('the pricing page on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let visitor: Visitor;
  let translate: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-30T13:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 10 });
    const metric = (
      await client.v1.billableMetrics.create({ name: 'Units', event_type_filter: { in_values: ['chat'] }, aggregation_type: 'SUM', aggregation_key: 'units', property_filters: [{ name: 'units', exists: true }] })
    ).data.id;
    const chat = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: chat, entitled: true, rate_type: 'FLAT', price: 5, credit_type_id: catalog.aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    // Search, tiered, and Translate, not on the card yet: no usage of either.
    const searches = (await client.v1.billableMetrics.create({ name: 'Searches', event_type_filter: { in_values: ['search'] }, aggregation_type: 'COUNT' })).data.id;
    const search = (await client.v1.contracts.products.create({ name: 'Search', type: 'USAGE', billable_metric_id: searches })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: search, entitled: true, rate_type: 'TIERED', tiers: [{ size: 100, price: 1 }, { price: 2 }], credit_type_id: catalog.aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    translate = (await client.v1.contracts.products.create({ name: 'Translate', type: 'USAGE', billable_metric_id: searches })).data.id;
    const { customer } = await createSeatContract(client, { catalog, seats: 20 });
    const usage = Array.from({ length: 30 }, (_, i) => ({ transaction_id: `chat-${i}`, customer_id: customer, event_type: 'chat', timestamp: `2024-04-${String(i + 1).padStart(2, '0')}T12:00:00Z`, properties: { units: 10 } }));
    await client.v1.usage.ingest({ usage });
    expect((await server.advanceClock('2024-05-10T00:00:00Z')).status).toBe(200);
    visitor = new Visitor(server.baseURL);
    expect((await visitor.signIn(server.key)).status).toBe(303);
  });
  afterAll(() => server.stop());

  it('runs a simulation of a doubled price from a copy of the rate card, and shows the totals, the biggest increase and the pools', async () => {
    const page = await (await visitor.request('/ui/pricing')).text();
    expect(page).toContain('Pricing experiments');
    expect(page).toMatch(/Chat<\/td>\s*<td class="num">5 AI credits a unit/);
    const price = /name="(price\.\d+)" inputmode="decimal" aria-label="New price of Chat/.exec(page)![1]!;
    const form = { csrf: csrfOf(page), rate_card_id: catalog.rateCard, starting_on: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z', [price]: '10' };

    const refused = await visitor.post('/ui/pricing', { ...form, [price]: 'ten' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('New price of Chat: must be a number');
    expect((await visitor.post('/ui/pricing', { ...form, csrf: 'forged' })).status).toBe(403);

    const ran = await visitor.post('/ui/pricing', form);
    expect(ran.status).toBe(303);
    const result = await (await visitor.request(ran.headers.get('location')!)).text();
    expect(result).toContain('data-testid="simulation-status">completed');
    expect(result).toContain('data-testid="total-actual">$250.00');
    expect(result).toContain('data-testid="total-simulated">$400.00');
    expect(result).toMatch(/data-testid="losers">[\s\S]*Team of 20[\s\S]*\+\$150\.00/);
    expect(result).toMatch(/data-testid="pools-table">[\s\S]*1,500\.00 AI credits[\s\S]*3,000\.00 AI credits[\s\S]*2024-04-21 00:00[\s\S]*2024-04-11 00:00[\s\S]*Crosses/);
    expect(result).toContain('data-chart="change-distribution"');
    // The burn-down of the biggest increase is shown: 1,000 less 50 a day now, less 100 a day simulated, at each midnight of April.
    expect(result).toContain('data-testid="burn-down-customer">Team of 20');
    expect(result).toContain('data-chart="burn-down-chart"');
    const burnDown = /data-testid="burn-down-table">([\s\S]*?)<\/table>/.exec(result)![1]!;
    const rows = [...burnDown.matchAll(/<tr><td>([^<]+)<\/td><td class="num">([^<]+)<\/td><td class="num">([^<]+)<\/td><\/tr>/g)].map((match) => match.slice(1));
    expect(rows).toHaveLength(31);
    expect(rows[0]).toEqual(['2024-04-01 00:00', '1,000.00 AI credits', '1,000.00 AI credits']);
    expect(rows[1]).toEqual(['2024-04-02 00:00', '950.00 AI credits', '900.00 AI credits']);
    expect(rows[10]).toEqual(['2024-04-11 00:00', '500.00 AI credits', '0.00 AI credits']);
    expect(rows[30]).toEqual(['2024-05-01 00:00', '0.00 AI credits', '0.00 AI credits']);
    expect(result).toContain('data-testid="burn-down-runout-actual">2024-04-21 00:00');
    expect(result).toContain('data-testid="burn-down-runout-simulated">2024-04-11 00:00');
    // Chosen by its link in the pools table.
    const link = /href="([^"]+)" aria-current="true" data-testid="burn-down-link"/.exec(result)![1]!.replaceAll('&amp;', '&');
    expect(await (await visitor.request(link)).text()).toContain('data-testid="burn-down-customer">Team of 20');
    // Listed on the pricing page.
    expect(await (await visitor.request('/ui/pricing')).text()).toMatch(/data-testid="simulations-table">[\s\S]*completed[\s\S]*\$250\.00[\s\S]*\$400\.00/);
  });

  it('edits a tiered rate’s tiers and adds a product the card does not price, naming each bad field', async () => {
    const page = await (await visitor.request('/ui/pricing')).text();
    const tier = /name="(tier\.\d+)\.0\.size" inputmode="decimal" size="8" aria-label="Tier 1 size of Search" placeholder="100"/.exec(page)![1]!;
    expect(page).toMatch(/first 100 units: 1 AI credits a unit<\/div><div>above: 2 AI credits a unit/);
    expect(page).toContain(`<option value="${translate}">Translate</option>`);
    expect(page).not.toMatch(/<option value="[^"]+">Chat<\/option>/);
    const form = { csrf: csrfOf(page), rate_card_id: catalog.rateCard, starting_on: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' };

    const refused = await visitor.post('/ui/pricing', { ...form, [`${tier}.1.price`]: 'x', [`${tier}.2.size`]: '10', new_price: '7' });
    expect(refused.status).toBe(400);
    const refusal = await refused.text();
    expect(refusal).toContain('Tier 2 price of Search: must be a number');
    expect(refusal).toContain('Added tier price of Search: is required for an added tier');
    expect(refusal).toContain('Product to add: choose the product the price is for');
    const noLimit = await visitor.post('/ui/pricing', { ...form, [`${tier}.1.size`]: '50' });
    expect(await noLimit.text()).toContain('Tier 2 size of Search: must be empty on the last tier, which has no upper bound');
    expect((await visitor.post('/ui/pricing', { ...form, new_product_id: translate })).status).toBe(400);
    // The API's own checks, named as the page labels the fields.
    const negative = await visitor.post('/ui/pricing', { ...form, [`${tier}.0.price`]: '-1' });
    expect(negative.status).toBe(400);
    expect(await negative.text()).toContain('Tier 1 price of Search: must be at least 0');

    const ran = await visitor.post('/ui/pricing', { ...form, [`${tier}.0.size`]: '50', [`${tier}.0.price`]: '3', new_product_id: translate, new_price: '7', new_credit_type_id: catalog.aiCredits });
    expect(ran.status).toBe(303);
    const result = await (await visitor.request(ran.headers.get('location')!)).text();
    expect(result).toContain('data-testid="simulation-status">completed');
    expect(result).toMatch(/data-testid="rate-changes">[\s\S]*Search: tiered, first 50 units at 3, above at 2 AI credits a unit from 2024-04-01 00:00[\s\S]*Translate: 7 AI credits a unit from 2024-04-01 00:00/);
    // Neither is used: the invoices stay as they are.
    expect(result).toContain('data-testid="total-actual">$250.00');
    expect(result).toContain('data-testid="total-simulated">$250.00');
  });
});
