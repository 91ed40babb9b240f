import { randomUUID } from 'node:crypto';
import type { Database, Engine, Queryable } from './db/database.js';
import { HOUR_MS } from './time.js';

/**
 * Changes that move what a customer holds or owes, announced across processes on one PostgreSQL
 * through NOTIFY on `allot_changes`, sent in the transaction that makes the change, so that it is
 * delivered when the change commits and never without it. PostgreSQL delivers notifications in commit
 * order, so a process that LISTENs and then sees its own barrier notification (`barrier()`) has
 * seen every change committed before the barrier was sent: a read that waits for a barrier sent
 * after it began reflects every write acknowledged before that. The barrier is sent from the
 * listening connection itself, whose backend delivers it after every notification committed
 * before it. PGlite runs in one process, where
 * in-process signals suffice: nothing is sent there.
 */

export type Change =
  /** Contracts, seats, grants, manual entries or recorded deductions of these customers changed. */
  | { kind: 'account'; tenantId: string; customerIds: readonly string[] }
  /** New usage of these customers was committed; `since`, per customer, the hour its rollups changed from (when known). */
  | { kind: 'usage'; tenantId: string; customerIds: readonly string[]; since?: ReadonlyMap<string, Date> | undefined }
  /** The tenant's catalog changed (rates, products, billable metrics, pricing units): any of its customers. */
  | { kind: 'catalog'; tenantId: string };

export const CHANGES_CHANNEL = 'allot_changes';
/** NOTIFY payloads must stay under 8,000 bytes. */
const MAX_PAYLOAD_BYTES = 7_000;
const KIND_CODES = { account: 'a', usage: 'u', catalog: 'c' } as const;
const KINDS = { a: 'account', u: 'usage', c: 'catalog' } as const;

/**
 * The payloads announcing `change`: `origin|kind|tenant|customer,customer,…` (a usage change's
 * customer as `customer@hour`, hours since 1970), split so each fits. `origin` names who made the
 * change, so that a process can skip what it has already applied itself.
 */
export function encodeChange(change: Change, origin = ''): string[] {
  const head = `${origin}|${KIND_CODES[change.kind]}|${change.tenantId}|`;
  if (change.kind === 'catalog') return [head];
  const payloads: string[] = [];
  let ids: string[] = [];
  let length = head.length;
  const since = change.kind === 'usage' ? change.since : undefined;
  for (const customerId of change.customerIds) {
    const hour = since?.get(customerId);
    const id = hour ? `${customerId}@${hour.getTime() / HOUR_MS}` : customerId;
    if (ids.length > 0 && length + id.length + 1 > MAX_PAYLOAD_BYTES) {
      payloads.push(head + ids.join(','));
      ids = [];
      length = head.length;
    }
    ids.push(id);
    length += id.length + 1;
  }
  if (ids.length > 0) payloads.push(head + ids.join(','));
  return payloads;
}

export function decodeChange(payload: string): (Change & { origin?: string }) | undefined {
  const [origin, code, tenantId, customers] = payload.split('|');
  const kind = KINDS[code as keyof typeof KINDS];
  if (!kind || !tenantId) return undefined;
  const from = origin ? { origin } : {};
  if (kind === 'catalog') return { kind, tenantId, ...from };
  const customerIds: string[] = [];
  const since = new Map<string, Date>();
  for (const entry of customers ? customers.split(',') : []) {
    const [customerId, hour] = entry.split('@');
    customerIds.push(customerId!);
    if (hour !== undefined && /^\d+$/.test(hour)) since.set(customerId!, new Date(Number(hour) * HOUR_MS));
  }
  return kind === 'usage' ? { kind, tenantId, customerIds, since, ...from } : { kind, tenantId, customerIds, ...from };
}

/**
 * Announces `changes` to other processes: in `db`'s transaction when it is one (delivered when it
 * commits, never when it rolls back), else at once. Nothing on PGlite. `origin`: who makes them
 * (a follower with the same origin skips them).
 */
export async function publishChanges(db: Queryable, engine: Engine, changes: readonly Change[], origin?: string): Promise<void> {
  if (engine !== 'postgres') return;
  const payloads = changes.flatMap((change) => encodeChange(change, origin));
  if (payloads.length === 0) return;
  await db.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [CHANGES_CHANNEL, payloads], { prepare: 'allot_publish_changes' });
}

