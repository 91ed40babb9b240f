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
