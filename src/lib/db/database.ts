/**
 * One database interface over two engines: the PostgreSQL server (`pg`) and embedded PGlite.
 * Repos write plain PostgreSQL and take a `Queryable` (usually the transaction) as an explicit
 * argument; both engines run the same SQL and return rows with the same JS types:
 * `numeric` and `int8` as strings (never a JS number), `timestamptz` as `Date`, `jsonb` as
 * objects, arrays as arrays.
 */
export interface Queryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Transaction extends Queryable {
  /** Runs a script of several statements without parameters (migrations). */
  execScript(script: string): Promise<void>;
}

export type Engine = 'postgres' | 'pglite';

export interface Database extends Queryable {
  readonly engine: Engine;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The SQLSTATE of a unique-constraint violation, and a way to tell it apart from other errors. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code } = error as { code?: unknown };
  if (code !== '23505') return false;
  return constraint === undefined || (error as { constraint?: unknown }).constraint === constraint;
}
