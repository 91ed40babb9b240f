import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { promisify } from 'node:util';
import { forbiddenAddressKind, forbiddenHostKind, isAddressLiteral, type ForbiddenKind } from './compute/forbiddenAddress.js';

/** Resolves a host name to its addresses, as `dns.lookup` does (the hosts file, then DNS). */
export type Resolve = (hostname: string) => Promise<string[]>;

const lookupAll = promisify(dnsLookup);

export const systemResolve: Resolve = async (hostname) => (await lookupAll(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

const SETTING = 'ALLOT_WEBHOOKS_ALLOW_PRIVATE';

function refusal(subject: string, kind: ForbiddenKind): string {
  return `${subject} ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} address; webhooks are not sent to loopback, private, link-local or cloud metadata addresses unless the operator sets ${SETTING}=true`;
}

/**
 * Why a webhook may not be sent to `hostname` whatever it resolves to (a literal forbidden address
 * or a reserved name), or undefined: `refused: [::1] is a loopback address; …`.
 */
export function refusedHost(hostname: string): string | undefined {
  const kind = forbiddenHostKind(hostname);
  return kind && `refused: ${refusal(`${hostname} is`, kind)}`;
}

/**
 * Why a webhook may not be sent to `address`, which `hostname` resolved to (or undefined when
 * it may). The text is what an operator reads in the attempt's error:
 * `refused: localhost resolves to 127.0.0.1, a loopback address; …`.
 */
export function refusedAddress(hostname: string, address: string): string | undefined {
  const kind = forbiddenAddressKind(address);
  if (!kind) return undefined;
  return `refused: ${refusal(`${hostname} resolves to ${address},`, kind)}`;
}

/**
 * Why a webhook may not be sent to `url`'s host, judged before any request: a literal forbidden
 * address (`http://127.0.0.1`, `http://[::ffff:127.0.0.1]`, `http://0x7f.1` once parsed), a
 * reserved name (`localhost`, `metadata.google.internal`), or a name that `resolve` turns into a
 * forbidden address (any one of them). Undefined when it may be sent there, and also when the name
 * does not resolve (yet) or resolving takes longer than `timeoutMs`: the delivery checks again.
 */
export async function refusedDestination(url: string, { resolve = systemResolve, timeoutMs = 5_000 }: { resolve?: Resolve; timeoutMs?: number } = {}): Promise<string | undefined> {
  const { hostname } = new URL(url);
  const literalKind = forbiddenHostKind(hostname);
  if (literalKind) return refusal(`${hostname} is`, literalKind);
  if (isAddressLiteral(hostname)) return undefined; // a public address
  let timer: NodeJS.Timeout | undefined;
  const addresses = await Promise.race([
    resolve(hostname).catch(() => [] as string[]),
    new Promise<string[]>((done) => {
      timer = setTimeout(() => done([]), timeoutMs);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
  for (const address of addresses) {
    const kind = forbiddenAddressKind(address);
    if (kind) return refusal(`${hostname} resolves to ${address},`, kind);
  }
  return undefined;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for `http.request` that connects only to addresses webhooks may reach: it resolves
 * with `resolve` and fails with an `EFORBIDDEN` error when any address is forbidden, so the socket
 * connects to the very address that was checked (a name that resolves elsewhere on the second
 * lookup, DNS rebinding, gains nothing). Literal addresses are never looked up: check them first
 * with `forbiddenHostKind`. With `refuse: false` it only resolves (tests resolve names their own way).
 */
export function guardedLookup(resolve: Resolve = systemResolve, { refuse = true }: { refuse?: boolean } = {}) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    const family = typeof options.family === 'number' ? options.family : 0;
    resolve(hostname).then(
      (resolved) => {
        const addresses = resolved.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })).filter((entry) => family === 0 || entry.family === family);
        for (const { address } of addresses) {
          const reason = refuse ? refusedAddress(hostname, address) : undefined;
          if (reason) return callback(Object.assign(new Error(reason), { code: 'EFORBIDDEN' }), '');
        }
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '');
        if (options.all) return callback(null, addresses);
        return callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}
