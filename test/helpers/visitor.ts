import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';

/** The operator pages over plain HTTP, as a browser without scripts uses them. */

/** A browser's cookie jar, reduced to what these pages set. */
export class Visitor {
  cookies = new Map<string, string>();
  constructor(private readonly baseURL: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(`${this.baseURL}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(path, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  }

  async signIn(key: string): Promise<Response> {
    const page = await (await this.request('/ui/sign-in')).text();
    const token = /name="token" value="([^"]+)"/.exec(page)![1]!;
    return this.post('/ui/sign-in', { token, api_key: key });
  }
}

export const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)![1]!;
/** A form's one-time token, as a rendered form carries a new one. */
export const once = () => randomBytes(16).toString('base64url');
export const unescape = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** What a form's post says on the page it redirects to (a notice or an error), read once: a reload no longer shows it. */
export async function outcomeOf(visitor: Visitor, response: Response): Promise<{ at: string; notice?: string; error?: string; page: string }> {
  expect(response.status).toBe(303);
  const at = response.headers.get('location')!;
  const page = await (await visitor.request(at)).text();
  const notice = /<div class="notice" role="status">([^<]*)<\/div>/.exec(page)?.[1];
  const error = /<div class="error" role="alert">([^<]*)<\/div>/.exec(page)?.[1];
  expect(await (await visitor.request(at)).text()).not.toMatch(/role="(status|alert)"/);
  return { at, page, ...(notice !== undefined && { notice: unescape(notice) }), ...(error !== undefined && { error: unescape(error) }) };
}
