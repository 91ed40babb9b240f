import type Metronome from '@metronome/sdk';
import type { DashboardGetEmbeddableURLParams } from '@metronome/sdk/resources/v1/dashboards';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeatChat, createHybridSeatContract, createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { expect400 } from '../helpers/expectations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { csrfOf, once, outcomeOf, unescape, Visitor } from '../helpers/visitor.js';

/**
 * Per-seat credits on the dashboard (docs/rules.md rule 29; src/dashboard/README.md "Seats"): the
 * customer page's seats table (sorted, searched and paged on the server), the embeddable credits
 * view scoped to one seat with Allot's `seat_id`, and seat alerts from the alert form. The team:
 * ada, bob and cy with 50 AI credits each of their own (priority 1) and 3 × 100 pooled (priority
 * 2); ada uses 80 → ada 0, pool 270.
 */

/** The seats table's rows as text: seat, state, then starting, used and remaining per unit. */
function seatTable(page: string): string[][] {
  return [...page.matchAll(/<tr data-testid="seat-row" data-seat="[^"]*">(.*?)<\/tr>/gs)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/gs)].map((cell) => unescape(cell[1]!.replace(/<[^>]+>/g, '')).trim()),
  );
}
const seatIds = (page: string) => seatTable(page).map((row) => row[0]);
/** A link of the page, as the browser would follow it. */
const hrefOf = (page: string, pattern: RegExp) => unescape(pattern.exec(page)![1]!);

