import http from 'node:http';
import type { Api } from '../../src/demo/api.js';

export interface RawResponse {
  status: number;
  body: string;
  /** The `Server-Timing` header, when the server sends one (`ALLOT_SERVER_TIMING`). */
  serverTiming?: string | undefined;
}

/**
 * A minimal JSON client over keep-alive connections (node:http), so that what the bench times
 * is the server, not a client library: at most `connections` sockets, reused across requests.
 */
export class ApiClient {
  readonly agent: http.Agent;
  readonly #host: string;
  readonly #port: number;

  constructor(
    readonly baseUrl: string,
    readonly key: string,
    { connections = 8 }: { connections?: number } = {},
  ) {
    const url = new URL(baseUrl);
    this.#host = url.hostname;
    this.#port = Number(url.port || 80);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, scheduling: 'fifo' });
  }

  /** POSTs `body` (a JSON string, or a value to serialise) and reads the whole response. */
  post(path: string, body: unknown): Promise<RawResponse> {
    return this.request('POST', path, typeof body === 'string' ? body : JSON.stringify(body));
  }

  request(method: 'GET' | 'POST', path: string, payload?: string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: this.#host,
          port: this.#port,
          path,
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.key}`,
            ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const serverTiming = response.headers['server-timing'];
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(typeof serverTiming === 'string' && { serverTiming }) });
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }

  /** Sends and parses the JSON answer; anything but a 200 is an error that quotes the answer. */
  async json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (response.status !== 200) throw new Error(`${method} ${path} answered ${response.status}: ${response.body.slice(0, 500)}`);
    return (response.body ? JSON.parse(response.body) : undefined) as T;
  }

  /** This client as the demo's `Api`, for the setup that the bench shares with `allot demo`. */
  asApi(): Api {
    return { get: (path) => this.json('GET', path), post: (path, body) => this.json('POST', path, body) };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time; results in the order of `items`. */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}
