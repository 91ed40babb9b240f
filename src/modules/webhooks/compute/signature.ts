import { createHmac } from 'node:crypto';

/**
 * Metronome's webhook signature (docs/rules.md rule 14): the hex HMAC-SHA256, under the endpoint's
 * secret, of the send date, a newline, and the raw body. The date is the exact text of the
 * `X-Metronome-Date` header, so a receiver signs what it was sent:
 * `signWebhook({ secret: 'k', date: 'Tue, 05 Mar 2024 10:00:00 GMT', body: '{"id":"e"}' })`
 * is the HMAC of `Tue, 05 Mar 2024 10:00:00 GMT\n{"id":"e"}`.
 */
export function signWebhook({ secret, date, body }: { secret: string; date: string; body: string }): string {
  return createHmac('sha256', secret).update(`${date}\n${body}`, 'utf8').digest('hex');
}

/**
 * The headers of one attempt sent at `sentAt`: JSON, Allot as the user agent, the date twice
 * (`Date` for HTTP, `X-Metronome-Date` for the signature; the same RFC 1123 text) and the signature.
 * `sentAt` is the real time of sending: receivers (the official SDK among them) refuse a date
 * more than 5 minutes away from their own clock.
 */
export function webhookHeaders({ secret, body, sentAt }: { secret: string; body: string; sentAt: Date }): Record<string, string> {
  const date = sentAt.toUTCString();
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'Allot',
    Date: date,
    'X-Metronome-Date': date,
    'Metronome-Webhook-Signature': signWebhook({ secret, date, body }),
  };
}
