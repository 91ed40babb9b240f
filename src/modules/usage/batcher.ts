/**
 * Group commit: work submitted while earlier batches are running waits in a queue, and the next
 * batch takes all of it (up to `maxWeight`), so many concurrent callers share one transaction
 * instead of each paying for their own. Nothing waits on a timer: an idle batcher starts a batch
 * at once, so a lone call has no added latency, and batches grow only as load does.
 */
export class Batcher<Item> {
  readonly #queue: Item[] = [];
  #running = 0;

  constructor(
    private readonly options: {
      /** How many batches may run at once (each in its own transaction). */
      concurrency: number;
      /** The most weight (e.g. events) one batch takes; a single heavier item still runs alone. */
      maxWeight: number;
      weight: (item: Item) => number;
      /** Runs one batch; it must settle every item itself (a rejection is only reported as a process warning). */
      run: (items: Item[]) => Promise<void>;
    },
  ) {}

  submit(item: Item): void {
    this.#queue.push(item);
    this.#pump();
  }

  /** Items waiting for a batch (not counting those running). */
  get waiting(): number {
    return this.#queue.length;
  }

  #pump(): void {
    while (this.#running < this.options.concurrency && this.#queue.length > 0) {
      let weight = 0;
      let count = 0;
      while (count < this.#queue.length) {
        const next = this.options.weight(this.#queue[count]!);
        if (count > 0 && weight + next > this.options.maxWeight) break;
        weight += next;
        count++;
      }
      const batch = this.#queue.splice(0, count);
      this.#running++;
      this.options
        .run(batch)
        .catch((error: unknown) => process.emitWarning(error instanceof Error ? error : new Error(String(error)), { code: 'ALLOT_BATCH_FAILED' }))
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
  }
}
