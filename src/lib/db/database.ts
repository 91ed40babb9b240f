/**
 * One database interface over two engines: the PostgreSQL server (`pg`) and embedded PGlite.
 * Repos write plain PostgreSQL and take a `Queryable` (usually the transaction) as an explicit
 * argument; both engines run the same SQL and return rows with the same JS types:
 * `numeric` and `int8` as strings (never a JS number), `timestamptz` as `Date`, `jsonb` as
 * objects, arrays as arrays.
 */
export interface Queryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<Row[]>;
}

export interface QueryOptions {
  /**
   * A name under which PostgreSQL keeps the statement parsed (and, once it settles on one, planned)
   * on each connection, for statements on the hot path: the same name must always mean the same
   * text. PGlite ignores it.
   */
  prepare?: string | undefined;
}

export interface Transaction extends Queryable {
  /** Runs a script of several statements without parameters (migrations). */
  execScript(script: string): Promise<void>;
}

export type Engine = 'postgres' | 'pglite';

export interface Database extends Queryable {
  readonly engine: Engine;
  /** True for a `Database` that is a transaction its caller owns (`databaseWithin`): what it reads may not be committed. */
  readonly transactional?: boolean;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL only: LISTENs on `channels` over a connection of its own and calls `onNotification`
   * with each payload, in commit order. `onConnection` is called each time the connection is
   * (re)established with LISTEN in place, and `onLost` when it drops (notifications may have been
   * missed until the next `onConnection`).
   */
  listen?(listener: NotificationListener): Promise<Listening>;
  close(): Promise<void>;
}

/** A LISTEN connection in place (`Database.listen`). */
export interface Listening {
  /**
   * Sends a notification from the listening connection itself. Its backend delivers it, and
   * every notification committed before it, on that connection, before the statement returns:
   * one round trip and one backend, where a notification sent from another connection wakes the
   * listening backend as well. Rejects while the connection is down.
   */
  notify(channel: string, payload: string): Promise<void>;
  stop(): Promise<void>;
}

export interface NotificationListener {
  channels: readonly string[];
  onNotification(channel: string, payload: string): void;
  onConnection(): void;
  onLost(error: unknown): void;
}

/** The SQLSTATE of a unique-constraint violation, and a way to tell it apart from other errors. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code } = error as { code?: unknown };
  if (code !== '23505') return false;
  return constraint === undefined || (error as { constraint?: unknown }).constraint === constraint;
}

const UNAVAILABLE_NODE_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True when `error` says the database could not be reached or dropped the connection (SQLSTATE
 * class 08, an administrator or crash shutdown, a refused or reset socket), as opposed to a
 * query that the database refused.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code) || UNAVAILABLE_NODE_ERRORS.has(code))) {
    return true;
  }
  return typeof message === 'string' && /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

/** A transaction opened now and ended later by an explicit commit or rollback (for work that spans hooks). */
export interface OpenTransaction {
  tx: Transaction;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

const ROLLED_BACK = Symbol('rolled back');

/**
 * Opens a transaction on `db` that stays open until `commit()` or `rollback()` is called. It is
 * built on `db.transaction`, so both engines get it without engine-specific code.
 */
export function beginTransaction(db: Database): Promise<OpenTransaction> {
  return new Promise((opened, failedToOpen) => {
    let end!: (outcome: 'commit' | typeof ROLLED_BACK) => void;
    let isOpen = false;
    const finished = db.transaction(async (tx) => {
      const outcome = new Promise<'commit' | typeof ROLLED_BACK>((resolve) => (end = resolve));
      isOpen = true;
      opened({
        tx,
        async commit() {
          end('commit');
          await finished;
        },
        async rollback() {
          end(ROLLED_BACK);
          await finished.catch((error: unknown) => {
            if (error !== ROLLED_BACK) throw error;
          });
        },
      });
      if ((await outcome) === ROLLED_BACK) throw ROLLED_BACK;
    });
    finished.catch((error: unknown) => {
      if (!isOpen) failedToOpen(error);
    });
  });
}

/**
 * The open transaction `tx` seen as a `Database`: queries run in it, and `transaction()` becomes
 * a savepoint inside it, so a service written against `Database` runs unchanged inside a
 * transaction its caller owns (the idempotent request). Closing it is the owner's business.
 */
export function databaseWithin(tx: Transaction, engine: Engine): Database {
  let savepoints = 0;
  return {
    engine,
    transactional: true,
    query: (text, params, options) => tx.query(text, params, options),
    async transaction(work) {
      const name = `nested_${++savepoints}`;
      await tx.query(`SAVEPOINT ${name}`);
      try {
        const result = await work(tx);
        await tx.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (error) {
        await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw error;
      }
    },
    async close() {},
  };
}
