import type Metronome from '@metronome/sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApi } from '../../src/demo/api.js';
import { IMAGE_EVENT } from '../../src/demo/company.js';
import { loadDemo, type DemoSummary } from '../../src/demo/loadDemo.js';
import { formatAmount } from '../../src/dashboard/format.js';
import { Decimal } from '../../src/lib/money.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The dashboard in headless Chromium (Debian's package, driven by playwright-core), on the demo
 * company: an operator signs in, reads the pool, changes seats; the end customer's embeddable view
 * follows usage live. Screenshots land in test-output/screenshots/.
 */

/**
 * What the page's scripts see, typed loosely (this program has no DOM library). Functions run in
 * the browser reach it as `(globalThis as unknown as PageGlobals)`: they are sent as source, so
 * they may not call anything of this module.
 */
interface PageGlobals {
  document: { querySelector(selector: string): object | null; documentElement: { scrollWidth: number } };
  Chart?: { getChart(canvas: object | null): { data: { datasets: { data: { y: number }[] }[] }; scales: { x: { ticks: { label: string }[] } } } | undefined };
  stayedOnPage?: boolean;
}

const NOW = '2026-04-11T00:00:00Z';

describe('dashboard in a browser', () => {
  let server: TestServer;
  let client: Metronome;
  let demo: DemoSummary;
  let browser: Browser;
  let context: BrowserContext;
  let tab: Page;

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: NOW });
    client = server.client();
    [demo, browser] = await Promise.all([
      loadDemo(httpApi(server.baseURL, server.key), { company: 'Acme AI', users: 40, events: 3000, seats: 100, creditsPerSeat: 50, now: new Date(NOW) }),
      launchBrowser(),
    ]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    tab = await context.newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The pool in AI credits as `listBalances` reports it, formatted as the page formats it. */
  async function poolFromApi(): Promise<string> {
    const balances = (await client.v1.contracts.listBalances({ customer_id: demo.customerId, include_balance: true })).data;
    const total = balances.filter((b) => b.access_schedule?.credit_type?.id === demo.aiCreditsId).reduce((sum, b) => sum.add(String(b.balance)), new Decimal(0));
    return formatAmount(total, { id: demo.aiCreditsId, name: 'AI credits' });
  }

  /** The pool chart's balance line as Chart.js drew it: its last point, and how many grant markers it shows. */
  async function poolChart(on: Page): Promise<{ last: number; markers: number }> {
    return on.evaluate(() => {
      const { Chart, document } = (globalThis as unknown as PageGlobals);
      const chart = Chart!.getChart(document.querySelector('[data-testid="pool-0-chart"]'))!;
      return { last: chart.data.datasets[0]!.data.at(-1)!.y, markers: chart.data.datasets.at(-1)!.data.length };
    });
  }

  it('signs an operator in with an API key, and refuses a wrong one', async () => {
    await tab.goto(`${server.baseURL}/ui`);
    expect(tab.url()).toBe(`${server.baseURL}/ui/sign-in?next=%2Fui%2Fcustomers`);
    await tab.fill('#api_key', 'allot_wrong');
    await tab.click('button[type=submit]');
    await expect.poll(() => tab.textContent('[role=alert]')).toContain('unknown or revoked');
    await tab.fill('#api_key', server.key);
    await tab.click('button[type=submit]');
    await tab.waitForURL('**/ui/customers');
    const cookie = (await context.cookies()).find((c) => c.name === 'allot_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(await tab.textContent('[data-testid=customers-table]')).toContain('Acme AI');
    await screenshot(tab, 'customers');
  });

  it("opens the demo customer: the pool matches listBalances, with charts drawn and usage by user and team", async () => {
    await tab.click('text=Acme AI');
    await tab.waitForFunction(() => !!(globalThis as unknown as PageGlobals).Chart?.getChart((globalThis as unknown as PageGlobals).document.querySelector('[data-testid="pool-0-chart"]')));
    expect(await tab.textContent('[data-testid=pool-0-balance]')).toBe(await poolFromApi());
    expect(await tab.textContent('[data-testid=seats-total]')).toBe('100');
    // The period's axis: April 1 to May 1, one label a few days apart, each a different day.
    const axis = await tab.evaluate(() => {
      const { Chart, document } = globalThis as unknown as PageGlobals;
      return Chart!.getChart(document.querySelector('[data-testid="pool-0-chart"]'))!.scales.x.ticks.map((tick) => tick.label);
    });
    expect(axis[0]).toBe('Apr 1');
    expect(axis.at(-1)).toBe('May 1');
    expect(axis.length).toBeGreaterThan(5);
    expect(new Set(axis).size).toBe(axis.length);
    // The per-user alert names the heavy users it has in alarm, as the API reports them one by one.
    const heavy = demo.alerts!.find((alert) => alert.name === 'Heavy user')!;
    const inAlarm = heavy.users!.filter((user) => user.status === 'in_alarm').map((user) => user.name);
    expect(inAlarm.length).toBeGreaterThan(0);
    const shown = await tab.textContent('[data-testid=alarm-values]');
    for (const name of inAlarm) expect(shown).toContain(name);
    const users = tab.locator('[data-testid=usage-user_id-table] tbody tr');
    expect(await users.count()).toBeGreaterThan(10);
    expect(await tab.locator('[data-testid=usage-team-table] tbody tr').count()).toBe(4);
    // Sorting by keyboard: the team column's header button, A to Z, then Z to A.
    const teamHeader = tab.locator('[data-testid=usage-team-table] thead th').first();
    await teamHeader.locator('button').focus();
    await tab.keyboard.press('Enter');
    expect(await teamHeader.getAttribute('aria-sort')).toBe('ascending');
    expect(await tab.locator('[data-testid=usage-team-table] tbody tr td:first-child').allTextContents()).toEqual(['engineering', 'research', 'sales', 'support']);
    await tab.keyboard.press('Enter');
    expect(await tab.locator('[data-testid=usage-team-table] tbody tr td:first-child').allTextContents()).toEqual(['support', 'sales', 'research', 'engineering']);
    await screenshot(tab, 'customer');
  });

  it('changes seats after a preview of the prorated grant, and the pool chart moves', async () => {
    const before = await poolChart(tab);
    await tab.fill(`[data-testid^=seat-quantity-]`, '120');
    await tab.click('text=Preview change');
    await tab.waitForURL('**/seats/preview?**');
    // 20 seats × 50 credits for the 20 of April's 30 days left.
    expect(await tab.textContent('[data-testid=preview-granted]')).toBe('666.67 AI credits');
    await screenshot(tab, 'seat-preview');
    await tab.click('text=Confirm: 120 seats');
    await expect.poll(() => tab.textContent('[role=status]')).toBe('Seats changed to 120.');
    await tab.waitForFunction(() => !!(globalThis as unknown as PageGlobals).Chart?.getChart((globalThis as unknown as PageGlobals).document.querySelector('[data-testid="pool-0-chart"]')));
    const after = await poolChart(tab);
    expect(after.last - before.last).toBeCloseTo(666.67, 1);
    expect(after.markers).toBe(before.markers + 1);
    expect(await tab.textContent('[data-testid=pool-0-balance]')).toBe(await poolFromApi());
    expect(await tab.textContent('[data-testid=seats-total]')).toBe('120');
  });

  it('shows the end customer the same pool in an embeddable view that updates live, without a reload', async () => {
    const { data } = await client.v1.dashboards.getEmbeddableURL({ customer_id: demo.customerId, dashboard: 'credits', color_overrides: [{ name: 'Primary_medium', value: '#7c3aed' }] });
    const embed = await context.newPage();
    await embed.goto(data.url!);
    const before = await embed.textContent('[data-testid=pool-0-balance]');
    // The usage view, sorted by the viewer (spend, smallest first), keeps its order through updates.
    const usageView = await context.newPage();
    await usageView.goto((await client.v1.dashboards.getEmbeddableURL({ customer_id: demo.customerId, dashboard: 'usage' })).data.url!);
    const spendHeader = usageView.locator('[data-testid=usage-team-table] thead th').last();
    await spendHeader.locator('button').click();
    await spendHeader.locator('button').click();
    expect(await spendHeader.getAttribute('aria-sort')).toBe('ascending');
    const researchImages = () => usageView.locator('[data-testid=usage-team-table] tbody tr', { hasText: 'research' }).locator('td').nth(2).textContent();
    const imagesBefore = await researchImages();
    expect(before).toBe(await poolFromApi());
    await embed.evaluate(() => {
      (globalThis as unknown as PageGlobals).stayedOnPage = true;
    });
    // Let the page's event stream connect before the usage arrives.
    await embed.waitForTimeout(300);
    await client.v1.usage.ingest({
      usage: Array.from({ length: 8 }, (_, i) => ({
        transaction_id: `live-${i}`,
        customer_id: demo.customerId,
        event_type: IMAGE_EVENT,
        timestamp: '2026-04-10T23:30:00Z',
        properties: { user_id: 'ada@acme-ai.example', team: 'research', size: '1024x1024' },
      })),
    });
    // 8 images at 0.25 credits: 2 credits less.
    const expected = formatAmount(new Decimal(before!.replace(/[^0-9.]/g, '')).sub(2), { id: demo.aiCreditsId, name: 'AI credits' });
    await embed.waitForFunction((text) => ((globalThis as unknown as PageGlobals).document.querySelector('[data-testid=pool-0-balance]') as { textContent?: string } | null)?.textContent === text, expected, { timeout: 20_000 });
    expect(await embed.evaluate(() => (globalThis as unknown as PageGlobals).stayedOnPage)).toBe(true);
    await expect.poll(researchImages, { timeout: 20_000 }).toBe(String(Number(imagesBefore) + 8));
    expect(await spendHeader.getAttribute('aria-sort')).toBe('ascending');
    const spends = await usageView.locator('[data-testid=usage-team-table] tbody tr td:last-child').allTextContents();
    expect(spends.map((text) => Number(text.replace(/,/g, '')))).toEqual([...spends.map((text) => Number(text.replace(/,/g, '')))].sort((a, b) => a - b));
    await screenshot(usageView, 'embed-usage-live');
    await usageView.close();
    expect(await poolFromApi()).toBe(expected);
    await screenshot(embed, 'embed-credits-live');
    await embed.close();
  });

  it('refuses a tampered embeddable URL with a 403 page', async () => {
    const { data } = await client.v1.dashboards.getEmbeddableURL({ customer_id: demo.customerId, dashboard: 'usage' });
    const url = new URL(data.url!);
    const token = url.searchParams.get('token')!;
    url.searchParams.set('token', `${token.slice(0, -3)}${token.endsWith('AAA') ? 'BBB' : 'AAA'}`);
    const embed = await context.newPage();
    const response = await embed.goto(url.toString());
    expect(response?.status()).toBe(403);
    expect(await embed.textContent('main')).toContain('not valid');
    await screenshot(embed, 'embed-tampered');
    await embed.close();
  });

  it('lists usage sent for unknown customer ids and aliases on the customers page, with counts and last seen', async () => {
    const unknown = (customer: string, i: number) => ({ transaction_id: `unknown-${customer}-${i}`, customer_id: customer, event_type: IMAGE_EVENT, timestamp: '2026-04-10T23:00:00Z' });
    await client.v1.usage.ingest({ usage: [unknown('acme-aii', 1), unknown('acme-aii', 2), unknown('acme-aii', 3), unknown('initech', 1)] });
    await tab.goto(`${server.baseURL}/ui/customers`);
    const rows = tab.locator('[data-testid=unmatched-panel] [data-testid=unmatched-table] tbody tr');
    const cells = async () => (await rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { innerText: string }).innerText.split('\t').map((cell) => cell.trim()))));
    expect(await cells()).toEqual([
      ['acme-aii', '3', 'Apr 11, 2026, 00:00 UTC', 'Apr 11, 2026, 00:00 UTC', IMAGE_EVENT],
      ['initech', '1', 'Apr 11, 2026, 00:00 UTC', 'Apr 11, 2026, 00:00 UTC', IMAGE_EVENT],
    ]);
    await screenshot(tab, 'customers-unmatched');
    await tab.click('nav >> text=Unknown customers');
    await tab.waitForURL('**/ui/usage/unmatched');
    expect(await tab.locator('[data-testid=unmatched-table] tbody tr td:first-child').allTextContents()).toEqual(['acme-aii', 'initech']);
  });

  it('reads on a phone: nothing wider than the screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.addCookies(await context.cookies());
    const small = await phone.newPage();
    await small.goto(`${server.baseURL}/ui/customers/${demo.customerId}`);
    await small.waitForFunction(() => !!(globalThis as unknown as PageGlobals).Chart?.getChart((globalThis as unknown as PageGlobals).document.querySelector('[data-testid="pool-0-chart"]')));
    expect(await small.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(small, 'customer-phone');
    await phone.close();
  });
});
