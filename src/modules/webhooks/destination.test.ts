import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { guardedLookup, refusedDestination, type Resolve } from './destination.js';

const resolvesTo =
  (answers: Record<string, string[]>): Resolve =>
  async (hostname) =>
    answers[hostname] ?? Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));

describe('refusedDestination', () => {
  it('refuses a literal forbidden address or a reserved name without resolving it', async () => {
    const resolve: Resolve = () => Promise.reject(new Error('no lookup expected'));
    expect(await refusedDestination('http://127.0.0.1:8080/hooks', { resolve })).toMatch(/^127\.0\.0\.1 is a loopback address; .*ALLOT_WEBHOOKS_ALLOW_PRIVATE=true/);
    expect(await refusedDestination('http://2130706433/', { resolve })).toMatch(/^127\.0\.0\.1 is a loopback address/);
    expect(await refusedDestination('https://[::ffff:10.0.0.1]/', { resolve })).toMatch(/^\[::ffff:a00:1\] is a private address/);
    expect(await refusedDestination('http://169.254.169.254/latest/meta-data/', { resolve })).toMatch(/^169\.254\.169\.254 is a cloud metadata address/);
    expect(await refusedDestination('http://metadata.google.internal/computeMetadata/v1/', { resolve })).toMatch(/is a cloud metadata address/);
    expect(await refusedDestination('http://localhost:3000/', { resolve })).toMatch(/^localhost is a loopback address/);
    expect(await refusedDestination('http://93.184.215.14/hooks', { resolve })).toBeUndefined();
  });

  it('refuses a name when any address it resolves to is forbidden', async () => {
    const resolve = resolvesTo({ 'internal.example.com': ['10.1.2.3'], 'mixed.example.com': ['93.184.215.14', 'fd00::1'], 'public.example.com': ['93.184.215.14', '2606:2800:21f::1'] });
    expect(await refusedDestination('https://internal.example.com/hooks', { resolve })).toMatch(/^internal\.example\.com resolves to 10\.1\.2\.3, a private address/);
    expect(await refusedDestination('https://mixed.example.com/hooks', { resolve })).toMatch(/^mixed\.example\.com resolves to fd00::1, a private address/);
    expect(await refusedDestination('https://public.example.com/hooks', { resolve })).toBeUndefined();
  });

  it('accepts a name that does not resolve, or not in time: the delivery checks again', async () => {
    expect(await refusedDestination('https://unknown.example.com/', { resolve: resolvesTo({}) })).toBeUndefined();
    expect(await refusedDestination('https://slow.example.com/', { resolve: () => new Promise(() => {}), timeoutMs: 5 })).toBeUndefined();
  });
});

type Outcome = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number | undefined };

function lookUp(lookup: ReturnType<typeof guardedLookup>, hostname: string, options: { all?: boolean; family?: number }): Promise<Outcome> {
  return new Promise((done) => lookup(hostname, options as never, (error, address, family) => done({ error, address, family })));
}

describe('guardedLookup', () => {
  it('answers as dns.lookup does, in both shapes, for a name with public addresses', async () => {
    const lookup = guardedLookup(resolvesTo({ 'hooks.example.com': ['93.184.215.14', '2606:2800:21f::1'] }));
    expect(await lookUp(lookup, 'hooks.example.com', {})).toEqual({ error: null, address: '93.184.215.14', family: 4 });
    expect(await lookUp(lookup, 'hooks.example.com', { family: 6 })).toEqual({ error: null, address: '2606:2800:21f::1', family: 6 });
    expect((await lookUp(lookup, 'hooks.example.com', { all: true })).address).toEqual([
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f::1', family: 6 },
    ]);
  });

  it('refuses to connect when the name now resolves to a forbidden address (DNS rebinding)', async () => {
    let calls = 0;
    // Public when the endpoint was checked, loopback when the delivery connects.
    const lookup = guardedLookup(async () => (calls++ === 0 ? ['93.184.215.14'] : ['127.0.0.1']));
    expect((await lookUp(lookup, 'rebind.example.com', {})).error).toBeNull();
    const { error } = await lookUp(lookup, 'rebind.example.com', { all: true });
    expect(error).toMatchObject({ code: 'EFORBIDDEN', message: expect.stringMatching(/^refused: rebind\.example\.com resolves to 127\.0\.0\.1, a loopback address/) });
  });

  it('passes on a failed resolution as it came', async () => {
    const { error } = await lookUp(guardedLookup(resolvesTo({})), 'gone.example.com', {});
    expect(error).toMatchObject({ code: 'ENOTFOUND' });
  });
});
