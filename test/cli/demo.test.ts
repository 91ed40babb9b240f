import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The fields `allot demo` prints, read back from its output. */
function printed(output: string) {
  const field = (pattern: RegExp) => {
    const match = pattern.exec(output);
    if (!match) throw new Error(`${pattern} not found in:\n${output}`);
    return match[1]!;
  };
  const rows = (heading: string) => {
    const block = output.split(heading)[1]?.split('\n\n')[0] ?? '';
    return [...block.matchAll(/^ {4}(\S+)\s+([\d,]+) tokens$/gm)].map((row) => ({ name: row[1]!, tokens: Number(row[2]!.replaceAll(',', '')) }));
  };
  const alertsBlock = output.split('\n  Alerts:\n')[1]?.split('\n\n')[0];
  return {
    customerId: field(/^ {2}customer\s+(\S+)$/m),
    alias: field(/^ {2}ingest alias\s+(\S+)$/m),
    contractId: field(/^ {2}contract\s+([^,\s]+),/m),
    aiCredits: field(/pricing unit (\S+)/),
    seats: Number(field(/^ {2}seats\s+(\d+) ×/m)),
    poolBalance: Number(field(/^ {2}pool balance\s+([\d,.]+) AI credits/m).replaceAll(',', '')),
    topUsers: rows('Top users by chat tokens this period:'),
    teams: rows('Chat tokens by team:'),
    /** Each alert printed: its name, status, and for a per-user alert the top users it has in alarm. */
    alerts: alertsBlock
      ? [...alertsBlock.matchAll(/^ {4}(\S.*?) {2,}(ok|in_alarm|evaluating) {2,}.*$(?:\n {6}top users in alarm: (.+)$)?/gm)].map((row) => ({
          name: row[1]!,
          status: row[2]!,
          topUsersInAlarm: row[3] === undefined ? undefined : row[3] === 'none' ? [] : row[3].split(', '),
        }))
      : undefined,
  };
}

const startOfMonth = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
const nextHour = (now: Date) => new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 + 3_600_000).toISOString();