describe('seats on the dashboard', () => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let visitor: Visitor;
  let team: { customer: string; contract: string };
  let crowd: { customer: string; contract: string };
  const teamPage = (query = '') => visitor.request(`/ui/customers/${team.customer}${query}`);
  const use = (customer: string, id: string, user: string, credits: number) =>
    client.v1.usage.ingest({ usage: [{ transaction_id: `${customer}-${id}`, customer_id: customer, event_type: 'tokens', timestamp: '2024-04-02T00:00:00Z', properties: { credits, user_id: user } }] });
  /** `getEmbeddableURL` with Allot's `seat_id`, which the SDK's type does not have: the SDK sends the body as given. */
  const seatUrl = async (body: DashboardGetEmbeddableURLParams & { seat_id: string }) => (await client.v1.dashboards.getEmbeddableURL(body as DashboardGetEmbeddableURLParams)).data.url!;

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres', clockStart: '2024-04-05T00:00:00Z' });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 0, aiCreditsInCents: 100 });
    await addSeatChat(client, catalog);
    team = await createHybridSeatContract(client, { catalog, name: 'Seat team', seatIds: ['ada', 'bob', 'cy'], seatPriority: 1, poolPriority: 2 });
    await use(team.customer, 'ada', 'ada', 80);
    crowd = await createHybridSeatContract(client, {
      catalog,
      name: 'Crowd',
      seatIds: Array.from({ length: 120 }, (_, i) => `seat-${String(i).padStart(3, '0')}`),
      seatPriority: 1,
      poolPriority: 2,
    });
    await use(crowd.customer, 's7', 'seat-007', 30);
    await use(crowd.customer, 's42', 'seat-042', 10);
    visitor = new Visitor(server.baseURL);
    await visitor.signIn(server.key);
  }, 120_000);
  afterAll(() => server?.stop());

  describe('the seats table', () => {
    it("lists each seat with its own starting, used and remaining credits, as listSeatBalances gives them", async () => {
      const page = await (await teamPage()).text();
      expect(page).toContain('<h2 id="seat-balances-title">Seat balances</h2>');
      expect(seatTable(page)).toEqual([
        ['ada', 'Assigned', '50.00', '50.00', '0.00'],
        ['bob', 'Assigned', '50.00', '0.00', '50.00'],
        ['cy', 'Assigned', '50.00', '0.00', '50.00'],
      ]);
      expect(page).toContain('Seats 1–3 of 3');
      const api = await client.v1.contracts.listSeatBalances({ customer_id: team.customer, contract_id: team.contract });
      expect(api.data.map((seat) => [seat.seat_id, seat.balances.map((b) => [b.starting_balance, b.balance])])).toEqual([
        ['ada', [[50, 0]]],
        ['bob', [[50, 50]]],
        ['cy', [[50, 50]]],
      ]);
    });

    it('sorts by any column on the server, each heading a link that sorts the other way once it is the sort', async () => {
      const byRemaining = await (await teamPage('?seat_sort=remaining')).text();
      expect(seatIds(byRemaining)).toEqual(['ada', 'bob', 'cy']);
      // The active heading links to the other direction; ties keep seat id order.
      const descending = hrefOf(byRemaining, /<a href="([^"]+)" data-testid="seat-sort-remaining">/);
      expect(descending).toBe(`/ui/customers/${team.customer}?seat_sort=remaining&seat_dir=desc&seat_unit=${catalog.aiCredits}#seat-balances`);
      expect(seatIds(await (await visitor.request(descending)).text())).toEqual(['bob', 'cy', 'ada']);
      expect(seatIds(await (await teamPage('?seat_sort=used&seat_dir=desc')).text())).toEqual(['ada', 'bob', 'cy']);
      expect(seatIds(await (await teamPage('?seat_sort=seat&seat_dir=desc')).text())).toEqual(['cy', 'bob', 'ada']);
      expect(byRemaining).toMatch(/<th scope="col" class="num" aria-sort="ascending"><a [^>]*data-testid="seat-sort-remaining">Remaining \(AI credits\) ▲<\/a>/);
    });

    it('searches seat ids, ignoring case, and says when nothing matches', async () => {
      const found = await (await teamPage('?seat_q=AD')).text();
      expect(seatIds(found)).toEqual(['ada']);
      expect(found).toContain('Seats 1–1 of 1 matching “AD” (3 in all)');
      expect(found).toContain('name="seat_q" type="search" value="AD"');
      const none = await (await teamPage('?seat_q=zz')).text();
      expect(seatIds(none)).toEqual([]);
      expect(none).toContain('No seat matches.');
    });

    it('pages thousands of seats 50 at a time, keeping the sort and search in its links', async () => {
      const crowdPage = (query: string) => visitor.request(`/ui/customers/${crowd.customer}${query}`);
      const first = await (await crowdPage('')).text();
      expect(seatIds(first)).toEqual(Array.from({ length: 50 }, (_, i) => `seat-${String(i).padStart(3, '0')}`));
      expect(first).toContain('Seats 1–50 of 120');
      expect(first).toContain('Page 1 of 3');
      const next = hrefOf(first, /<a href="([^"]+)" rel="next">/);
      expect(next).toBe(`/ui/customers/${crowd.customer}?seat_page=2#seat-balances`);
      const last = await (await crowdPage('?seat_page=3')).text();
      expect(seatIds(last)).toHaveLength(20);
      expect(seatIds(last).at(-1)).toBe('seat-119');
      expect(last).not.toContain('rel="next"');
      // Past the last page: the last page.
      expect(await (await crowdPage('?seat_page=9')).text()).toContain('Seats 101–120 of 120');

      const lowest = await (await crowdPage('?seat_sort=remaining')).text();
      expect(seatTable(lowest).slice(0, 3)).toEqual([
        ['seat-007', 'Assigned', '50.00', '30.00', '20.00'],
        ['seat-042', 'Assigned', '50.00', '10.00', '40.00'],
        ['seat-000', 'Assigned', '50.00', '0.00', '50.00'],
      ]);
      const searched = await (await crowdPage('?seat_q=seat-0&seat_sort=remaining&seat_dir=desc')).text();
      expect(searched).toContain('Seats 1–50 of 100 matching “seat-0” (120 in all)');
      const second = hrefOf(searched, /<a href="([^"]+)" rel="next">/);
      expect(second).toBe(`/ui/customers/${crowd.customer}?seat_q=seat-0&seat_sort=remaining&seat_dir=desc&seat_unit=${catalog.aiCredits}&seat_page=2#seat-balances`);
      expect(seatIds(await (await visitor.request(second)).text()).slice(-2)).toEqual(['seat-042', 'seat-007']);
    });

    it('refuses a bad query naming the parameter, and is not shown for a customer without seat ids', async () => {
      const bad = await teamPage('?seat_sort=price&seat_page=0');
      expect(bad.status).toBe(400);
      const text = unescape(await bad.text());
      expect(text).toContain('seat_sort: must be one of seat, starting, used, remaining');
      expect(text).toContain('seat_page: must be a page number from 1');
      const quantityOnly = await createSeatContract(client, { catalog, seats: 5 });
      const page = await (await visitor.request(`/ui/customers/${quantityOnly.customer}`)).text();
      expect(page).toContain('Team of 5');
      expect(page).not.toContain('id="seat-balances"');
    });
  });

  describe('the embeddable view of one seat', () => {
    it("shows the seat's own remaining credits and the pool it draws on next, and nothing of another seat", async () => {
      const ada = await fetch(await seatUrl({ customer_id: team.customer, dashboard: 'credits', seat_id: 'ada' }));
      expect(ada.status).toBe(200);
      expect(ada.headers.get('content-security-policy')).toContain('frame-ancestors *');
      const page = unescape(await ada.text());
      expect(page).toContain('<strong data-testid="seat-id">ada</strong>');
      expect(page).toContain('<div class="value" data-testid="seat-remaining">0.00 AI credits</div>');
      expect(page).toContain('of <span data-testid="seat-starting">50.00 AI credits</span> · used <span data-testid="seat-used">50.00 AI credits</span>');
      expect(page).toContain('Once your own credits are used, your usage draws on your team’s shared pool: <strong data-testid="seat-pool-remaining">270.00 AI credits</strong> left.');
      expect(page).not.toMatch(/\bbob\b|\bcy\b/);
      // Not the customer-wide view: no ledgers of other seats' credits.
      expect(page).not.toContain('Credits and ledgers');

      const bob = unescape(await (await fetch(await seatUrl({ customer_id: team.customer, dashboard: 'commits_and_credits', seat_id: 'bob' }))).text());
      expect(bob).toContain('<div class="value" data-testid="seat-remaining">50.00 AI credits</div>');
      expect(bob).not.toMatch(/\bada\b/);
    });

    it('the customer-wide credits view sums the seats’ own credits in one line instead of a ledger per seat', async () => {
      const url = (await client.v1.dashboards.getEmbeddableURL({ customer_id: crowd.customer, dashboard: 'credits' })).data.url!;
      const page = unescape(await (await fetch(url)).text());
      // 120 seats × 50, less seat-007's 30 and seat-042's 10.
      expect(page).toContain(`<p data-testid="seat-credits-${catalog.aiCredits}">120 seats with credits of their own: <strong>5,960.00 AI credits</strong> left in all.</p>`);
      expect(page).not.toMatch(/seat-0\d\d/);
      // The shared pool keeps its ledger; no seat's credit has one.
      expect(page).toContain('Credits and ledgers');
      expect(page.match(/data-testid="grant-balance-/g)?.length).toBe(1);
    });

    it('says the pool comes first when the priorities put it first: ada’s 80 → ada 50, pool 220', async () => {
      const poolFirst = await createHybridSeatContract(client, { catalog, name: 'Pool first', seatIds: ['ada', 'bob'], seatPriority: 2, poolPriority: 1 });
      await use(poolFirst.customer, 'ada', 'ada', 80);
      const page = unescape(await (await fetch(await seatUrl({ customer_id: poolFirst.customer, dashboard: 'credits', seat_id: 'ada' }))).text());
      expect(page).toContain('<div class="value" data-testid="seat-remaining">50.00 AI credits</div>');
      expect(page).toContain('Your usage draws on your team’s shared pool first, then your own credits: <strong data-testid="seat-pool-remaining">120.00 AI credits</strong> left in the pool.');
    });

    it('cannot be turned into another seat’s view by editing the URL', async () => {
      const url = await seatUrl({ customer_id: team.customer, dashboard: 'credits', seat_id: 'ada' });
      const token = new URL(url).searchParams.get('token')!;
      const [payload, signature] = token.split('.') as [string, string];
      const grant = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      expect(grant.s).toBe('ada');
      const reencode = (changed: object) => Buffer.from(JSON.stringify(changed)).toString('base64url');
      for (const changed of [{ ...grant, s: 'bob' }, Object.fromEntries(Object.entries(grant).filter(([key]) => key !== 's'))]) {
        const tampered = await fetch(`${server.baseURL}/embed?token=${reencode(changed)}.${signature}`);
        expect(tampered.status).toBe(403);
        expect(await tampered.text()).toContain('not valid');
        expect((await fetch(`${server.baseURL}/embed/events?token=${reencode(changed)}.${signature}`)).status).toBe(403);
      }
      // Query parameters beside the token change nothing.
      const extra = unescape(await (await fetch(`${url}&seat_id=bob&s=bob`)).text());
      expect(extra).toContain('<strong data-testid="seat-id">ada</strong>');
      expect(extra).toContain('<div class="value" data-testid="seat-remaining">0.00 AI credits</div>');
    });

    it('refuses a seat not on the contract, or on another view, with a 400 naming seat_id', async () => {
      await expect400(seatUrl({ customer_id: team.customer, dashboard: 'credits', seat_id: 'zed' }), 'seat_id');
      await expect400(seatUrl({ customer_id: crowd.customer, dashboard: 'credits', seat_id: 'ada' }), 'seat_id');
      await expect400(seatUrl({ customer_id: team.customer, dashboard: 'usage', seat_id: 'ada' }), 'seat_id');
      await expect400(seatUrl({ customer_id: team.customer, dashboard: 'credits', seat_id: 'ada', dashboard_options: [{ key: 'contract_id', value: crowd.contract }] }), 'seat_id');
      await expect400(seatUrl({ customer_id: team.customer, dashboard: 'credits', seat_id: '' }), 'seat_id');
    });
  });

  describe('the alert form', () => {
    it('creates a seat alert with a seat filter, and says what a seat alert without a seat key lacks', async () => {
      const page = await (await teamPage()).text();
      expect(page).toContain('<option value="low_remaining_seat_balance_reached">A seat’s balance at or below</option>');
      expect(page).toContain('<select name="seat_group_key"><option value="">—</option><option value="user_id" selected>user_id</option></select>');
      const csrf = csrfOf(page);
      const form = { csrf, name: 'Ada low', alert_type: 'low_remaining_seat_balance_reached', threshold: '10', credit_type_id: catalog.aiCredits, group_key: '', seat_group_key: 'user_id', seat_group_value: 'ada' };
      const created = await outcomeOf(visitor, await visitor.post(`/ui/customers/${team.customer}/alerts`, { ...form, once: once() }));
      expect(created.notice).toBe('Alert “Ada low” created.');
      const [alert] = (await client.v1.customers.alerts.list({ customer_id: team.customer })).data;
      expect(alert!.alert).toMatchObject({ name: 'Ada low', type: 'low_remaining_seat_balance_reached', threshold: 10, seat_filter: { seat_group_key: 'user_id', seat_group_value: 'ada' } });
      // ada holds 0 of her own: at or below 10.
      expect(alert!.customer_status).toBe('in_alarm');
      expect(created.page).toContain('Seat ada (user_id)');

      const everySeat = await outcomeOf(visitor, await visitor.post(`/ui/customers/${team.customer}/alerts`, { ...form, name: 'Any seat low', seat_group_value: '', once: once() }));
      expect(everySeat.notice).toBe('Alert “Any seat low” created.');
      expect(everySeat.page).toContain('Each seat (user_id)');

      const keyless = await outcomeOf(visitor, await visitor.post(`/ui/customers/${team.customer}/alerts`, { ...form, name: 'No key', seat_group_key: '', once: once() }));
      expect(keyless.error).toMatch(/^seat_filter: is required for low_remaining_seat_balance_reached alerts/);
      // A seat for another kind of alert is not sent: a balance alert is made as before.
      const balance = await outcomeOf(visitor, await visitor.post(`/ui/customers/${team.customer}/alerts`, { ...form, name: 'Pool low', alert_type: 'low_remaining_contract_credit_and_commit_balance_reached', once: once() }));
      expect(balance.notice).toBe('Alert “Pool low” created.');
      expect((await client.v1.customers.alerts.list({ customer_id: team.customer })).data.map((a) => a.alert.name).sort()).toEqual(['Ada low', 'Any seat low', 'Pool low']);
    });
  });
});