export interface ChangeFeed {
  /**
   * Resolves true once every change committed before this call has been handed to `onChange`;
   * false when that cannot be known now (the LISTEN connection is down or slow): the caller reads
   * from the database instead of anything it kept.
   */
  barrier(): Promise<boolean>;
  /**
   * A barrier the caller sends itself, in a statement of its own that also reads something:
   * `SELECT pg_notify(channel, payload), …`. Its notification goes when that statement commits,
   * after its snapshot, so once `seen` is true every change committed before the statement's
   * snapshot has been handed to `onChange`: what the statement read and what is kept agree. Only
   * this barrier's own notification resolves it (another barrier may have committed before the
   * statement began). Undefined while the LISTEN connection is down.
   */
  ownBarrier(): OwnBarrier | undefined;
  stop(): Promise<void>;
}

export interface OwnBarrier {
  channel: string;
  payload: string;
  /** True once the notification is through; false if it does not come within the barrier timeout. */
  seen: Promise<boolean>;
}

/** How long a barrier may take before the caller stops waiting for it. */
const BARRIER_TIMEOUT_MS = 1_000;

/**
 * Follows the changes other processes announce on `db` (PostgreSQL): `onChange` for each, and
 * `onGap` whenever some may have been missed (the LISTEN connection dropped), after which nothing
 * kept can be trusted. Undefined on an engine without LISTEN (PGlite).
 */
export async function followChanges(
  db: Database,
  { origin, onChange, onGap }: { origin?: string | undefined; onChange: (change: Change) => void; onGap: () => void },
): Promise<ChangeFeed | undefined> {
  if (!db.listen) return undefined;
  const barrierChannel = `allot_barrier_${randomUUID().replaceAll('-', '')}`;
  let connected = false;
  let sent = 0;
  const waiting = new Map<number, (seen: boolean) => void>();
  // Barriers callers send in statements of their own, by payload: each resolved by its own notification only.
  let ownSent = 0;
  const ownWaiting = new Map<string, (seen: boolean) => void>();
  const failAll = () => {
    for (const resolve of [...waiting.values(), ...ownWaiting.values()]) resolve(false);
    waiting.clear();
    ownWaiting.clear();
  };
  const listening = await db.listen({
    channels: [CHANGES_CHANNEL, barrierChannel],
    onNotification(channel, payload) {
      if (channel === barrierChannel && payload.startsWith('s')) {
        ownWaiting.get(payload)?.(true);
        ownWaiting.delete(payload);
        return;
      }
      if (channel === barrierChannel) {
        // Barriers arrive in the order sent: this one and every earlier one are through.
        const seen = Number(payload);
        for (const [number, resolve] of waiting) {
          if (number > seen) continue;
          resolve(true);
          waiting.delete(number);
        }
        return;
      }
      const change = decodeChange(payload);
      // What this origin changed it has applied already, when it committed.
      if (!change || (origin && change.origin === origin)) return;
      const { origin: _from, ...announced } = change;
      onChange(announced);
    },
    onConnection() {
      connected = true;
      // Whatever was committed while no connection listened is unknown.
      onGap();
    },
    onLost() {
      connected = false;
      onGap();
      failAll();
    },
  });

  // One barrier in flight at a time; reads that begin meanwhile share the next one, which is sent after they began.
  let inFlight: Promise<boolean> | undefined;
  let next: Promise<boolean> | undefined;
  const send = (): Promise<boolean> => {
    if (!connected) return Promise.resolve(false);
    const number = ++sent;
    const seen = new Promise<boolean>((resolve) => {
      waiting.set(number, resolve);
      const timer = setTimeout(() => {
        if (waiting.delete(number)) resolve(false);
      }, BARRIER_TIMEOUT_MS);
      timer.unref();
    });
    // From the listening connection itself: its backend hands over every notification committed
    // before this one, then this one, without waking a second backend.
    listening.notify(barrierChannel, String(number)).catch(() => {
      waiting.get(number)?.(false);
      waiting.delete(number);
    });
    return seen;
  };
  return {
    barrier() {
      if (next) return next;
      if (!inFlight) {
        const current = (inFlight = send().finally(() => {
          if (inFlight === current) inFlight = undefined;
        }));
        return current;
      }
      const following = (next = inFlight.then(() => {
        next = undefined;
        const current = (inFlight = send().finally(() => {
          if (inFlight === current) inFlight = undefined;
        }));
        return current;
      }));
      return following;
    },
    ownBarrier() {
      if (!connected) return undefined;
      const payload = `s${++ownSent}`;
      const seen = new Promise<boolean>((resolve) => {
        ownWaiting.set(payload, resolve);
        const timer = setTimeout(() => {
          if (ownWaiting.delete(payload)) resolve(false);
        }, BARRIER_TIMEOUT_MS);
        timer.unref();
      });
      return { channel: barrierChannel, payload, seen };
    },
    async stop() {
      failAll();
      await listening.stop();
    },
  };
}
