import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { expect400, rejection } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { csrfOf, once, outcomeOf, Visitor } from '../helpers/visitor.js';

/**
 * The dashboard over plain HTTP: signing in with an API key, the session cookie and CSRF checks,
 * the forms' refusals, and `v1.dashboards.getEmbeddableURL` with its signed, expiring token.
 * (test/ui/ drives the same pages in a browser.)
 */

describe.each(ENGINES)('dashboard over HTTP on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let team: Awaited<ReturnType<typeof createSeatContract>>;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-04-11T00:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 100 });
    team = await createSeatContract(client, { catalog, seats: 100 });
  });
  afterAll(() => server.stop());

  describe('signing in', () => {
    it('opens a session with an API key: an HttpOnly, SameSite=Strict, Secure cookie scoped to /ui', async () => {
      const visitor = new Visitor(server.baseURL);
      expect((await visitor.request('/ui/customers')).headers.get('location')).toBe('/ui/sign-in?next=%2Fui%2Fcustomers');
      const response = await visitor.signIn(server.key);
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/ui/customers');
      const cookie = response.headers.getSetCookie().find((line) => line.startsWith('allot_session='))!;
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      expect(cookie).toMatch(/Secure/i);
      expect(cookie).toMatch(/Path=\/ui/);
      const page = await visitor.request('/ui/customers');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(await page.text()).toContain('Team of 100');
    });

    it('refuses an unknown key, and a sign-in form not issued to this browser', async () => {
      const visitor = new Visitor(server.baseURL);
      const wrong = await visitor.signIn('allot_not-a-key');
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).toContain('unknown or revoked');
      expect(visitor.cookies.has('allot_session')).toBe(false);

      const stranger = new Visitor(server.baseURL);
      const forged = await stranger.post('/ui/sign-in', { token: 'made-up', api_key: server.key });
      expect(forged.status).toBe(403);
      expect(stranger.cookies.has('allot_session')).toBe(false);
    });

    it('ends the session on sign-out, and when its API key is revoked', async () => {
      const visitor = new Visitor(server.baseURL);
      await visitor.signIn(server.key);
      const session = visitor.cookies.get('allot_session')!;
      const csrf = csrfOf(await (await visitor.request('/ui/customers')).text());
      expect((await visitor.post('/ui/sign-out', { csrf })).headers.get('location')).toBe('/ui/sign-in');
      // The old cookie, replayed, no longer works.
      visitor.cookies.set('allot_session', session);
      expect((await visitor.request('/ui/customers')).status).toBe(303);

      const created = await fetch(`${server.baseURL}/v1/allot/api-keys/create`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'operator' }),
      });
      const { data: key } = (await created.json()) as { data: { id: string; key: string } };
      const operator = new Visitor(server.baseURL);
      await operator.signIn(key.key);
      expect((await operator.request('/ui/customers')).status).toBe(200);
      await fetch(`${server.baseURL}/v1/allot/api-keys/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: key.id }),
      });
      expect((await operator.request('/ui/customers')).status).toBe(303);
    });

    it('finds customers by name, id or ingest alias, with LIKE wildcards taken literally', async () => {
      const visitor = new Visitor(server.baseURL);
      await visitor.signIn(server.key);
      await client.v1.customers.create({ name: 'Initrode', ingest_aliases: ['initrode-100%'] });
      const search = async (q: string) => (await (await visitor.request(`/ui/customers?q=${encodeURIComponent(q)}`)).text()).match(/<a href="\/ui\/customers\/[^"]+">([^<]+)<\/a>/g)?.length ?? 0;
      expect(await search('team OF')).toBe(1);
      expect(await search(team.customer.slice(-12))).toBe(1);
      expect(await search('100%')).toBe(1);
      expect(await search('%')).toBe(1);
      expect(await search('_')).toBe(0);
      expect(await search('nobody')).toBe(0);
      expect(await search('')).toBe(2);
      const control = await visitor.request(`/ui/customers?q=${encodeURIComponent('a\u0000b')}`);
      expect(control.status).toBe(400);
      expect(await control.text()).toContain('q: must not hold control characters');
    });

    it('returns to the page asked for after signing in, and only to an operator page', async () => {
      const visitor = new Visitor(server.baseURL);
      const asked = await visitor.request(`/ui/customers/${team.customer}`);
      const signInUrl = asked.headers.get('location')!;
      expect(signInUrl).toBe(`/ui/sign-in?next=${encodeURIComponent(`/ui/customers/${team.customer}`)}`);
      const form = await (await visitor.request(signInUrl)).text();
      const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(form)![1]!;
      const done = await visitor.post('/ui/sign-in', { token: field('token'), next: field('next'), api_key: server.key });
      expect(done.headers.get('location')).toBe(`/ui/customers/${team.customer}`);

      for (const next of ['https://evil.example/ui/x', '//evil.example/ui/', '/ui//evil.example', '/v1/customers', '/ui/\\evil.example', '/ui/a\r\nX: 1', '/ui/中', '/ui/\u0000']) {
        const other = new Visitor(server.baseURL);
        const page = await (await other.request(`/ui/sign-in?${new URLSearchParams({ next })}`)).text();
        const token = /name="token" value="([^"]+)"/.exec(page)![1]!;
        expect((await other.post('/ui/sign-in', { token, next, api_key: server.key })).headers.get('location')).toBe('/ui/customers');
      }
    });

    it("shows only the tenant's own customers; another tenant's customer is a 404 page", async () => {
      const other = new Visitor(server.baseURL);
      await other.signIn(await server.keyFor('globex'));
      expect(await (await other.request('/ui/customers')).text()).not.toContain('Team of 100');
      const page = await other.request(`/ui/customers/${team.customer}`);
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toContain('text/html');
    });
  });

  describe('forms', () => {
    let visitor: Visitor;
    let csrf: string;
    beforeAll(async () => {
      visitor = new Visitor(server.baseURL);
      await visitor.signIn(server.key);
      csrf = csrfOf(await (await visitor.request(`/ui/customers/${team.customer}`)).text());
    });

    const seats = async () => {
      const history = await client.v1.contracts.retrieveSubscriptionQuantityHistory({ customer_id: team.customer, contract_id: team.contract, subscription_id: team.subscription });
      return history.data.history!.at(-1)!.data!.at(-1)!.quantity;
    };

    it('refuses a form without the session’s CSRF token, or from another origin, and changes nothing', async () => {
      const form = { contract_id: team.contract, subscription_id: team.subscription, quantity: '150', starting_at: '2024-04-11T00:00:00Z' };
      expect((await visitor.post(`/ui/customers/${team.customer}/seats`, form)).status).toBe(403);
      expect((await visitor.post(`/ui/customers/${team.customer}/seats`, { ...form, csrf: 'guess' })).status).toBe(403);
      expect((await visitor.post(`/ui/customers/${team.customer}/seats`, { ...form, csrf }, { origin: 'https://evil.example' })).status).toBe(403);
      expect(await seats()).toBe(100);
    });

    it('previews a seat change without making it, then makes it on confirmation', async () => {
      const query = new URLSearchParams({ contract_id: team.contract, subscription_id: team.subscription, quantity: '110' });
      const preview = await (await visitor.request(`/ui/customers/${team.customer}/seats/preview?${query}`)).text();
      // 10 seats × 50 credits for the 20 of April's 30 days left: 333.33…; 10 × $10 × 20/30 = $66.67.
      expect(preview).toContain('333.33 AI credits');
      expect(preview).toContain('$66.67');
      expect(await seats()).toBe(100);

      const confirm = Object.fromEntries([...preview.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
      const done = await outcomeOf(visitor, await visitor.post(`/ui/customers/${team.customer}/seats`, confirm));
      expect(done).toMatchObject({ at: `/ui/customers/${team.customer}#seats-form`, notice: 'Seats changed to 110.' });
      expect(done.error).toBeUndefined();
      expect(await seats()).toBe(110);
    });

    it('sends a bad value back to the page with the field named, and never a 500', async () => {
      const bad = await visitor.post(`/ui/customers/${team.customer}/seats`, { csrf, once: once(), contract_id: team.contract, subscription_id: team.subscription, quantity: 'lots', starting_at: '2024-04-11T00:00:00Z' });
      expect((await outcomeOf(visitor, bad)).error).toMatch(/^quantity: must be a whole number/);
      const credit = await visitor.post(`/ui/customers/${team.customer}/credits`, { csrf, once: once(), amount: '-5', credit_type_id: catalog.aiCredits, product_id: catalog.poolProduct, ending_before: '2024-05-01' });
      const refused = await outcomeOf(visitor, credit);
      expect(refused.error).toMatch(/^amount:/);
      // The form comes back as it was typed.
      expect(refused.page).toContain('name="amount" required inputmode="decimal" placeholder="e.g. 250" value="-5"');
      expect(refused.page).toContain(`<option value="${catalog.poolProduct}" selected>`);
      expect(refused.page).not.toContain('value="guess"');
      const onSeats = await visitor.post(`/ui/customers/${team.customer}/credits`, { csrf, once: once(), amount: '5', credit_type_id: catalog.aiCredits, product_id: catalog.seatsProduct, ending_before: '2024-05-01' });
      expect((await outcomeOf(visitor, onSeats)).error).toMatch(/^product_id: .*FIXED/);
      const alert = await visitor.post(`/ui/customers/${team.customer}/alerts`, { csrf, once: once(), name: 'x', alert_type: 'low_credit_balance_reached', threshold: '5' });
      expect((await outcomeOf(visitor, alert)).error).toMatch(/^alert_type: .*not supported/);
      // A message cannot be put on the page through its address.
      expect(await (await visitor.request(`/ui/customers/${team.customer}?error=Your+card+was+declined`)).text()).not.toContain('Your card was declined');
      expect(await seats()).toBe(110);
    });

    it('acts once on a form sent twice, even at the same moment, and refuses one without its one-time token', async () => {
      const count = async () => (await client.v1.contracts.listBalances({ customer_id: team.customer })).data.filter((b) => b.name === 'Twice').length;
      const form = { csrf, once: once(), amount: '3', credit_type_id: catalog.aiCredits, product_id: catalog.poolProduct, name: 'Twice', ending_before: '2024-04-30' };
      const [first, second] = await Promise.all([visitor.post(`/ui/customers/${team.customer}/credits`, form), visitor.post(`/ui/customers/${team.customer}/credits`, form)]);
      expect([first.status, second.status]).toEqual([303, 303]);
      expect(await count()).toBe(1);
      const again = await outcomeOf(visitor, await visitor.post(`/ui/customers/${team.customer}/credits`, form));
      expect(again.notice).toBe('This form was already sent; it was applied once.');
      expect(await count()).toBe(1);
      const { once: _dropped, ...without } = form;
      expect((await outcomeOf(visitor, await visitor.post(`/ui/customers/${team.customer}/credits`, without))).error).toMatch(/^once: /);
      expect(await count()).toBe(1);
    });

    it('adds a one-off credit (typed in dollars, stored in cents) and an alert', async () => {
      const before = (await client.v1.contracts.listBalances({ customer_id: team.customer })).data.length;
      const added = await visitor.post(`/ui/customers/${team.customer}/credits`, {
        csrf,
        once: once(),
        amount: '25.50',
        credit_type_id: '2714e483-4ff1-48e4-9e25-ac732e8f24f2',
        product_id: catalog.poolProduct,
        name: 'Goodwill',
        ending_before: '2024-05-01',
      });
      expect((await outcomeOf(visitor, added)).notice).toBe('Credit of $25.50 added.');
      const balances = (await client.v1.contracts.listBalances({ customer_id: team.customer, include_ledgers: true })).data;
      expect(balances).toHaveLength(before + 1);
      // $25.50 granted now; it pays toward the seat charges of the period at once.
      expect(balances.find((b) => b.name === 'Goodwill')?.ledger?.[0]).toMatchObject({ type: 'CREDIT_SEGMENT_START', amount: 2550 });

      await visitor.post(`/ui/customers/${team.customer}/alerts`, { csrf, once: once(), name: 'Pool low', alert_type: 'low_remaining_contract_credit_and_commit_balance_reached', threshold: '500', credit_type_id: catalog.aiCredits });
      const alerts = (await client.v1.customers.alerts.list({ customer_id: team.customer })).data;
      expect(alerts.map((a) => [a.alert.name, a.alert.threshold])).toContainEqual(['Pool low', 500]);
    });
  });

  describe('embeddable URLs', () => {
    it('returns a URL that shows only this customer, may be framed, and refuses a tampered token', async () => {
      const { data } = await client.v1.dashboards.getEmbeddableURL({
        customer_id: team.customer,
        dashboard: 'credits',
        color_overrides: [{ name: 'Primary_medium', value: '#ff0000' }],
      });
      expect(data.url).toMatch(new RegExp(`^${server.baseURL}/embed\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
      const page = await fetch(data.url!);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain('frame-ancestors *');
      const text = await page.text();
      expect(text).toContain('Team of 100');
      expect(text).toContain('--primary:#ff0000');
      expect(text).not.toContain('name="csrf"');

      const token = new URL(data.url!).searchParams.get('token')!;
      const flipped = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
      const tampered = await fetch(`${server.baseURL}/embed?token=${flipped}`);
      expect(tampered.status).toBe(403);
      expect(await tampered.text()).toContain('not valid');
      expect((await fetch(`${server.baseURL}/embed/events?token=${flipped}`)).status).toBe(403);
      // The same signature on a grant for another customer; a grant for this tenant signed with another tenant's key.
      const [payload, signature] = token.split('.') as [string, string];
      const grant = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { t: string; c: string };
      const reencode = (changed: object) => Buffer.from(JSON.stringify(changed)).toString('base64url');
      const otherCustomer = (await client.v1.customers.create({ name: 'Someone else' })).data.id;
      expect((await fetch(`${server.baseURL}/embed?token=${reencode({ ...grant, c: otherCustomer })}.${signature}`)).status).toBe(403);
      const stranger = server.client(await server.keyFor('umbrella'));
      const theirs = (await stranger.v1.customers.create({ name: 'Umbrella' })).data.id;
      const theirUrl = (await stranger.v1.dashboards.getEmbeddableURL({ customer_id: theirs, dashboard: 'credits' })).data.url!;
      const [theirPayload, theirSignature] = new URL(theirUrl).searchParams.get('token')!.split('.') as [string, string];
      const theirGrant = JSON.parse(Buffer.from(theirPayload, 'base64url').toString()) as object;
      expect((await fetch(`${server.baseURL}/embed?token=${reencode({ ...theirGrant, t: grant.t, c: team.customer })}.${theirSignature}`)).status).toBe(403);
      // A tenant id that is not a uuid, and a made-up signature.
      expect((await fetch(`${server.baseURL}/embed?token=${reencode({ ...grant, t: '-'.repeat(36) })}.${signature}`)).status).toBe(403);
      expect((await fetch(`${server.baseURL}/embed?token=${payload}.AAAA`)).status).toBe(403);
      expect((await fetch(`${server.baseURL}/embed`)).status).toBe(403);
    });

    it('refuses bad input naming the field, and an unknown customer', async () => {
      await expect400(client.v1.dashboards.getEmbeddableURL({ customer_id: team.customer, dashboard: 'credits', color_overrides: [{ name: 'Primary_medium', value: 'red;}' }] }), 'color_overrides.0.value');
      await expect400(
        client.v1.dashboards.getEmbeddableURL({ customer_id: team.customer, dashboard: 'invoices', dashboard_options: [{ key: 'invoice_status_filter', value: 'PAID' }] }),
        'dashboard_options.0.value',
      );
      await expect400(client.v1.dashboards.getEmbeddableURL({ customer_id: team.customer, dashboard: 'graphs' as never }), 'dashboard');
      await expect400(client.v1.dashboards.getEmbeddableURL({ customer_id: team.customer, dashboard: 'invoices', dashboard_options: [{ key: 'constructor' as never, value: 'x' }] }), 'dashboard_options.0.key');
      const names = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`user-${i}@example.com`, `A person with a rather long display name number ${i}`]));
      await expect400(client.v1.dashboards.getEmbeddableURL({ customer_id: team.customer, dashboard: 'usage', bm_group_key_overrides: [{ group_key_name: 'user_id', value_display_names: names }] }), 'bm_group_key_overrides');
      expect((await rejection(client.v1.dashboards.getEmbeddableURL({ customer_id: '00000000-0000-4000-8000-000000000000', dashboard: 'usage' }))).status).toBe(404);
      const stranger = server.client(await server.keyFor('initech'));
      expect((await rejection(stranger.v1.dashboards.getEmbeddableURL({ customer_id: team.customer, dashboard: 'usage' }))).status).toBe(404);
    });

    it('starts the URL with ALLOT_PUBLIC_URL when set', async () => {
      const behindProxy = await startTestServer({ engine, publicUrl: 'https://billing.example.com/' });
      try {
        const other = behindProxy.client();
        const customer = (await other.v1.customers.create({ name: 'Proxied' })).data.id;
        const { data } = await other.v1.dashboards.getEmbeddableURL({ customer_id: customer, dashboard: 'usage' });
        expect(data.url).toMatch(/^https:\/\/billing\.example\.com\/embed\?token=/);
        // A form posted from the public address is this server's own, though the host differs.
        const visitor = new Visitor(behindProxy.baseURL);
        await visitor.signIn(behindProxy.key);
        const csrf = csrfOf(await (await visitor.request(`/ui/customers/${customer}`)).text());
        const form = { csrf, once: once(), name: 'Low', alert_type: 'low_remaining_contract_credit_and_commit_balance_reached', threshold: '5' };
        expect((await visitor.post(`/ui/customers/${customer}/alerts`, form, { origin: 'https://billing.example.com' })).status).toBe(303);
        expect((await visitor.post(`/ui/customers/${customer}/alerts`, { ...form, once: once() }, { origin: 'https://elsewhere.example.com' })).status).toBe(403);
        // No credit type: USD, typed in dollars.
        expect((await other.v1.customers.alerts.list({ customer_id: customer })).data.map((a) => a.alert.threshold)).toEqual([500]);
      } finally {
        await behindProxy.stop();
      }
    });

    it('filters invoices by the URL’s options', async () => {
      const url = async (options: { key: 'invoice_status_filter'; value: string }[]) =>
        (await client.v1.dashboards.getEmbeddableURL({ customer_id: team.customer, dashboard: 'invoices', dashboard_options: options })).data.url!;
      const drafts = await fetch(await url([{ key: 'invoice_status_filter', value: 'DRAFT' }]));
      expect(drafts.status).toBe(200);
      expect(await drafts.text()).toContain('Current period (draft)');
      const finalized = await fetch(await url([{ key: 'invoice_status_filter', value: 'FINALIZED' }]));
      expect(finalized.status).toBe(200);
      const text = await finalized.text();
      expect(text).toContain('Invoices');
      expect(text).not.toContain('Current period (draft)');
    });

    it('stops working an hour after it was made', async () => {
      const { data } = await client.v1.dashboards.getEmbeddableURL({ customer_id: team.customer, dashboard: 'usage' });
      expect((await fetch(data.url!)).status).toBe(200);
      await server.advanceClock('2024-04-11T01:00:00Z');
      const expired = await fetch(data.url!);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toContain('expired');
    });
  });
});
