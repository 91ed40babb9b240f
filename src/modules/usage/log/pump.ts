import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';

/**
 * One consumer's fetches, back to back, into a buffer: each message is there as soon as it is
 * delivered, whatever its fetch is still waiting for, and a fold takes what has come.
 */
export class Pump {
  readonly #buffer: JsMsg[] = [];
  #waiter: (() => void) | undefined;
  #current: ConsumerMessages | undefined;
  #failure: unknown;
  #ended = false;
  #stopping = false;
  readonly #done: Promise<void>;

  constructor(fetch: () => Promise<ConsumerMessages>, stopped: () => boolean) {
    this.#done = this.#run(fetch, stopped);
  }

  async #run(fetch: () => Promise<ConsumerMessages>, stopped: () => boolean): Promise<void> {
    try {
      while (!this.#stopping && !stopped()) {
        const messages = await fetch();
        this.#current = messages;
        for await (const message of messages) {
          this.#buffer.push(message);
          this.wake();
        }
        this.#current = undefined;
      }
    } catch (error) {
      this.#failure = error;
    } finally {
      this.#ended = true;
      this.wake();
    }
  }

  /** Ends a wait in `take` (it then returns what is buffered, perhaps nothing). */
  wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  /**
   * Up to `max` messages, in delivery order, waiting for one when there are none; nothing when woken
   * without any. Once the buffer is empty and the fetches have ended, throws what ended them.
   */
  async take(max: number): Promise<JsMsg[]> {
    if (this.#buffer.length === 0) {
      if (this.#ended) throw this.#failure ?? new Error('the consumer’s fetches ended');
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
    return this.#buffer.splice(0, max);
  }

  /** Ends the fetch in progress and waits for the pump to end. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#current?.stop();
    this.wake();
    await this.#done;
  }
}
