/**
 * The typed errors a service may throw. `http/errors.ts` maps them to HTTP in one place; every
 * message names what was wrong so that a client can fix its request without reading the source.
 * Expected outcomes (an insufficient balance, say) are values, not errors.
 */
export abstract class AppError extends Error {
  abstract readonly status: number;
}

/** One offending value of a request: its path (`3.properties.tokens`) and what is wrong with it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Bad input: `field` is the path of the offending value in the request, e.g. `ingest_aliases.1`.
 * `Invalid.all` names several at once, so that a client fixes every one in one go.
 */
export class Invalid extends AppError {
  readonly status = 400;
  /** Every offending value: `field` first. */
  readonly problems: readonly FieldProblem[];
  constructor(
    readonly field: string,
    problem: string,
    others: readonly FieldProblem[] = [],
  ) {
    super([{ field, message: problem }, ...others].map((each) => `${each.field}: ${each.message}`).join('; '));
    this.problems = [{ field, message: problem }, ...others];
  }

  static all([first, ...others]: readonly [FieldProblem, ...FieldProblem[]]): Invalid {
    return new Invalid(first.field, first.message, others);
  }
}

/**
 * Collects what is wrong with a request, so that one 400 names every offending field rather than
 * the first: `check` each independent rule, then `throwIfAny`. A check that only makes sense once
 * another passed (a product's type, once the product exists) is skipped on its result:
 *
 *     if (problems.check(product !== undefined, 'rates.0.product_id', 'no product …')) {
 *       problems.check(product.type === 'USAGE', 'rates.0.product_id', 'must be a USAGE product');
 *     }
 *     problems.check(price >= 0, 'rates.1.price', 'must be at least 0');
 *     problems.throwIfAny(); // "rates.0.product_id: no product …; rates.1.price: must be at least 0"
 */
export class Problems {
  private readonly found: FieldProblem[] = [];

  add(field: string, message: string): void {
    this.found.push({ field, message });
  }

  addAll(problems: Iterable<FieldProblem>): void {
    for (const problem of problems) this.found.push(problem);
  }

  /** Records the problem unless `ok`; returns `ok`, so that checks depending on it can be skipped. */
  check(ok: boolean, field: string, message: string | (() => string)): boolean {
    if (!ok) this.add(field, typeof message === 'string' ? message : message());
    return ok;
  }

  /** Whether a problem was found at all, or, given `field`, at that field or inside it (`rates.3` covers `rates.3.price`). */
  has(field?: string): boolean {
    if (field === undefined) return this.found.length > 0;
    return this.found.some((problem) => problem.field === field || problem.field.startsWith(`${field}.`));
  }

  get list(): readonly FieldProblem[] {
    return this.found;
  }

  /** Throws every problem found, in the order found, as one `Invalid`. */
  throwIfAny(): void {
    const [first, ...others] = this.found;
    if (first) throw Invalid.all([first, ...others]);
  }
}

export class NotFound extends AppError {
  readonly status = 404;
}

/**
 * A request that contradicts the current state. Most conflicts stay conflicts however often the
 * request is sent (`retryable: false`, the default); the HTTP layer then tells SDK clients not to
 * retry, since they retry every 409 otherwise.
 */
export class Conflict extends AppError {
  readonly status = 409;
  readonly retryable: boolean;
  constructor(message: string, { retryable = false }: { retryable?: boolean } = {}) {
    super(message);
    this.retryable = retryable;
  }
}

/**
 * The answer cannot be given correctly now, but may be shortly: a read that waited its bound for the
 * usage log's writers (never a stale balance instead). Answered 503 with `Retry-After`.
 */
export class Unavailable extends AppError {
  readonly status = 503;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class Unauthorized extends AppError {
  readonly status = 401;
}

/**
 * An answer that the wire cannot carry: an amount beyond what a JSON number holds (about
 * 1.8 × 10^308). Ingest bounds every number usage counts, so usage and the money computed from it
 * stay far below that; this is the clear answer, rather than a 500 or a null, should one get there.
 */
export class Unrepresentable extends AppError {
  readonly status = 422;
}
