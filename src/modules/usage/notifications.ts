import type { Database } from '../../lib/db/database.js';

type Listener<Payload> = (payload: Payload) => void;

/**
 * A minimal typed event emitter. Listeners run synchronously, in subscription order, after the
 * commit they describe; an exception in one is reported as a process warning and never reaches
 * the ingest call or the other listeners.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Subscribes `listener`; returns the function that unsubscribes it. */
  on<Name extends keyof Events>(name: Name, listener: Listener<Events[Name]>): () => void {
    let listeners = this.#listeners.get(name);
    if (!listeners) this.#listeners.set(name, (listeners = new Set()));
    listeners.add(listener as Listener<never>);
    return () => listeners.delete(listener as Listener<never>);
  }

  emit<Name extends keyof Events>(name: Name, payload: Events[Name]): void {
    const listeners = this.#listeners.get(name);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        (listener as Listener<Events[Name]>)(payload);
      } catch (error) {
        process.emitWarning(error instanceof Error ? error : new Error(String(error)), { code: 'ALLOT_USAGE_LISTENER' });
      }
    }
  }
}

/** New usage of a tenant is committed: `customerIds` are the customers with new events (no unknown ones), each once. */
export interface UsageCommitted {
  tenantId: string;
  customerIds: readonly string[];
}

/** One ingest transaction committed: how many requests and events it held, and what became of the events. */
export interface IngestBatchCommitted {
  requests: number;
  /** Events received (after validation), duplicates included. */
  events: number;
  /** New events stored. */
  accepted: number;
  /** Events ignored because their transaction_id was already stored or repeated within the batch. */
  duplicates: number;
  /** From the start of the transaction to the end of its commit. */
  seconds: number;
}

export interface IngestNotifications {
  usageCommitted: UsageCommitted;
  batchCommitted: IngestBatchCommitted;
}

const emitters = new WeakMap<Database, TypedEmitter<IngestNotifications>>();

/** The emitter of the ingest commits this process makes on `db` (one per database handle). */
export function ingestNotifications(db: Database): TypedEmitter<IngestNotifications> {
  let emitter = emitters.get(db);
  if (!emitter) emitters.set(db, (emitter = new TypedEmitter<IngestNotifications>()));
  return emitter;
}
