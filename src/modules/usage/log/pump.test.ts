import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { Pump } from './pump.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (seq: number) => ({ seq }) as unknown as JsMsg;

/** A fetch that delivers `messages`, then waits until stopped; with `heartbeatMs`, a heartbeat status that often meanwhile. */
function fakeFetch(messages: JsMsg[], heartbeatMs?: number): ConsumerMessages {
  let end!: (error: Error | undefined) => void;
  const ended = new Promise<Error | undefined>((resolve) => (end = resolve));
  let stopped = false;
  return {
    async *[Symbol.asyncIterator]() {
      yield* messages;
      const error = await ended;
      if (error) throw error;
    },
    stop(error?: Error) {
      stopped = true;
      end(error);
    },
    status: () => ({
      async *[Symbol.asyncIterator]() {
        while (heartbeatMs !== undefined && !stopped) {
          await sleep(heartbeatMs);
          yield { type: 'heartbeat', lastConsumerSequence: 0, lastStreamSequence: 0 };
        }
      },
    }),
  } as unknown as ConsumerMessages;
}

describe('Pump', () => {
  it('hands over what a fetch delivers, then ends a fetch that hears nothing for the silence allowed', async () => {
    const pump = new Pump(async () => fakeFetch([message(1), message(2)]), { stopped: () => false, silenceMs: 300 });
    // What has come when the taker wakes: one message or both, in delivery order.
    const seqs: number[] = [];
    while (seqs.length < 2) seqs.push(...(await pump.take(10)).map((m) => m.seq));
    expect(seqs).toEqual([1, 2]);
    const started = Date.now();
    await expect(pump.take(10)).rejects.toThrow(/heard nothing/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await pump.stop();
  });

  it('keeps a fetch that hears heartbeats, and stops it at once when asked', async () => {
    let fetches = 0;
    const pump = new Pump(
      async () => {
        fetches++;
        return fakeFetch([], 100);
      },
      { stopped: () => false, silenceMs: 300 },
    );
    const taken = pump.take(10);
    let settled = false;
    void taken.then(() => (settled = true));
    await sleep(1_000);
    expect(settled).toBe(false);
    expect(fetches).toBe(1);
    const stopping = Date.now();
    await pump.stop();
    expect(Date.now() - stopping).toBeLessThan(500);
    expect(await taken).toEqual([]);
  });
});
