/**
 * Background work per customer: a customer queued again while it waits is worked on once (its
 * jobs merged), never twice at a time in this process, and at most `concurrency` customers at once.
 * Jobs the `urgent` option picks (what a request just changed) start before the others (a periodic
 * sweep of every customer), in the order queued — but after `URGENT_IN_A_ROW` urgent starts a
 * waiting other job goes next, so steady ingest never holds a sweep back for good. The alert
 * evaluator and the threshold watcher each keep one.
 */
export class CustomerQueue<Job extends { tenantId: string; customerId: string }> {
  /** Waiting jobs, urgent ones first: each map in the order queued. */
  readonly #urgent = new Map<string, { job: Job; done: (() => void)[] }>();
  readonly #background = new Map<string, { job: Job; done: (() => void)[] }>();
  /** Urgent jobs started since a waiting other job last did. */
  #urgentInARow = 0;
  readonly #running = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(
    private readonly options: {
      concurrency: number;
      run: (job: Job) => Promise<void>;
      onError: (error: unknown) => void;
      /** Folds a new job into one still waiting for the same customer; without it the waiting one stands. */
      merge?: (waiting: Job, added: Job) => void;
      /** Whether a job goes ahead of those that are not (decided again when jobs merge). */
      urgent?: (job: Job) => boolean;
    },
  ) {}

  /**
   * Queues `job` (ids in any spelling: the customer is one key however the request spelled it);
   * resolves once a run that covers it has ended, or at once when stopped.
   */
  enqueue(job: Job): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const key = `${job.tenantId.toLowerCase()} ${job.customerId.toLowerCase()}`;
    let entry = this.#urgent.get(key) ?? this.#background.get(key);
    if (!entry) {
      entry = { job, done: [] };
      (this.options.urgent?.(job) ? this.#urgent : this.#background).set(key, entry);
    } else {
      this.options.merge?.(entry.job, job);
      // Merged into an urgent job, a waiting one goes ahead too.
      if (this.#background.has(key) && this.options.urgent?.(entry.job)) {
        this.#background.delete(key);
        this.#urgent.set(key, entry);
      }
    }
    const queued = entry;
    const finished = new Promise<void>((resolve) => queued.done.push(resolve));
    this.#pump();
    return finished;
  }

  /** Stops taking work; resolves once the runs under way have ended (waiting jobs are dropped, their callers released). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const waiting of [this.#urgent, this.#background]) {
      for (const { done } of waiting.values()) for (const resolve of done) resolve();
      waiting.clear();
    }
    await Promise.allSettled([...this.#running.values()]);
  }

  #pump(): void {
    if (this.#stopped) return;
    while (this.#running.size < this.options.concurrency) {
      const backgroundsTurn = this.#urgentInARow >= URGENT_IN_A_ROW;
      const started = backgroundsTurn ? this.#startOne(this.#background) || this.#startOne(this.#urgent) : this.#startOne(this.#urgent) || this.#startOne(this.#background);
      if (!started) return;
    }
  }

  /** Starts the first job of `waiting` whose customer is not running; false when there is none. */
  #startOne(waiting: Map<string, { job: Job; done: (() => void)[] }>): boolean {
    for (const [key, { job, done }] of waiting) {
      if (this.#running.has(key)) continue;
      waiting.delete(key);
      this.#urgentInARow = waiting === this.#urgent ? this.#urgentInARow + 1 : 0;
      const run = this.options
        .run(job)
        .catch(this.options.onError)
        .finally(() => {
          this.#running.delete(key);
          for (const resolve of done) resolve();
          this.#pump();
        });
      this.#running.set(key, run);
      return true;
    }
    return false;
  }
}

/** How many urgent jobs may start in a row while another job waits. */
const URGENT_IN_A_ROW = 8;
