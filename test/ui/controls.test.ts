import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Metronome from '@metronome/sdk';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { controlsCatalog, type ControlsCatalog } from '../helpers/controls.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The embeddable controls view in headless Chromium, framed by a vendor's page on another site
 * (`localhost`, while Allot is at 127.0.0.1): the customer's admin sets a cap and a spend alert
 * through the page; the API then enforces the cap and reports the alert in alarm.
 */
describe('controls view in a browser', () => {
  let server: TestServer;
  let client: Metronome;
  let catalog: ControlsCatalog;
  let browser: Browser;
  let vendor: Server;
  let page: Page;
  let customer: string;
  let controlsUrl: string;

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: '2024-04-10T00:00:00Z' });
    client = server.client();
    [catalog, browser] = await Promise.all([controlsCatalog(server), launchBrowser()]);
    customer = await catalog.customerWithPool('controls-ui');
    const issued = await catalog.controlsUrl({ customer_id: customer, credit_type_id: catalog.aiCredits, group_keys: ['user_id', 'team'], max_cap_amount: 50, color_overrides: [{ name: 'Primary_medium', value: '#7c3aed' }] });
    controlsUrl = issued.body.data!.url;
    // The vendor's application, framing the view.
    vendor = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Vendor</title><h1>Your account</h1><iframe src="${controlsUrl}" style="width:100%;height:1400px;border:0"></iframe>`);
    });
    await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
    page = await (await browser.newContext({ viewport: { width: 1100, height: 1500 } })).newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => vendor?.close(resolve));
    await server?.stop();
  });

  const controls = (): Frame => page.frames().find((frame) => frame.url().startsWith(server.baseURL))!;

  it('opens the controls framed by another site, and sets a cap that the check enforces', async () => {
    await page.goto(`http://localhost:${(vendor.address() as AddressInfo).port}/`);
    await waitFor(async () => (await controls()?.$('[data-testid=cap-form]')) != null, { what: 'the framed controls' });
    const frame = controls();
    expect(await frame.textContent('[data-testid=caps-table]')).toContain('No caps yet.');

    await frame.selectOption('[data-testid=cap-form] select[name=group_key]', 'user_id');
    await frame.fill('[data-testid=cap-form] input[name=group_value]', 'ada');
    await frame.fill('[data-testid=cap-form] input[name=amount]', '4');
    await frame.click('[data-testid=cap-form] button[type=submit]');
    await expect.poll(() => controls().textContent('#caps [role=status]')).toBe('Cap for user ada set to 4.00 AI credits a period.');
    expect(await controls().locator('[data-testid=cap-row]').allInnerTexts()).toEqual([expect.stringMatching(/^user\s+ada\s+4\.00 AI credits/)]);

    // The API has it, and the check holds ada to it.
    expect((await catalog.api('GET', `/v1/allot/entitlements/caps?customer_id=${customer}`)).body.data).toMatchObject([{ group_key: 'user_id', group_value: 'ada', amount: 4 }]);
    expect((await catalog.check({ customer_id: customer, amount: 5, group_values: [{ key: 'user_id', value: 'ada' }] })).body.data).toEqual({ allowed: false, amount: 5, remaining: 4, reason: 'cap_reached' });
    await screenshot(page, 'controls-cap');
  });

  it('refuses a cap above the operator’s bound on the page, changing nothing', async () => {
    const frame = controls();
    await frame.fill('[data-testid=cap-form] input[name=group_value]', 'bob');
    await frame.fill('[data-testid=cap-form] input[name=amount]', '60');
    const [response] = await Promise.all([page.waitForResponse((each) => each.url().endsWith('/embed/controls/caps')), frame.click('[data-testid=cap-form] button[type=submit]')]);
    expect(response.status()).toBe(403);
    await expect.poll(() => controls().textContent('#caps [role=alert]')).toBe('amount: must be at most 50.00 AI credits, the largest cap your provider allows');
    // Filled in again as typed.
    expect(await controls().inputValue('[data-testid=cap-form] input[name=amount]')).toBe('60');
    expect((await catalog.api('GET', `/v1/allot/entitlements/caps?customer_id=${customer}`)).body.data).toHaveLength(1);
  });

  it('adds a spend alert for a user, which goes into alarm when the user’s spend crosses it', async () => {
    const frame = controls();
    await frame.selectOption('[data-testid=alert-form] select[name=group_key]', 'user_id');
    await frame.fill('[data-testid=alert-form] input[name=group_value]', 'bob');
    await frame.fill('[data-testid=alert-form] input[name=threshold]', '5');
    await frame.fill('[data-testid=alert-form] input[name=name]', 'Bob at 5');
    await frame.click('[data-testid=alert-form] button[type=submit]');
    await expect.poll(() => controls().textContent('#alerts [role=status]')).toBe('Alert “Bob at 5” added: at 5.00 AI credits spent this period.');

    const [alert] = (await client.v1.customers.alerts.list({ customer_id: customer })).data;
    expect(alert!.alert).toMatchObject({ name: 'Bob at 5', type: 'spend_threshold_reached', threshold: 5, group_values: [{ key: 'user_id', value: 'bob' }] });
    expect(alert!.customer_status).toBe('ok');

    await catalog.use('controls-ui', 6, { user_id: 'bob', team: 'blue' });
    await waitFor(async () => (await client.v1.customers.alerts.retrieve({ customer_id: customer, alert_id: alert!.alert.id })).data.customer_status === 'in_alarm', { what: 'the alert in alarm' });
    await controls().goto(controlsUrl);
    expect(await controls().textContent('[data-testid=alert-row] [data-testid=alert-state]')).toBe('In alarm');
    expect(await controls().textContent('[data-testid=alert-row] [data-testid=alert-threshold]')).toBe('5.00 AI credits');
    await screenshot(page, 'controls-alert');
  });
});
