import type Metronome from '@metronome/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApi } from '../../src/demo/api.js';
import { loadDemo, type DemoSummary } from '../../src/demo/loadDemo.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** What the page's scripts see, typed loosely (this program has no DOM library). */
interface PageGlobals {
  document: { querySelector(selector: string): object | null };
  Chart?: { getChart(canvas: object | null): { data: { datasets: { data: number[] }[] } } | undefined };
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
