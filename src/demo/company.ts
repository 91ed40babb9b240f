import type { UsageProductSpec } from './aiPlan.js';

/** The demo's AI company: its teams, people and what they use, with prices in AI credits. */
export const TEAMS = ['research', 'engineering', 'support', 'sales'] as const;

const FIRST_NAMES = [
  'ada', 'alan', 'amara', 'anya', 'aziz', 'bea', 'bruno', 'carla', 'chen', 'dara',
  'dev', 'elif', 'emil', 'esme', 'farah', 'felix', 'gia', 'goran', 'hana', 'hugo',
  'ines', 'ivan', 'jade', 'jonas', 'kai', 'kemal', 'lena', 'leo', 'lina', 'malik',
  'mara', 'mei', 'nadia', 'nico', 'noor', 'omar', 'oona', 'pablo', 'priya', 'quinn',
  'rafa', 'rosa', 'sami', 'sara', 'tariq', 'tess', 'uma', 'vera', 'wen', 'yusuf',
];

export const CHAT_EVENT = 'chat_completion';
export const IMAGE_EVENT = 'image_generation';

/** Chat tokens at 0.00005 AI credits each (20,000 tokens for one credit), images at 0.25 credits. */
export const DEMO_USAGE: UsageProductSpec[] = [
  { name: 'Chat tokens', metric: { name: 'Chat tokens', eventType: CHAT_EVENT, aggregation: 'SUM', key: 'tokens' }, creditsPerUnit: '0.00005' },
  { name: 'Image generations', metric: { name: 'Image generations', eventType: IMAGE_EVENT, aggregation: 'COUNT' }, creditsPerUnit: '0.25' },
];

/** What an event is: a chat completion (this share of them) of `CHAT_TOKENS.min` to `min + span - 1` tokens, else an image. */
const CHAT_SHARE = 0.8;
const CHAT_TOKENS = { min: 200, span: 3800 };

export interface DemoUser {
  id: string;
  team: string;
  /** How much this person uses relative to the others: a few heavy users, a long tail. */
  weight: number;
}

export interface DemoEvent {
  transaction_id: string;
  customer_id: string;
  event_type: string;
  timestamp: string;
  properties: Record<string, string | number>;
}

/** `count` users (`ada@acme-ai.example`, …) spread over the four teams, with Zipf-like weights. */
export function demoUsers(count: number, domain: string): DemoUser[] {
  return Array.from({ length: count }, (_, index) => {
    const name = FIRST_NAMES[index % FIRST_NAMES.length]!;
    const round = Math.floor(index / FIRST_NAMES.length);
    return {
      id: `${name}${round > 0 ? round + 1 : ''}@${domain}`,
      team: TEAMS[index % TEAMS.length]!,
      weight: 1 / Math.pow(1 + ((index * 37) % count), 0.8),
    };
  });
}

/**
 * `count` usage events for the customer known by `alias`, from `from` to `to` (uniformly in
 * time): 80% chat completions of 200–4,000 tokens, 20% image generations, each by a user drawn by
 * weight. `random` is injected so that a test can fix it.
 */
export function demoEvents({
  alias,
  users,
  count,
  from,
  to,
  runId,
  random = Math.random,
}: {
  alias: string;
  users: DemoUser[];
  count: number;
  from: Date;
  to: Date;
  runId: string;
  random?: () => number;
}): DemoEvent[] {
  const cumulative: number[] = [];
  let total = 0;
  for (const user of users) cumulative.push((total += user.weight));
  const pick = () => {
    const target = random() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return users[low]!;
  };
  const span = Math.max(1, to.getTime() - from.getTime());
  return Array.from({ length: count }, (_, index): DemoEvent => {
    const user = pick();
    const isChat = random() < CHAT_SHARE;
    return {
      transaction_id: `demo-${runId}-${index}`,
      customer_id: alias,
      event_type: isChat ? CHAT_EVENT : IMAGE_EVENT,
      timestamp: new Date(from.getTime() + Math.floor(random() * span)).toISOString(),
      properties: {
        user_id: user.id,
        team: user.team,
        ...(isChat ? { model: random() < 0.7 ? 'small' : 'large', tokens: CHAT_TOKENS.min + Math.floor(random() * CHAT_TOKENS.span) } : { size: '1024x1024' }),
      },
    };
  });
}

/** What one event costs on average in AI credits, at `DEMO_USAGE`'s prices: 0.8 × 2,099.5 × 0.00005 + 0.2 × 0.25 = 0.134. */
export function expectedCreditsPerEvent(): number {
  const [chat, image] = DEMO_USAGE.map((product) => Number(product.creditsPerUnit)) as [number, number];
  const meanTokens = CHAT_TOKENS.min + (CHAT_TOKENS.span - 1) / 2;
  return CHAT_SHARE * meanTokens * chat + (1 - CHAT_SHARE) * image;
}

/** How many of the heaviest users the "Heavy user" alert is meant to catch. */
const HEAVY_USERS = 3;

/**
 * The "Heavy user" spend alert's threshold in AI credits for `events` events by `users`: between
 * the expected spend of the 3rd and the 4th heaviest user (their geometric mean, to 2 significant
 * digits), so that about the top three cross it and the rest do not. Each user's expected spend
 * is their share of the weights × `events` × 0.134 credits. With the defaults (100 users, 20,000
 * events: 2,680 credits in all) the heaviest expect about 329, 189, 137, 109 and 91 credits, so
 * the threshold is 120: the 3rd (137) crosses it and the 4th (109) does not, each by 2.5 to 3.5
 * standard deviations of what ~1,000 and ~800 events of random size add up to. With `--events 2000` it is 12.
 */
export function heavyUserThreshold(users: DemoUser[], events: number): number {
  const total = users.reduce((sum, user) => sum + user.weight, 0);
  const expected = users.map((user) => (events * expectedCreditsPerEvent() * user.weight) / total).sort((a, b) => b - a);
  const last = expected[Math.min(HEAVY_USERS, expected.length) - 1] ?? 0;
  const next = expected[HEAVY_USERS] ?? last / 2;
  const between = Math.sqrt(last * next);
  return between > 0.01 ? Number(between.toPrecision(2)) : 0.01;
}

/** "Acme AI" → "acme-ai": the ingest alias and mail domain of a company. */
export function slugOf(company: string): string {
  return company
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'company';
}
