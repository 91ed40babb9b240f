/** What the demo (and the benchmark's setup) needs from an Allot server: JSON over HTTP with a key. */
export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
}

/** An answer other than 2xx, with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    readonly body: string,
  ) {
    super(`${path} answered ${status}: ${ApiError.messageOf(body)}`);
  }

  static messageOf(body: string): string {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // not JSON: quote it as it came
    }
    return body.slice(0, 300);
  }
}

/**
 * An `Api` over `fetch`. The demo uses plain HTTP rather than the Metronome SDK so that it runs
 * where only Allot's runtime dependencies are installed.
 */
export function httpApi(baseUrl: string, key: string): Api {
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(new URL(path, baseUrl), {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new Error(`Cannot reach Allot at ${baseUrl} (${cause}). Is the server running (npm start)?`);
    }
    const text = await response.text();
    if (!response.ok) throw new ApiError(response.status, path, text);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
  };
}
