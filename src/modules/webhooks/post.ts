import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup, refusedHost, type Resolve } from './destination.js';

/** Thrown before any request when a webhook's host is a forbidden literal address or reserved name. */
export class RefusedDestination extends Error {
  readonly code = 'EFORBIDDEN';
}

/**
 * Posts `body` to `url` and resolves with the answer's status once its status line arrives; the
 * answer's body is not read, and its connection is closed. Redirects are not followed. `signal`
 * aborts it (the attempt's timeout, or the server stopping).
 *
 * Unless `allowPrivateAddresses`, the host is checked where the connection is made: a literal
 * address or reserved name is refused before anything is sent, and a name is resolved by a
 * `lookup` that refuses forbidden addresses, so the socket connects to the address that was
 * checked (see `destination.ts`).
 */
export function postWebhook({
  url,
  headers,
  body,
  signal,
  allowPrivateAddresses,
  resolve,
}: {
  url: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  allowPrivateAddresses: boolean;
  resolve?: Resolve | undefined;
}): Promise<number> {
  return new Promise((done, fail) => {
    const target = new URL(url);
    const options: RequestOptions = { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal };
    if (!allowPrivateAddresses) {
      const refused = refusedHost(target.hostname);
      if (refused) {
        fail(new RefusedDestination(refused));
        return;
      }
      options.lookup = guardedLookup(resolve) as RequestOptions['lookup'];
    } else if (resolve) {
      options.lookup = guardedLookup(resolve, { refuse: false }) as RequestOptions['lookup'];
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(target, options, (response) => {
      done(response.statusCode ?? 0);
      response.destroy();
    });
    request.on('error', fail);
    request.end(body);
  });
}
