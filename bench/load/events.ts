/** What the generator draws events from: the customers' aliases (and ids, for the raw baseline) and the open period. */
export interface EventSpace {
  tenantId: string;
  customers: Array<{ id: string; alias: string }>;
  usersPerCustomer: number;
  teams: number;
  eventType: string;
  /** Timestamps fall between the period start and the clock's now when the event is made, … */
  periodStartMs: number;
  /** … or, when set, only in the last `recentMs` of it (a live stream rather than a backfill). */
  recentMs?: number | undefined;
  /** Makes transaction ids unique across processes and runs. */
  transactionPrefix: string;
}

/** Arrays, one per column of `events`, for the raw `INSERT … SELECT * FROM unnest(…)` baseline. */
export interface RawBatch {
  tenantIds: string[];
  transactionIds: string[];
  customerRefs: string[];
  customerIds: string[];
  eventTypes: string[];
  timestamps: string[];
  properties: string[];
  receivedAt: string[];
}

interface DrawnEvent {
  transactionId: string;
  customer: number;
  timestamp: string;
  user: number;
  team: number;
  tokens: number;
}

const randomInt = (below: number) => Math.floor(Math.random() * below);

/**
 * Random usage events: a random customer, one of its users (user `u` is in team `u mod teams`),
 * 1–2,000 tokens, a timestamp in the open period up to now, and a unique transaction id. Both
 * bench metrics match every event (tokens SUM, requests COUNT), each grouped by user and team.
 */
export class EventFactory {
  #sequence = 0;

  constructor(readonly space: EventSpace) {}

  #earliest(now: number): number {
    const { periodStartMs, recentMs } = this.space;
    return recentMs === undefined ? periodStartMs : Math.max(periodStartMs, now - recentMs);
  }

  #draw(now: number): DrawnEvent {
    const user = randomInt(this.space.usersPerCustomer);
    return {
      transactionId: `${this.space.transactionPrefix}-${this.#sequence++}`,
      customer: randomInt(this.space.customers.length),
      timestamp: new Date(this.#earliest(now) + randomInt(Math.max(1, now - this.#earliest(now)))).toISOString(),
      user,
      team: user % this.space.teams,
      tokens: 1 + randomInt(2000),
    };
  }

  #properties(event: DrawnEvent): string {
    return `{"user_id":"user-${event.user}","team":"team-${event.team}","tokens":${event.tokens}}`;
  }

  /** A `POST /v1/ingest` body of `size` events, as JSON text; customers are named by ingest alias. */
  ingestBody(size: number): string {
    const now = Date.now();
    const parts = new Array<string>(size);
    for (let i = 0; i < size; i++) {
      const event = this.#draw(now);
      parts[i] =
        `{"transaction_id":"${event.transactionId}","customer_id":"${this.space.customers[event.customer]!.alias}",` +
        `"event_type":"${this.space.eventType}","timestamp":"${event.timestamp}","properties":${this.#properties(event)}}`;
    }
    return `[${parts.join(',')}]`;
  }

  /** The same kind of events as columns of `events`, customers already resolved, for the baseline. */
  rawBatch(size: number): RawBatch {
    const now = Date.now();
    const receivedAt = new Date(now).toISOString();
    const batch: RawBatch = { tenantIds: [], transactionIds: [], customerRefs: [], customerIds: [], eventTypes: [], timestamps: [], properties: [], receivedAt: [] };
    for (let i = 0; i < size; i++) {
      const event = this.#draw(now);
      const customer = this.space.customers[event.customer]!;
      batch.tenantIds.push(this.space.tenantId);
      batch.transactionIds.push(event.transactionId);
      batch.customerRefs.push(customer.alias);
      batch.customerIds.push(customer.id);
      batch.eventTypes.push(this.space.eventType);
      batch.timestamps.push(event.timestamp);
      batch.properties.push(this.#properties(event));
      batch.receivedAt.push(receivedAt);
    }
    return batch;
  }
}
