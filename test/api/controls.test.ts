import { randomBytes } from 'node:crypto';
import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlsCatalog, type ControlsCatalog } from '../helpers/controls.js';
import { ENGINES } from '../helpers/database.js';
import { expect400 } from '../helpers/expectations.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The embeddable `controls` view over plain HTTP (test/ui/controls.test.ts drives it in Chromium):
 * the operator issues a URL with bounds; the customer's admin sets caps and spend alerts through
 * its forms; the check enforces the caps, and the alerts fire as any other.
 */

const once = () => randomBytes(16).toString('base64url');
const unescape = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const messageOf = (page: string, role: 'alert' | 'status') => {
  const found = new RegExp(`<div class="${role === 'alert' ? 'error' : 'notice'}" role="${role}">([^<]*)</div>`).exec(page)?.[1];
  return found === undefined ? undefined : unescape(found);
};

describe.each(ENGINES)('controls view on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: ControlsCatalog;
  let receiver: Receiver;
  let customer: string;
  let token: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startTestServer({ engine, clockStart: '2024-04-10T00:00:00Z', webhooks: { retryBaseMs: 10, retryMaxMs: 50 } });
    client = server.client();
    catalog = await controlsCatalog(server);
    expect((await catalog.api('POST', '/v1/allot/webhooks', { url: receiver.url, secret: 'controls-receiver-secret-0123456789' })).status).toBe(200);
    customer = await catalog.customerWithPool('controls-a');
    const issued = await catalog.controlsUrl({ customer_id: customer, credit_type_id: catalog.aiCredits, group_keys: ['user_id', 'team'], max_cap_amount: 50, max_alert_threshold: 40 });
    expect(issued.status).toBe(200);
    token = new URL(issued.body.data!.url).searchParams.get('token')!;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  const post = async (path: string, form: Record<string, string>, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.baseURL}${path}`, {
      method: 'POST',
      body: new URLSearchParams({ token, once: once(), ...form }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      redirect: 'manual',
    });
    const page = await response.text();
    return { status: response.status, page, notice: messageOf(page, 'status'), error: messageOf(page, 'alert') };
  };
  const caps = async () => (await catalog.api('GET', `/v1/allot/entitlements/caps?customer_id=${customer}`)).body.data as { group_key: string; group_value: string; amount: number }[];

  it('issues a URL carrying the bounds, and refuses bad bounds naming every field', async () => {
    // Through the SDK's own client, as the README shows it.
    const issued = { body: await client.post<{ data: { url: string } }>('/v1/allot/dashboards/controls-url', { body: { customer_id: customer, credit_type_id: catalog.aiCredits, group_keys: ['user_id'], max_cap_amount: '12.5' } }) };
    expect(issued.body.data.url).toMatch(new RegExp(`^${server.baseURL}/embed/controls\\?token=[\\w-]+\\.[\\w-]+$`));

    const shape = await catalog.controlsUrl({ customer_id: '', credit_type_id: '', group_keys: ['user_id', 'user_id'], max_cap_amount: -1, max_alert_threshold: 'lots', dashboard: 'controls' });
    expect(shape.status).toBe(400);
    expect(shape.body.errors!.length).toBeGreaterThanOrEqual(6);
    for (const field of ['customer_id', 'credit_type_id', 'group_keys', 'max_alert_threshold', 'max_cap_amount']) expect(shape.body.message).toContain(`${field}:`);
    expect(shape.body.message).toContain('dashboard');

    const catalogProblems = await catalog.controlsUrl({ customer_id: customer, credit_type_id: '00000000-0000-4000-8000-000000000000', group_keys: ['user_id', 'cost_center'], max_cap_amount: 5 });
    expect(catalogProblems.status).toBe(400);
    expect(catalogProblems.body.message).toContain('credit_type_id: no pricing unit');
    expect(catalogProblems.body.message).toContain('group_keys.1: no live billable metric has "cost_center"');
    expect((await catalog.controlsUrl({ customer_id: '00000000-0000-4000-8000-000000000000', credit_type_id: catalog.aiCredits, group_keys: ['user_id'], max_cap_amount: 5 })).status).toBe(404);
    // Metronome's own endpoint keeps Metronome's four views.
    await expect400(client.v1.dashboards.getEmbeddableURL({ customer_id: customer, dashboard: 'controls' as 'usage' }), 'dashboard');
  });

  it('sets a cap in the page, which the check then enforces (cap_reached)', async () => {
    const empty = await fetch(`${server.baseURL}/embed/controls?token=${token}`);
    expect(empty.status).toBe(200);
    expect(empty.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(await empty.text()).toContain('No caps yet.');

    const set = await post('/embed/controls/caps', { group_key: 'user_id', group_value: 'ada', amount: '4' });
    expect(set.status).toBe(200);
    expect(set.notice).toBe('Cap for user ada set to 4.00 AI credits a period.');
    expect(set.page).toMatch(/<td>ada<\/td><td class="num" data-testid="cap-amount">4.00 AI credits<\/td>/);
    expect(await caps()).toMatchObject([{ group_key: 'user_id', group_value: 'ada', amount: 4 }]);

    const ada = [{ key: 'user_id', value: 'ada' }];
    expect((await catalog.check({ customer_id: customer, amount: 5, group_values: ada })).body.data).toEqual({ allowed: false, amount: 5, remaining: 4, reason: 'cap_reached' });
    await catalog.use('controls-a', 3, { user_id: 'ada', team: 'red' });
    expect((await catalog.check({ customer_id: customer, amount: 2, group_values: ada })).body.data).toEqual({ allowed: false, amount: 2, remaining: 1, reason: 'cap_reached' });
    expect((await catalog.check({ customer_id: customer, amount: 1, group_values: ada })).body.data).toEqual({ allowed: true, amount: 1, remaining: 0 });
    // The page shows what she spent this period, and what a reserve holds for her.
    expect((await catalog.check({ customer_id: customer, amount: '0.5', group_values: ada, reserve: true, transaction_id: 'ada-job' })).body.data).toMatchObject({ allowed: true, remaining: 0.5 });
    const spentPage = await (await fetch(`${server.baseURL}/embed/controls?token=${token}`)).text();
    expect(spentPage).toContain('data-testid="cap-spent">3.00 AI credits<div class="muted">0.50 AI credits held</div>');

    // Changed in the page: 10 leaves her 7.
    expect((await post('/embed/controls/caps', { group_key: 'user_id', group_value: 'ada', amount: '10' })).status).toBe(200);
    expect((await catalog.check({ customer_id: customer, amount: 2, group_values: ada })).body.data).toEqual({ allowed: true, amount: 2, remaining: 4.5 });
  });

  it('refuses a form beyond the bounds with a 403, and a malformed one with a 400, naming every field; nothing changes', async () => {
    const before = await caps();
    const tooMuch = await post('/embed/controls/caps', { group_key: 'cost_center', group_value: 'x', amount: '50.01' });
    expect(tooMuch.status).toBe(403);
    expect(tooMuch.error).toBe('group_key: must be one of user_id, team: your provider allows no other; amount: must be at most 50.00 AI credits, the largest cap your provider allows');
    // The refused form is filled in again as it was typed.
    expect(tooMuch.page).toContain('value="50.01"');
    const malformed = await post('/embed/controls/caps', { group_key: 'user_id', group_value: ' ', amount: 'lots' });
    expect(malformed.status).toBe(400);
    expect(malformed.error).toContain('group_value: is required');
    expect(malformed.error).toContain('amount: must be a number of 0 or more');
    const alertTooHigh = await post('/embed/controls/alerts', { group_key: 'team', group_value: 'red', threshold: '41' });
    expect(alertTooHigh.status).toBe(403);
    expect(alertTooHigh.error).toBe('threshold: must be at most 40.00 AI credits, the largest alert threshold your provider allows');
    const alertMalformed = await post('/embed/controls/alerts', { group_key: '', group_value: '', threshold: '1e3', name: 'n'.repeat(201) });
    expect(alertMalformed.status).toBe(400);
    expect(alertMalformed.error).toBe(
      'group_key: is required: choose one of the keys offered; group_value: is required, e.g. a user id; threshold: must be a number of 0 or more, e.g. 250 or 12.5; name: must be at most 200 characters',
    );
    expect((await post('/embed/controls/alerts/remove', { alert_id: '' })).error).toBe('alert_id: is required');
    expect((await post('/embed/controls/alerts/remove', { alert_id: 'not-an-alert' })).status).toBe(404);
    const noToken = await fetch(`${server.baseURL}/embed/controls/caps`, { method: 'POST', body: new URLSearchParams({ once: once(), group_key: 'user_id', group_value: 'x', amount: '1' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(noToken.status).toBe(403);
    expect((await client.v1.customers.alerts.list({ customer_id: customer })).data).toEqual([]);
    expect(await caps()).toEqual(before);
  });

  it('takes forms only with a controls token, from this server, once', async () => {
    const before = await caps();
    const foreign = await post('/embed/controls/caps', { group_key: 'user_id', group_value: 'eve', amount: '1' }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.page).toContain('did not come from the spending controls page');
    const readOnly = new URL((await client.v1.dashboards.getEmbeddableURL({ customer_id: customer, dashboard: 'usage' })).data.url!).searchParams.get('token')!;
    const withReadOnly = await fetch(`${server.baseURL}/embed/controls/caps`, {
      method: 'POST',
      body: new URLSearchParams({ token: readOnly, once: once(), group_key: 'user_id', group_value: 'eve', amount: '1' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(withReadOnly.status).toBe(403);
    expect(await withReadOnly.text()).toContain('does not open the spending controls');
    expect((await fetch(`${server.baseURL}/embed/controls?token=${readOnly}`)).status).toBe(403);
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await fetch(`${server.baseURL}/embed/controls?token=${tampered}`)).status).toBe(403);
    expect(await caps()).toEqual(before);

    // The controls token on the read-only view's address goes to its own page; its event stream is refused.
    const redirected = await fetch(`${server.baseURL}/embed?token=${token}`, { redirect: 'manual' });
    expect(redirected.status).toBe(303);
    expect(redirected.headers.get('location')).toBe(`/embed/controls?token=${token}`);
    expect((await fetch(`${server.baseURL}/embed/events?token=${token}`)).status).toBe(403);

    // Sent twice, a form acts once.
    const nonce = once();
    const form = new URLSearchParams({ token, once: nonce, group_key: 'team', group_value: 'blue', amount: '20' });
    const send = () => fetch(`${server.baseURL}/embed/controls/caps`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } }).then((r) => r.text());
    expect(messageOf(await send(), 'status')).toBe('Cap for team blue set to 20.00 AI credits a period.');
    expect(messageOf(await send(), 'status')).toBe('This form was already sent; it was applied once.');
  });

  it('adds a spend alert per user in the page, which fires as any other; removes it; an operator’s alert stays', async () => {
    const added = await post('/embed/controls/alerts', { group_key: 'user_id', group_value: 'bob', threshold: '5', name: 'Bob at 5' });
    expect(added.status).toBe(200);
    expect(added.notice).toBe('Alert “Bob at 5” added: at 5.00 AI credits spent this period.');
    const listed = (await client.v1.customers.alerts.list({ customer_id: customer })).data;
    const alert = listed.find((each) => each.alert.name === 'Bob at 5')!;
    expect(alert.alert).toMatchObject({ type: 'spend_threshold_reached', threshold: 5, credit_type: { id: catalog.aiCredits }, group_values: [{ key: 'user_id', value: 'bob' }] });
    expect(alert.customer_status).toBe('ok');

    await catalog.use('controls-a', 6, { user_id: 'bob', team: 'blue' });
    await waitFor(async () => receiver.requests.some((request) => JSON.parse(request.body).properties?.alert_id === alert.alert.id), { what: 'the alert’s webhook' });
    const webhook = receiver.requests.map((request) => JSON.parse(request.body)).find((body) => body.properties?.alert_id === alert.alert.id);
    expect(webhook).toMatchObject({ type: 'alerts.spend_threshold_reached', properties: { customer_id: customer, group_values: [{ key: 'user_id', value: 'bob' }] } });
    expect((await client.v1.customers.alerts.retrieve({ customer_id: customer, alert_id: alert.alert.id })).data.customer_status).toBe('in_alarm');
    const page = await (await fetch(`${server.baseURL}/embed/controls?token=${token}`)).text();
    expect(page).toMatch(/Bob at 5<\/td>\s*<td>user bob<\/td>\s*<td class="num" data-testid="alert-threshold">5.00 AI credits<\/td>\s*<td data-testid="alert-state"><span class="badge alarm">In alarm/);

    // The operator's own per-user alert is shown, but only the operator may remove it.
    const operators = (await client.v1.alerts.create({ alert_type: 'spend_threshold_reached', name: 'Operator on ada', threshold: 30, customer_id: customer, credit_type_id: catalog.aiCredits, group_values: [{ key: 'user_id', value: 'ada' }] })).data.id;
    const refused = await post('/embed/controls/alerts/remove', { alert_id: operators });
    expect(refused.status).toBe(403);
    expect(refused.error).toBe('alert_id: this alert was set by your provider: ask them to change it');
    expect(refused.page).toContain('Operator on ada');

    const removed = await post('/embed/controls/alerts/remove', { alert_id: alert.alert.id });
    expect(removed.status).toBe(200);
    expect(removed.notice).toBe('Alert “Bob at 5” removed.');
    expect((await client.v1.customers.alerts.list({ customer_id: customer })).data.map((each) => each.alert.name)).toEqual(['Operator on ada']);
    expect((await post('/embed/controls/alerts/remove', { alert_id: alert.alert.id })).status).toBe(404);
  });

  it('removes a cap in the page: the check no longer holds the user to it', async () => {
    const removed = await post('/embed/controls/caps/remove', { group_key: 'user_id', group_value: 'ada' });
    expect(removed.status).toBe(200);
    expect(removed.notice).toBe('Cap for user ada removed.');
    expect((await caps()).map((cap) => cap.group_value)).toEqual(['blue']);
    expect((await catalog.check({ customer_id: customer, amount: 20, group_values: [{ key: 'user_id', value: 'ada' }] })).body.data).toMatchObject({ allowed: true });
    expect((await post('/embed/controls/caps/remove', { group_key: 'user_id', group_value: 'ada' })).status).toBe(404);
  });

  it('stops working when the URL expires', async () => {
    expect((await server.advanceClock('2024-04-10T01:00:01Z')).status).toBe(200);
    const expired = await post('/embed/controls/caps', { group_key: 'user_id', group_value: 'ada', amount: '1' });
    expect(expired.status).toBe(403);
    expect(expired.page).toContain('This link has expired');
  });
});
