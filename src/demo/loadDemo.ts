import { randomBytes } from 'node:crypto';
import { ApiError, type Api } from './api.js';
import { createAiPlan, createPooledSeatCustomer, findOrCreateCreditType, startOfMonth } from './aiPlan.js';
import { createDemoAlerts, readAlerts, type DemoAlert } from './alerts.js';
import { DEMO_USAGE, demoEvents, demoUsers, heavyUserThreshold, slugOf, TEAMS } from './company.js';

/** How many of the top users the summary shows (and whose "Heavy user" status it reads). */
export const TOP_USERS_SHOWN = 5;

export interface DemoOptions {
  company: string;
  users: number;
  events: number;
  seats: number;
  creditsPerSeat: number;
  now: Date;
  /** Told what the demo is doing while it waits on the server. */
  progress?: (message: string) => void;
}

export interface UsageByGroup {
  name: string;
  value: number;
}

/** What the demo loaded (or found), read back from the API. */
export interface DemoSummary {
  /** False when the company was there already and was only read back. */
  created: boolean;
  company: string;
  customerId: string;
  alias: string;
  contractId: string;
  contractStart: string;
  seats: number | null;
  creditsPerSeat: number;
  aiCreditsId: string;
  eventsSent: number;
  users: number;
  teams: number;
  /** The pool's balance now, by `getNetBalance` in AI credits. */
  poolBalance: number;
  /** What the pool was granted this period (starts and seat adjustments), from `listBalances` ledgers. */
  poolGranted: number | null;
  chatTokensMetricId: string | null;
  topUsers: UsageByGroup[];
  teamsUsage: UsageByGroup[];
  /**
   * The customer's alerts as `customer-alerts/list` reports them (the demo creates "Pool below 20%"
   * and "Heavy user"), with the top users' statuses on a per-user alert; null when the server has
   * no alerts API.
   */
  alerts: DemoAlert[] | null;
}

type Data<T> = { data: T };
type Paged<T> = { data: T[]; next_page: string | null };

const INGEST_BATCH = 100;
const INGEST_CONCURRENCY = 4;

/** Sends `events` through `POST /v1/ingest`, 100 to a request, a few requests at a time. */
async function ingest(api: Api, events: unknown[]): Promise<void> {
  const batches: unknown[][] = [];
  for (let i = 0; i < events.length; i += INGEST_BATCH) batches.push(events.slice(i, i + INGEST_BATCH));
  let next = 0;
  await Promise.all(
    Array.from({ length: INGEST_CONCURRENCY }, async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        try {
          await api.post('/v1/ingest', batch);
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) {
            throw new Error('This Allot server has no POST /v1/ingest yet, so the demo cannot send usage. Update Allot and try again.');
          }
          throw error;
        }
      }
    }),
  );
}

/** Every row of a `POST /v1/usage/groups` query (current period, one window), largest first. */
async function usageBy(api: Api, { customerId, metricId, property }: { customerId: string; metricId: string; property: string }): Promise<UsageByGroup[]> {
  const rows: UsageByGroup[] = [];
  for (let page: string | null = ''; page !== null; ) {
    const answer: Paged<{ group_value: string | null; value: number | null }> = await api.post(
      `/v1/usage/groups${page ? `?next_page=${encodeURIComponent(page)}` : ''}`,
      { customer_id: customerId, billable_metric_id: metricId, window_size: 'NONE', current_period: true, group_key: [property] },
    );
    for (const row of answer.data) if (row.group_value !== null && row.value) rows.push({ name: row.group_value, value: row.value });
    page = answer.next_page;
  }
  return rows.sort((a, b) => b.value - a.value || a.name.localeCompare(b.name));
}

interface ContractView {
  id: string;
  starting_at: string;
  subscriptions?: Array<{ quantity_schedule?: Array<{ quantity: number; starting_at: string }> }>;
}

/** Reads back what the company has: pool balance, grants, seats, and usage by user and team. */
async function readBack(
  api: Api,
  { customerId, contractId, aiCreditsId, now }: { customerId: string; contractId: string; aiCreditsId: string; now: Date },
): Promise<Pick<DemoSummary, 'poolBalance' | 'poolGranted' | 'seats' | 'contractStart' | 'chatTokensMetricId' | 'topUsers' | 'teamsUsage'>> {
  const [net, balances, contract, metrics] = await Promise.all([
    api.post<Data<{ balance: number }>>('/v1/contracts/customerBalances/getNetBalance', { customer_id: customerId, credit_type_id: aiCreditsId }),
    api.post<Data<Array<{ access_schedule?: { credit_type?: { id: string } }; ledger?: Array<{ type: string; amount: number; timestamp: string }> }>>>(
      '/v1/contracts/customerBalances/list',
      { customer_id: customerId, include_ledgers: true, covering_date: now.toISOString() },
    ),
    api.post<Data<ContractView>>('/v2/contracts/get', { customer_id: customerId, contract_id: contractId }),
    api.get<Paged<{ id: string; name: string }>>(`/v1/customers/${customerId}/billable-metrics`).catch(() => ({ data: [], next_page: null })),
  ]);
  const grantTypes = /SEGMENT_START$|SEAT_BASED_ADJUSTMENT$|ROLLOVER$/;
  const granted = balances.data
    .filter((credit) => credit.access_schedule?.credit_type?.id === aiCreditsId)
    .flatMap((credit) => credit.ledger ?? [])
    .filter((entry) => grantTypes.test(entry.type));
  const schedule = contract.data.subscriptions?.[0]?.quantity_schedule ?? [];
  const seats = schedule.filter((step) => new Date(step.starting_at) <= now).at(-1)?.quantity ?? null;
  const chatTokens = metrics.data.find((metric) => metric.name === 'Chat tokens');
  const [topUsers, teamsUsage] = chatTokens
    ? await Promise.all([
        usageBy(api, { customerId, metricId: chatTokens.id, property: 'user_id' }),
        usageBy(api, { customerId, metricId: chatTokens.id, property: 'team' }),
      ])
    : [[], []];
  return {
    poolBalance: net.data.balance,
    poolGranted: granted.length ? granted.reduce((sum, entry) => sum + entry.amount, 0) : null,
    seats,
    contractStart: contract.data.starting_at,
    chatTokensMetricId: chatTokens?.id ?? null,
    topUsers,
    teamsUsage,
  };
}

