import http from 'node:http';

export interface PageResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** From sending the request to the response's status line and headers. */
  firstByteMs: number;
  /** From sending the request to the last byte of the body. */
  totalMs: number;
}

/**
 * A browser-less client for the dashboard's pages: one keep-alive connection and the cookies the
 * server sets (name → value; paths and expiry are not needed for the few pages the bench reads).
 * It sends no API key: the pages are reached with the session cookie, as a browser does.
 */
export class PageClient {
  readonly cookies = new Map<string, string>();
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  readonly #host: string;
  readonly #port: number;

  constructor(readonly baseUrl: string) {
    const url = new URL(baseUrl);
    this.#host = url.hostname;
    this.#port = Number(url.port || 80);
  }

  get(path: string): Promise<PageResponse> {
    return this.#request('GET', path);
  }

  /** POSTs an HTML form (`application/x-www-form-urlencoded`). */
  postForm(path: string, fields: Record<string, string>): Promise<PageResponse> {
    return this.#request('POST', path, new URLSearchParams(fields).toString());
  }

  #request(method: 'GET' | 'POST', path: string, form?: string): Promise<PageResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return new Promise((resolve, reject) => {
      const startedAt = performance.now();
      const request = http.request(
        {
          host: this.#host,
          port: this.#port,
          path,
          method,
          agent: this.#agent,
          headers: {
            accept: 'text/html',
            ...(cookie && { cookie }),
            ...(form !== undefined && { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) }),
          },
        },
        (response) => {
          const firstByteMs = performance.now() - startedAt;
          for (const line of response.headers['set-cookie'] ?? []) {
            const [pair] = line.split(';');
            const at = pair!.indexOf('=');
            if (at <= 0) continue;
            const name = pair!.slice(0, at).trim();
            const value = pair!.slice(at + 1).trim();
            // A cleared cookie comes back empty (and expired).
            if (value) this.cookies.set(name, value);
            else this.cookies.delete(name);
          }
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8'), firstByteMs, totalMs: performance.now() - startedAt }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(form);
    });
  }

  /**
   * Signs in as the operator pages expect: the sign-in page sets its form cookie and token, the
   * form is posted back with the API key, and the answer (303) sets the session cookie.
   */
  async signIn(apiKey: string): Promise<string> {
    const page = await this.get('/ui/sign-in');
    const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1];
    if (page.status !== 200 || !token) throw new Error(`GET /ui/sign-in answered ${page.status} without a sign-in token`);
    const answer = await this.postForm('/ui/sign-in', { token, api_key: apiKey });
    const session = this.cookies.get('allot_session');
    if (answer.status !== 303 || !session) throw new Error(`POST /ui/sign-in answered ${answer.status}${session ? '' : ' without a session cookie'}: ${answer.body.slice(0, 300)}`);
    return session;
  }

  close(): void {
    this.#agent.destroy();
  }
}
