/**
 * Background work per customer: a customer queued again while it waits is worked on once (its
 * jobs merged), never twice at a time in this process, and at most `concurrency` customers at once.
 * The alert evaluator and the threshold watcher each keep one.
 */
export class CustomerQueue<Job extends { tenantId: string; customerId: string }> {
  readonly #pending = new Map<string, { job: Job; done: (() => void)[] }>();
  readonly #running = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(
    private readonly options: {
      concurrency: number;
      run: (job: Job) => Promise<void>;
      onError: (error: unknown) => void;
      /** Folds a new job into one still waiting for the same customer; without it the waiting one stands. */
      merge?: (waiting: Job, added: Job) => void;
    },
  ) {}

  /**
   * Queues `job` (ids in any spelling: the customer is one key however the request spelled it);
   * resolves once a run that covers it has ended, or at once when stopped.
   */
  enqueue(job: Job): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const key = `${job.tenantId.toLowerCase()} ${job.customerId.toLowerCase()}`;
    let entry = this.#pending.get(key);
    if (!entry) this.#pending.set(key, (entry = { job, done: [] }));
    else this.options.merge?.(entry.job, job);
    const queued = entry;
    const finished = new Promise<void>((resolve) => queued.done.push(resolve));
    this.#pump();
    return finished;
  }

  /** Stops taking work; resolves once the runs under way have ended (waiting jobs are dropped, their callers released). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const { done } of this.#pending.values()) for (const resolve of done) resolve();
    this.#pending.clear();
    await Promise.allSettled([...this.#running.values()]);
  }

  #pump(): void {
    if (this.#stopped) return;
    for (const [key, { job, done }] of this.#pending) {
      if (this.#running.size >= this.options.concurrency) return;
      if (this.#running.has(key)) continue;
      this.#pending.delete(key);
      const run = this.options
        .run(job)
        .catch(this.options.onError)
        .finally(() => {
          this.#running.delete(key);
          for (const resolve of done) resolve();
          this.#pump();
        });
      this.#running.set(key, run);
    }
  }
}