/** The demo company if the tenant has it already (found by its ingest alias). */
async function findCompany(api: Api, alias: string): Promise<{ customerId: string; contractId: string | undefined } | undefined> {
  const customers = await api.get<Paged<{ id: string }>>(`/v1/customers?ingest_alias=${encodeURIComponent(alias)}`);
  const customer = customers.data[0];
  if (!customer) return undefined;
  const contracts = await api.post<Data<Array<{ id: string }>>>('/v2/contracts/list', { customer_id: customer.id });
  return { customerId: customer.id, contractId: contracts.data[0]?.id };
}

/**
 * Loads an AI company into the tenant: 100 seats with 50 AI credits each pooled, a rate card that
 * prices chat tokens and images in AI credits, and usage by 100 people in 4 teams from the start
 * of the month to now, sent through `POST /v1/ingest`. When a company with the same name (ingest
 * alias) exists, nothing is created and the existing one is read back.
 */
export async function loadDemo(api: Api, options: DemoOptions): Promise<DemoSummary> {
  const alias = slugOf(options.company);
  const existing = await findCompany(api, alias);
  if (existing) {
    if (!existing.contractId) throw new Error(`A customer with the ingest alias "${alias}" exists but has no contract; pass --company to load another company.`);
    const { id: aiCreditsId } = await findOrCreateCreditType(api, 'AI credits');
    const read = await readBack(api, { customerId: existing.customerId, contractId: existing.contractId, aiCreditsId, now: options.now });
    const alerts = await readAlerts(api, { customerId: existing.customerId, topUsers: topNames(read.topUsers) });
    return {
      created: false,
      company: options.company,
      customerId: existing.customerId,
      alias,
      contractId: existing.contractId,
      creditsPerSeat: options.creditsPerSeat,
      aiCreditsId,
      eventsSent: 0,
      users: read.topUsers.length,
      teams: read.teamsUsage.length,
      ...read,
      alerts,
    };
  }

  options.progress?.(`Creating the AI plan and "${options.company}" on ${options.seats} seats…`);
  const plan = await createAiPlan(api, { name: `${options.company} plan (demo)`, usage: DEMO_USAGE, aiCreditInCents: 100 });
  const periodStart = startOfMonth(options.now);
  const { customerId, contractId } = await createPooledSeatCustomer(api, plan, {
    name: options.company,
    ingestAlias: alias,
    seats: options.seats,
    creditsPerSeat: options.creditsPerSeat,
    startingAt: periodStart.toISOString(),
  });
  const users = demoUsers(options.users, `${alias}.example`);
  const poolCredits = options.seats * options.creditsPerSeat;
  const events = demoEvents({ alias, users, count: options.events, from: periodStart, to: options.now, runId: randomBytes(4).toString('hex') });
  options.progress?.(`Sending ${events.length.toLocaleString('en-US')} usage events through POST /v1/ingest…`);
  await ingest(api, events);
  // Created after the usage, so that they are evaluated once on what was sent rather than after
  // every ingest call (a per-user spend alert rates the period per user each time).
  const hasAlerts = await createDemoAlerts(api, {
    customerId,
    aiCreditsId: plan.aiCredits,
    poolThreshold: poolCredits * 0.2,
    heavyUserThreshold: heavyUserThreshold(users, options.events),
  });
  const read = await readBack(api, { customerId, contractId, aiCreditsId: plan.aiCredits, now: options.now });
  let alerts: DemoAlert[] | null = null;
  if (hasAlerts) {
    options.progress?.('Reading the alerts back once evaluated…');
    // What the alerts should say once evaluated on the usage sent: the pool balance read back, and
    // each user's spend (each usage product's usage by user × its rate in AI credits).
    const spendByUser = new Map<string, number>();
    const byProduct = await Promise.all(plan.usageProducts.map((product) => usageBy(api, { customerId, metricId: product.metricId, property: 'user_id' })));
    plan.usageProducts.forEach((product, index) => {
      for (const row of byProduct[index]!) spendByUser.set(row.name, (spendByUser.get(row.name) ?? 0) + row.value * Number(product.creditsPerUnit));
    });
    const expect = events.length > 0 ? { aiCreditsId: plan.aiCredits, poolBalance: read.poolBalance, spendByUser } : undefined;
    alerts = await readAlerts(api, { customerId, topUsers: topNames(read.topUsers), ...(expect && { expect }) });
  }
  return {
    created: true,
    company: options.company,
    customerId,
    alias,
    contractId,
    creditsPerSeat: options.creditsPerSeat,
    aiCreditsId: plan.aiCredits,
    eventsSent: events.length,
    users: users.length,
    teams: Math.min(TEAMS.length, users.length),
    ...read,
    alerts,
  };
}

const topNames = (usage: UsageByGroup[]) => usage.slice(0, TOP_USERS_SHOWN).map((user) => user.name);
