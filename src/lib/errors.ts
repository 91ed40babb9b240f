/**
 * The typed errors a service may throw. `http/errors.ts` maps them to HTTP in one place; every
 * message names what was wrong so that a client can fix its request without reading the source.
 * Expected outcomes (an insufficient balance, say) are values, not errors.
 */
export abstract class AppError extends Error {
  abstract readonly status: number;
}

/** Bad input: `field` is the path of the offending value in the request, e.g. `ingest_aliases.1`. */
export class Invalid extends AppError {
  readonly status = 400;
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
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
