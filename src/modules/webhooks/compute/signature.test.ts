import Metronome from '@metronome/sdk';
import { describe, expect, it } from 'vitest';
import { signWebhook, webhookHeaders } from './signature.js';

const client = new Metronome({ bearerToken: 'unused', baseURL: 'http://127.0.0.1:1' });

describe('webhook signature', () => {
  it('is the hex HMAC-SHA256 of date, newline and body under the secret', () => {
    // openssl: printf 'Tue, 05 Mar 2024 10:00:00 GMT\n{"id":"e1"}' | openssl dgst -sha256 -hmac secret-of-16-chars
    expect(signWebhook({ secret: 'secret-of-16-chars', date: 'Tue, 05 Mar 2024 10:00:00 GMT', body: '{"id":"e1"}' })).toBe(
      '1b9d559c4c23ccec3e9968684cad783395c6975e910fdb28fe9af371ba204086',
    );
  });

  it('sends headers the official SDK verifies, and signs non-ASCII bodies as UTF-8', () => {
    const body = JSON.stringify({ id: 'e2', type: 'contract.create', properties: { name: 'Zoë 😀' } });
    const headers = webhookHeaders({ secret: 'another-secret-value', body, sentAt: new Date() });
    expect(headers['Date']).toBe(headers['X-Metronome-Date']);
    expect(headers['Content-Type']).toBe('application/json');
    expect(client.webhooks.unwrap(body, headers, 'another-secret-value')).toEqual(JSON.parse(body));
    expect(() => client.webhooks.unwrap(body, headers, 'not-the-secret-value')).toThrow(/signature does not match/);
  });
});
