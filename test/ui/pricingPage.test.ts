import type Metronome from '@metronome/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApi } from '../../src/demo/api.js';
import { loadDemo, type DemoSummary } from '../../src/demo/loadDemo.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { createSeatContract, seatCatalog } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** What the page's scripts see, typed loosely (this program has no DOM library). */
interface PageGlobals {
  document: { querySelector(selector: string): object | null };
  Chart?: { getChart(canvas: object | null): { data: { datasets: { label: string; data: (number | { x: number; y: number })[] }[] } } | undefined };
}

const NOW = '2026-04-11T00:00:00Z';

/**
 * The pricing page in headless Chromium on the demo company: an operator doubles the price of a
 * chat token on a copy of the rate card, runs the simulation, and reads the credits burned now and
 * simulated, which the API answers alike, with the chart of the change per customer drawn.
 */
describe('pricing page in a browser', () => {
  let server: TestServer;
  let client: Metronome;
  let demo: DemoSummary;
  let browser: Browser;
  let tab: Page;

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: NOW });
    client = server.client();
    [demo, browser] = await Promise.all([
      loadDemo(httpApi(server.baseURL, server.key), { company: 'Acme AI', users: 20, events: 1000, seats: 100, creditsPerSeat: 50, now: new Date(NOW) }),
      launchBrowser(),
    ]);
    tab = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('doubles a chat token’s price on a copy of the rate card, runs it, and shows the pool burned now and simulated, as the API does', async () => {
    await tab.goto(`${server.baseURL}/ui/pricing`);
    await tab.fill('#api_key', server.key);
    await tab.click('button[type=submit]');
    await tab.waitForURL('**/ui/pricing');
    await tab.fill('[aria-label^="New price of Chat tokens"]', '0.0001');
    await tab.fill('#starting_on', '2026-04-01T00:00:00Z');
    await tab.fill('#ending_before', '2026-05-01T00:00:00Z');
    await tab.click('[data-testid=simulation-form] button[type=submit]');
    await tab.waitForURL(/\/ui\/pricing\/[0-9a-f-]+$/);
    expect(await tab.textContent('[data-testid=simulation-status]')).toBe('completed');
    const row = (await tab.innerText('[data-testid=pools-table] tbody tr')).split('\t').map((cell) => cell.trim());
    await screenshot(tab, 'pricing-simulation');

    const chat = (await client.v1.contracts.products.list()).data.find((product) => product.current.name === 'Chat tokens')!.id;
    const response = await fetch(`${server.baseURL}/v1/allot/pricing/simulations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        starting_on: '2026-04-01T00:00:00Z',
        ending_before: '2026-05-01T00:00:00Z',
        rate_changes: [{ product_id: chat, starting_at: '2026-04-01T00:00:00Z', rate_type: 'FLAT', price: 0.0001, credit_type_id: demo.aiCreditsId }],
      }),
    });
    const [result] = ((await response.json()) as { data: { customers: { credits_burned_actual: number; credits_burned_simulated: number }[] } }).data.customers;
    const formatted = (amount: number) => `${new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(amount)} AI credits`;
    expect(row[0]).toBe('Acme AI');
    expect(row[1]).toBe(formatted(result!.credits_burned_actual));
    expect(row[2]).toBe(formatted(result!.credits_burned_simulated));
    expect(result!.credits_burned_simulated).toBeGreaterThan(result!.credits_burned_actual);
    // The distribution chart is drawn: one customer in one bucket.
    const bars = await tab.evaluate(() => {
      const { Chart, document } = globalThis as unknown as PageGlobals;
      return Chart!.getChart(document.querySelector('canvas[data-chart="change-distribution"]'))?.data.datasets[0]!.data;
    });
    expect(bars).toEqual([1]);
  });
});

/** The pool of 1,000 at each midnight of April and May 1, `burnedBy(k)` burned by day k. */
const remaining = (burnedBy: (k: number) => number) => Array.from({ length: 31 }, (_, k) => Math.max(1_000 - burnedBy(k), 0));

/**
 * A tier changed from the page, and one customer's burn-down read off its chart: 20 seats with 50
 * pooled AI credits each (a pool of 1,000 in April), Chat tiered at 5 AI credits a unit for the
 * first 1,000 units and 5 above, 10 units a day at noon through April, the clock at May 10. The
 * operator makes the first tier 100 units and the next 10 credits a unit: 50 credits a day for ten
 * days, then 100. Now, 1,000 − 50 a day: 500 at April 11, 0 from April 21. Simulated: 500 at April
 * 11, then 400, 300, 200, 100, and 0 from April 16.
 */
describe('pricing page burn-down in a browser', () => {
  let server: TestServer;
  let browser: Browser;
  let tab: Page;

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: '2024-04-30T13:00:00Z' });
    const client = server.client();
    const catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 10 });
    const metric = (
      await client.v1.billableMetrics.create({ name: 'Units', event_type_filter: { in_values: ['chat'] }, aggregation_type: 'SUM', aggregation_key: 'units', property_filters: [{ name: 'units', exists: true }] })
    ).data.id;
    const chat = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: chat, entitled: true, rate_type: 'TIERED', tiers: [{ size: 1000, price: 5 }, { price: 5 }], credit_type_id: catalog.aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    const { customer } = await createSeatContract(client, { catalog, seats: 20 });
    const usage = Array.from({ length: 30 }, (_, i) => ({ transaction_id: `chat-${i}`, customer_id: customer, event_type: 'chat', timestamp: `2024-04-${String(i + 1).padStart(2, '0')}T12:00:00Z`, properties: { units: 10 } }));
    await client.v1.usage.ingest({ usage });
    expect((await server.advanceClock('2024-05-10T00:00:00Z')).status).toBe(200);
    browser = await launchBrowser();
    tab = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('runs a simulation with a changed tier, opens the customer’s burn-down and draws both lines as computed by hand', async () => {
    await tab.goto(`${server.baseURL}/ui/pricing`);
    await tab.fill('#api_key', server.key);
    await tab.click('button[type=submit]');
    await tab.waitForURL('**/ui/pricing');
    await tab.fill('[aria-label="Tier 1 size of Chat"]', '100');
    await tab.fill('[aria-label^="Tier 2 price of Chat"]', '10');
    await tab.fill('#starting_on', '2024-04-01T00:00:00Z');
    await tab.fill('#ending_before', '2024-05-01T00:00:00Z');
    await screenshot(tab, 'pricing-tiers-form');
    await tab.click('[data-testid=simulation-form] button[type=submit]');
    await tab.waitForURL(/\/ui\/pricing\/[0-9a-f-]+$/);
    expect(await tab.textContent('[data-testid=simulation-status]')).toBe('completed');
    expect(await tab.textContent('[data-testid=rate-changes]')).toContain('Chat: tiered, first 100 units at 5, above at 10 AI credits a unit');

    await tab.click('[data-testid=pools-table] [data-testid=burn-down-link]');
    await tab.waitForURL(/\?customer=[0-9a-f-]+#burn-down$/);
    expect(await tab.textContent('[data-testid=burn-down-customer]')).toBe('Team of 20');
    expect(await tab.textContent('[data-testid=burn-down-runout-actual]')).toBe('2024-04-21 00:00');
    expect(await tab.textContent('[data-testid=burn-down-runout-simulated]')).toBe('2024-04-16 00:00');
    await screenshot(tab, 'pricing-burn-down');
    const datasets = await tab.evaluate(() => {
      const { Chart, document } = globalThis as unknown as PageGlobals;
      return Chart!.getChart(document.querySelector('canvas[data-chart="burn-down-chart"]'))!.data.datasets.map((dataset) => ({ label: dataset.label, data: dataset.data }));
    });
    const ys = (index: number) => datasets[index]!.data.map((point) => (point as { y: number }).y);
    expect(datasets.map((dataset) => dataset.label)).toEqual(['Remaining now', 'Remaining simulated', 'Runs out']);
    expect(ys(0)).toEqual(remaining((k) => 50 * k));
    expect(ys(1)).toEqual(remaining((k) => (k <= 10 ? 50 * k : 500 + 100 * (k - 10))));
    expect(ys(1).slice(10, 16)).toEqual([500, 400, 300, 200, 100, 0]);
    expect((datasets[0]!.data[0] as { x: number }).x).toBe(Date.parse('2024-04-01T00:00:00Z'));
    expect(datasets[2]!.data).toEqual([
      { x: Date.parse('2024-04-21T00:00:00Z'), y: 0, label: 'Runs out now 2024-04-21 00:00' },
      { x: Date.parse('2024-04-16T00:00:00Z'), y: 0, label: 'Runs out simulated 2024-04-16 00:00' },
    ]);
  });
});
