import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';

/** How often the pump looks whether its fetch has gone silent. */
const WATCH_INTERVAL_MS = 500;

/**
 * One consumer's fetches, back to back, into a buffer: each message is there as soon as it is
 * delivered, whatever its fetch is still waiting for, and a fold takes what has come.
 *
 * A fetch that hears nothing for `silenceMs` — no message and no heartbeat, which the server sends
 * while it waits — is ended as failed. The client's own heartbeat check does not cover every case:
 * it pauses while disconnected, and after a reconnection it may retry for tens of seconds (its
 * backoff follows the fetch's length) against a consumer whose node has died.
 */
export class Pump {
  readonly #buffer: JsMsg[] = [];
  #waiter: (() => void) | undefined;
  #current: ConsumerMessages | undefined;
  #failure: unknown;
  #ended = false;
  #stopping = false;
  #heardAt = Date.now();
  readonly #done: Promise<void>;

  constructor(fetch: () => Promise<ConsumerMessages>, { stopped, silenceMs }: { stopped: () => boolean; silenceMs: number }) {
    let lookedAt = Date.now();
    const watch = setInterval(() => {
      const now = Date.now();
      // This process was busy elsewhere (a long computation): heartbeats may be waiting unread in
      // the socket, so the silence is not the fetch's. Look again after a full window.
      if (now - lookedAt > 2 * WATCH_INTERVAL_MS) this.#heardAt = now;
      lookedAt = now;
      if (this.#current && now - this.#heardAt > silenceMs) {
        this.#current.stop(new Error(`the fetch heard nothing (no message, no heartbeat) for ${silenceMs} ms`));
      }
    }, WATCH_INTERVAL_MS);
    watch.unref();
    this.#done = this.#run(fetch, stopped).finally(() => clearInterval(watch));
  }

  async #run(fetch: () => Promise<ConsumerMessages>, stopped: () => boolean): Promise<void> {
    try {
      while (!this.#stopping && !stopped()) {
        const messages = await fetch();
        // Stopped while the fetch was being made: end it at once rather than wait out its length.
        if (this.#stopping) {
          messages.stop();
          break;
        }
        this.#heardAt = Date.now();
        this.#current = messages;
        void this.#listen(messages);
        for await (const message of messages) {
          this.#heardAt = Date.now();
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

  /** Heartbeats of a fetch: it is alive while they come (the iterator ends when the fetch does). */
  async #listen(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'heartbeat' && this.#current === messages) this.#heardAt = Date.now();
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
    if (this.#buffer.length === 0 && !this.#ended) await new Promise<void>((resolve) => (this.#waiter = resolve));
    if (this.#buffer.length === 0 && this.#ended) throw this.#failure ?? new Error('the consumer’s fetches ended');
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
