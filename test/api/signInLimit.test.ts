import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/http/types.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Failed dashboard sign-ins are limited per client address: past the limit every sign-in from
 * that address is a 429 with Retry-After, until the window ends. Requests are injected with the
 * address they come from.
 */

async function signIn(app: App, key: string, remoteAddress: string) {
  const page = await app.inject({ method: 'GET', url: '/ui/sign-in', remoteAddress });
  const token = /name="token" value="([^"]+)"/.exec(page.body)![1]!;
  const cookie = page.cookies.find((each) => each.name === 'allot_sign_in')!.value;
  return app.inject({
    method: 'POST',
    url: '/ui/sign-in',
    remoteAddress,
    cookies: { allot_sign_in: cookie },
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token, api_key: key }).toString(),
  });
}

const WRONG_KEY = 'allot_not-a-key-of-anyone';

describe.each(ENGINES)('dashboard sign-in limit on %s', (engine) => {
  let server: TestServer;
  let app: App;

  beforeAll(async () => {
    server = await startTestServer({ engine, register: (registered) => (app = registered) });
  });
  afterAll(() => server.stop());

  it('answers the 11th wrong key from an address with a 429 and Retry-After, and refuses even the right key from it', async () => {
    for (let i = 1; i <= 10; i++) expect((await signIn(app, WRONG_KEY, '203.0.113.7')).statusCode, `attempt ${i}`).toBe(401);
    const refused = await signIn(app, WRONG_KEY, '203.0.113.7');
    expect(refused.statusCode).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body).toContain('Too many sign-ins with a wrong key from your address');
    const rightKey = await signIn(app, server.key, '203.0.113.7');
    expect(rightKey.statusCode).toBe(429);
    expect(rightKey.cookies.find((each) => each.name === 'allot_session')).toBeUndefined();
  });

  it('lets another address sign in, and counts only its own failures', async () => {
    expect((await signIn(app, server.key, '198.51.100.9')).statusCode).toBe(303);
    expect((await signIn(app, WRONG_KEY, '198.51.100.9')).statusCode).toBe(401);
  });

  it('does not count successful sign-ins', async () => {
    for (let i = 1; i <= 12; i++) expect((await signIn(app, server.key, '192.0.2.44')).statusCode, `sign-in ${i}`).toBe(303);
    expect((await signIn(app, WRONG_KEY, '192.0.2.44')).statusCode).toBe(401);
  });
});

describe.each(ENGINES)('a configured sign-in limit on %s', (engine) => {
  let server: TestServer;
  let app: App;

  beforeAll(async () => {
    server = await startTestServer({ engine, register: (registered) => (app = registered), signInLimit: { maxFailures: 2, windowMs: 60_000 } });
  });
  afterAll(() => server.stop());
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses after its number of failures, and lets the address try again once the window has passed', async () => {
    // Only Date is faked: the limit's window is read from it, and it moves only when told to.
    vi.useFakeTimers({ toFake: ['Date'] });
    expect((await signIn(app, WRONG_KEY, '203.0.113.50')).statusCode).toBe(401);
    expect((await signIn(app, WRONG_KEY, '203.0.113.50')).statusCode).toBe(401);
    const refused = await signIn(app, server.key, '203.0.113.50');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');

    vi.setSystemTime(Date.now() + 59_000);
    expect((await signIn(app, server.key, '203.0.113.50')).headers['retry-after']).toBe('1');

    vi.setSystemTime(Date.now() + 1_000);
    expect((await signIn(app, server.key, '203.0.113.50')).statusCode).toBe(303);
    expect((await signIn(app, WRONG_KEY, '203.0.113.50')).statusCode).toBe(401);
  });
});
