import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait.js';

/** One request as the receiver got it: the raw body, exactly as sent, and the headers (names in lower case). */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The status the receiver answered, or null while it hangs (or when it never answered). */
  status: number | null;
}

/** How the receiver answers one request: with a status, or by hanging until `release()` (or the client gives up). */
export type Answer = number | 'hang';

export interface Receiver {
  /** The URL to register as a webhook endpoint (any path under it is accepted). */
  url: string;
  /** Every request so far, in arrival order. */
  requests: ReceivedRequest[];
  /** Queues answers for the next requests, in order; once the queue is empty, requests get `fallback` (200 unless set). */
  answer(...answers: Answer[]): void;
  /** The answer once the queue is empty. */
  setFallback(answer: Answer): void;
  /** Answers every hanging request with `status`. */
  release(status?: number): void;
  /** The most requests that were hanging at one time (the sender's concurrency towards this receiver). */
  readonly peakHanging: number;
  /** Resolves once at least `count` requests have arrived. */
  waitForRequests(count: number, options?: { timeoutMs?: number }): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** A local HTTP server that records what webhooks it gets and answers as told. */
export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const queue: Answer[] = [];
  let fallback: Answer = 200;
  const hanging = new Set<{ response: ServerResponse; received: ReceivedRequest }>();
  let peakHanging = 0;

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]));
      const received: ReceivedRequest = { method: request.method ?? '', path: request.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8'), status: null };
      requests.push(received);
      const answer = queue.length > 0 ? queue.shift()! : fallback;
      if (answer === 'hang') {
        const held = { response, received };
        hanging.add(held);
        peakHanging = Math.max(peakHanging, hanging.size);
        response.on('close', () => hanging.delete(held));
        return;
      }
      received.status = answer;
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(`answered ${answer}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks`,
    requests,
    answer(...answers) {
      queue.push(...answers);
    },
    setFallback(answer) {
      fallback = answer;
    },
    get peakHanging() {
      return peakHanging;
    },
    release(status = 200) {
      for (const held of [...hanging]) {
        hanging.delete(held);
        held.received.status = status;
        held.response.writeHead(status).end();
      }
    },
    async waitForRequests(count, { timeoutMs = 10_000 } = {}) {
      await waitFor(async () => requests.length >= count, { timeoutMs, what: `${count} webhook requests` });
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
