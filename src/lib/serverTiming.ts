import { performance } from 'node:perf_hooks';

/**
 * Where one request's time went, stage by stage, for the `Server-Timing` response header
 * (`ALLOT_SERVER_TIMING=true`): the account engine records its stages (`fence`, `barrier`,
 * `terms`, `usage`, `compute`) on the request's context, and the HTTP layer adds `app`, from the
 * request's arrival to its answer. A stage recorded twice (a read computed again once its barrier
 * came back) adds up.
 */
export class ServerTiming {
  readonly #stages = new Map<string, number>();
  /** When the request arrived (the timing is made then). */
  readonly #started = performance.now();

  /** The time since the request arrived, in ms. */
  elapsed(): number {
    return performance.now() - this.#started;
  }

  /** Adds `ms` to `stage`. */
  add(stage: string, ms: number): void {
    this.#stages.set(stage, (this.#stages.get(stage) ?? 0) + ms);
  }

  /** Times `work` as `stage` (from now until it settles). */
  async time<T>(stage: string, work: Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work;
    } finally {
      this.add(stage, performance.now() - started);
    }
  }

  /** The header's value: `stage;dur=<ms>` in the order first recorded, ms to 2 decimals. */
  header(): string {
    return [...this.#stages].map(([stage, ms]) => `${stage};dur=${ms.toFixed(2)}`).join(', ');
  }
}
