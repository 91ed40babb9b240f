import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Metronome from '@metronome/sdk';
import type { DashboardGetEmbeddableURLParams } from '@metronome/sdk/resources/v1/dashboards';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { addSeatChat, createHybridSeatContract, seatCatalog } from '../helpers/catalog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The embeddable credits view scoped to one seat, in headless Chromium, framed by a vendor's page
 * on another site (`localhost`, while Allot is at 127.0.0.1): ada reads her own remaining credits
 * and the team's pool, and the view follows her usage live. ada, bob and cy hold 50 AI credits
 * each of their own before a pool of 3 × 100; ada uses 80 → ada 0, pool 270.
 */
describe('a seat’s embeddable view in a browser', () => {
  let server: TestServer;
  let client: Metronome;
  let browser: Browser;
  let vendor: Server;
  let page: Page;
  let customer: string;
  let seatUrl: string;

  const use = (id: string, credits: number) =>
    client.v1.usage.ingest({ usage: [{ transaction_id: `ui-${id}`, customer_id: customer, event_type: 'tokens', timestamp: '2024-04-02T00:00:00Z', properties: { credits, user_id: 'ada' } }] });

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: '2024-04-05T00:00:00Z' });
    client = server.client();
    const [catalog, launched] = await Promise.all([seatCatalog(server, { seatPrice: 0, aiCreditsInCents: 100 }), launchBrowser()]);
    browser = launched;
    await addSeatChat(client, catalog);
    ({ customer } = await createHybridSeatContract(client, { catalog, name: 'Seat team', seatIds: ['ada', 'bob', 'cy'], seatPriority: 1, poolPriority: 2 }));
    await use('ada-1', 80);
    // Allot's `seat_id` beside the SDK's fields: the SDK sends the body as given.
    const body = { customer_id: customer, dashboard: 'credits', seat_id: 'ada' } as DashboardGetEmbeddableURLParams;
    seatUrl = (await client.v1.dashboards.getEmbeddableURL(body)).data.url!;
    vendor = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Vendor</title><h1>Your usage</h1><iframe src="${seatUrl}" style="width:100%;height:900px;border:0"></iframe>`);
    });
    await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
    page = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => vendor?.close(resolve));
    await server?.stop();
  });

  const view = (): Frame | undefined => page.frames().find((frame) => frame.url().startsWith(server.baseURL));

  it('shows the seat its own remaining credits and the pool, framed by another site, and follows its usage', async () => {
    await page.goto(`http://localhost:${(vendor.address() as AddressInfo).port}/`);
    await waitFor(async () => (await view()?.$('[data-testid=seat-remaining]')) != null, { what: 'the framed seat view' });
    const frame = view()!;
    expect(await frame.textContent('[data-testid=seat-id]')).toBe('ada');
    expect(await frame.textContent('[data-testid=seat-remaining]')).toBe('0.00 AI credits');
    expect(await frame.textContent('[data-testid=seat-starting]')).toBe('50.00 AI credits');
    expect(await frame.textContent('[data-testid=seat-pool-remaining]')).toBe('270.00 AI credits');
    expect(await frame.textContent('body')).not.toMatch(/\bbob\b/);
    await screenshot(page, 'seat-view');

    // ada's next 20 come from the pool: the open view shows 250 without a reload.
    await use('ada-2', 20);
    await expect.poll(() => view()!.textContent('[data-testid=seat-pool-remaining]'), { timeout: 20_000 }).toBe('250.00 AI credits');
    expect(await view()!.textContent('[data-testid=seat-remaining]')).toBe('0.00 AI credits');
  });
});