describe('allot demo, against a running server on PostgreSQL', () => {
  let server: TestServer;
  // The demo runs on the real clock (usage from the 1st of this month to now), like a newcomer's server.
  const demo = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    runCli(['demo', '--url', server.baseURL, '--events', '2000', ...args], { ALLOT_KEY: '', LOG_LEVEL: 'warn', ...env });

  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres' });
  });
  afterAll(() => server?.stop());

  it('loads a company whose customer, contract, pool and usage the API shows as printed; a second run finds it', async () => {
    const first = await demo(['--key', server.key]);
    expect(first.stderr).not.toMatch(/allot:/);
    expect(first.code).toBe(0);
    const shown = printed(first.stdout);
    const client = server.client();

    const customer = (await client.v1.customers.retrieve({ customer_id: shown.customerId })).data;
    expect(customer).toMatchObject({ name: 'Acme AI', ingest_aliases: ['acme-ai'] });
    expect(shown.alias).toBe('acme-ai');

    const contract = (await client.v2.contracts.retrieve({ customer_id: shown.customerId, contract_id: shown.contractId })).data;
    expect(contract.subscriptions?.[0]?.quantity_schedule?.[0]?.quantity).toBe(100);
    expect(shown.seats).toBe(100);

    // Usage drew the pool of 100 × 50 down, and the balance printed is the one the API reads.
    const net = (await client.v1.contracts.getNetBalance({ customer_id: shown.customerId, credit_type_id: shown.aiCredits })).data.balance;
    expect(net).toBeLessThan(5000);
    expect(net).toBeGreaterThan(0);
    expect(Math.abs(shown.poolBalance - net)).toBeLessThanOrEqual(0.005); // printed to the cent

    // The usage is there per metric, and the per-team figures printed add up to the chat tokens.
    const now = new Date();
    const usage = [];
    for await (const row of client.v1.usage.list({ starting_on: startOfMonth(now), ending_before: nextHour(now), window_size: 'NONE', customer_ids: [shown.customerId] })) {
      usage.push(row);
    }
    const chatTokens = usage.find((row) => row.billable_metric_name === 'Chat tokens')!;
    const images = usage.find((row) => row.billable_metric_name === 'Image generations')!;
    expect(chatTokens.value).toBeGreaterThan(0);
    expect(images.value).toBeGreaterThan(0);
    expect(shown.teams.map((team) => team.name).sort()).toEqual(['engineering', 'research', 'sales', 'support']);
    expect(shown.teams.reduce((sum, team) => sum + team.tokens, 0)).toBe(chatTokens.value);
    // 2,000 events at 0.00005 AI credits a token and 0.25 an image: what the pool lost.
    expect(net).toBeCloseTo(5000 - chatTokens.value! * 0.00005 - images.value! * 0.25, 6);

    const topUser = shown.topUsers[0]!;
    const byUser = await client.v1.usage.listWithGroups({
      customer_id: shown.customerId,
      billable_metric_id: chatTokens.billable_metric_id,
      window_size: 'NONE',
      current_period: true,
      group_key: ['user_id'],
    });
    expect(byUser.data.find((row) => row.group_value === topUser.name)?.value).toBe(topUser.tokens);

    // The two alerts exist on the customer, in AI credits, and what is printed is what the API says.
    const alerts = [];
    for await (const alert of client.v1.customers.alerts.list({ customer_id: shown.customerId })) alerts.push(alert);
    const pool = alerts.find((alert) => alert.alert.name === 'Pool below 20%')!;
    const heavy = alerts.find((alert) => alert.alert.name === 'Heavy user')!;
    expect(pool.alert).toMatchObject({ type: 'low_remaining_contract_credit_and_commit_balance_reached', threshold: 1000, credit_type: { id: shown.aiCredits } });
    expect(heavy.alert).toMatchObject({ type: 'spend_threshold_reached', credit_type: { id: shown.aiCredits }, group_values: [{ key: 'user_id' }] });
    expect(heavy.alert.threshold).toBeGreaterThan(0);
    expect(first.stdout).toMatch(/curl -s \S+\/v1\/customer-alerts\/list /);
    // The customer's page in the dashboard, which answers (a sign-in first).
    const page = new RegExp(`^  (${server.baseURL}/ui/customers/${shown.customerId})$`, 'm').exec(first.stdout)?.[1];
    expect(page).toBeDefined();
    expect((await fetch(page!, { redirect: 'manual' })).headers.get('location')).toBe(`/ui/sign-in?next=${encodeURIComponent(`/ui/customers/${shown.customerId}`)}`);
    const printedStatuses = (output: string) => Object.fromEntries((printed(output).alerts ?? []).map((alert) => [alert.name, alert.status]));
    expect(printedStatuses(first.stdout)).toEqual({ 'Pool below 20%': pool.customer_status, 'Heavy user': heavy.customer_status });
    // The pool of 5,000 holds more than 1,000 after 2,000 events (about 270 credits).
    expect(pool.customer_status).toBe('ok');
    // For each top user shown, "in alarm" is printed exactly when the API says so for that user.
    const heavyPrinted = printed(first.stdout).alerts!.find((alert) => alert.name === 'Heavy user')!;
    const shownTop = shown.topUsers.map((user) => user.name);
    expect(shownTop.length).toBeGreaterThan(0);
    expect(shownTop).toEqual(expect.arrayContaining(heavyPrinted.topUsersInAlarm!));
    for (const name of shownTop) {
      const perUser = (
        await client.v1.customers.alerts.retrieve({ customer_id: shown.customerId, alert_id: heavy.alert.id, group_values: [{ key: 'user_id', value: name }] })
      ).data;
      expect(perUser.customer_status === 'in_alarm', name).toBe(heavyPrinted.topUsersInAlarm!.includes(name));
    }
    if (heavyPrinted.topUsersInAlarm!.length > 0) expect(heavy.customer_status).toBe('in_alarm');

    const second = await demo(['--key', server.key]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/is already loaded/);
    expect(printed(second.stdout).customerId).toBe(shown.customerId);
    // Read back, not created again: the same two alerts, printed as the API reports them.
    const after = [];
    for await (const alert of client.v1.customers.alerts.list({ customer_id: shown.customerId })) after.push(alert);
    expect(after.map((alert) => alert.alert.id).sort()).toEqual([pool.alert.id, heavy.alert.id].sort());
    expect(printedStatuses(second.stdout)).toEqual(Object.fromEntries(after.map((alert) => [alert.alert.name, alert.customer_status])));
    const sameAlias = await client.v1.customers.list({ ingest_alias: 'acme-ai' });
    expect(sameAlias.data).toHaveLength(1);
  }, 120_000);

  it('without a key, creates one in the PostgreSQL database and prints it', async () => {
    const result = await demo(['--company', 'Beta AI', '--events', '300'], { DATABASE_URL: server.database.url! });
    expect(result.code).toBe(0);
    const key = /^ {2}(allot_[A-Za-z0-9_-]{43})$/m.exec(result.stdout)?.[1];
    expect(key).toBeDefined();
    const shown = printed(result.stdout);
    expect(shown.alias).toBe('beta-ai');
    const customer = (await server.client(key).v1.customers.retrieve({ customer_id: shown.customerId })).data;
    expect(customer.name).toBe('Beta AI');
  }, 120_000);

  it('without a key, while a server holds the PGlite directory, says what to do', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'allot-demo-'));
    try {
      // The lock of a live process (this one), as a running `allot serve` leaves it.
      writeFileSync(join(dataDir, 'allot.lock'), String(process.pid));
      const result = await demo([], { DATABASE_URL: '', ALLOT_DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/No API key given/);
      expect(result.stderr).toMatch(/holds the PGlite database/);
      expect(result.stderr).toMatch(/npx allot demo --key allot_/);
      expect(result.stdout).toBe('');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('says how to start the server when none answers', async () => {
    const result = await runCli(['demo', '--url', 'http://127.0.0.1:9', '--key', 'allot_x'], { LOG_LEVEL: 'warn' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Cannot reach Allot at http:\/\/127\.0\.0\.1:9\. Start it in another terminal with `npm start`/);
  });
});
