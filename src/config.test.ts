import { describe, expect, it } from 'vitest';
import { describeStripe, loadConfig, serverUrlOf } from './config.js';

describe('loadConfig', () => {
  it('defaults to PGlite in ./.allot on 127.0.0.1:8080', () => {
    expect(loadConfig({})).toMatchObject({ port: 8080, host: '127.0.0.1', databaseUrl: undefined, dataDir: './.allot', testClockStart: undefined });
  });

  it('lets flags win over the environment and treats empty variables as unset', () => {
    const config = loadConfig({ PORT: '9000', DATABASE_URL: '', ALLOT_TEST_CLOCK: '2024-01-01T00:00:00Z' }, { port: '9100', testClock: '2025-01-01T00:00:00+01:00' });
    expect(config.port).toBe(9100);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.testClockStart?.toISOString()).toBe('2024-12-31T23:00:00.000Z');
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT: /);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL: /);
    expect(() => loadConfig({ ALLOT_TEST_CLOCK: '2024-01-01' })).toThrow(/ALLOT_TEST_CLOCK: /);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://localhost/db' })).toThrow(/DATABASE_URL: must be a PostgreSQL URL/);
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@h:5432/d' }).databaseUrl).toBe('postgresql://u:p@h:5432/d');
  });

  it('reads the Stripe keys and API base, refusing an API base that is not an http(s) URL', () => {
    expect(loadConfig({}).stripe).toEqual({ secretKey: undefined, webhookSecret: undefined, apiBase: undefined });
    const config = loadConfig({ ALLOT_STRIPE_SECRET_KEY: 'sk_test_1', ALLOT_STRIPE_WEBHOOK_SECRET: 'whsec_1', ALLOT_STRIPE_API_BASE: 'http://127.0.0.1:12111' });
    expect(config.stripe).toEqual({ secretKey: 'sk_test_1', webhookSecret: 'whsec_1', apiBase: 'http://127.0.0.1:12111' });
    expect(() => loadConfig({ ALLOT_STRIPE_API_BASE: 'api.stripe.com' })).toThrow(/ALLOT_STRIPE_API_BASE: /);
  });

  it('refuses private webhook destinations unless told, and reads the sign-in limit', () => {
    expect(loadConfig({}).webhooks.allowPrivateAddresses).toBeUndefined();
    expect(loadConfig({ ALLOT_WEBHOOKS_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivateAddresses).toBe(true);
    expect(loadConfig({ ALLOT_WEBHOOKS_ALLOW_PRIVATE: 'false' }).webhooks.allowPrivateAddresses).toBe(false);
    expect(() => loadConfig({ ALLOT_WEBHOOKS_ALLOW_PRIVATE: 'yes' })).toThrow(/ALLOT_WEBHOOKS_ALLOW_PRIVATE: must be true or false/);
    expect(loadConfig({}).signInMaxFailures).toBeUndefined();
    expect(loadConfig({ ALLOT_SIGN_IN_MAX_FAILURES: '5' }).signInMaxFailures).toBe(5);
    expect(() => loadConfig({ ALLOT_SIGN_IN_MAX_FAILURES: '0' })).toThrow(/ALLOT_SIGN_IN_MAX_FAILURES: /);
  });

  it('answers with Server-Timing only when told', () => {
    expect(loadConfig({}).serverTiming).toBe(false);
    expect(loadConfig({ ALLOT_SERVER_TIMING: 'true' }).serverTiming).toBe(true);
    expect(loadConfig({ ALLOT_SERVER_TIMING: 'false' }).serverTiming).toBe(false);
    expect(() => loadConfig({ ALLOT_SERVER_TIMING: '1' })).toThrow(/ALLOT_SERVER_TIMING: must be true or false/);
  });

  it('reads where browsers reach the server and which proxies to trust, refusing what does not parse', () => {
    expect(loadConfig({}).publicUrl).toBeUndefined();
    expect(loadConfig({ ALLOT_PUBLIC_URL: 'https://billing.example.com' }).publicUrl).toBe('https://billing.example.com');
    expect(() => loadConfig({ ALLOT_PUBLIC_URL: 'billing.example.com' })).toThrow(/ALLOT_PUBLIC_URL: must be an http or https URL/);
    expect(loadConfig({}).trustProxy).toBeUndefined();
    expect(loadConfig({ ALLOT_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ ALLOT_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toBe('10.0.0.0/8,127.0.0.1');
    expect(() => loadConfig({ ALLOT_TRUST_PROXY: 'yes please' })).toThrow(/ALLOT_TRUST_PROXY: /);
  });
});

describe('loadConfig: the usage log', () => {
  it('runs without one unless ALLOT_NATS_URL is set, in the role that does everything', () => {
    const config = loadConfig({});
    expect(config.nats).toBeUndefined();
    expect(config.role).toBe('all');
  });

  it('reads the servers, partitions, replicas, lease and read wait, with their defaults', () => {
    expect(loadConfig({ ALLOT_NATS_URL: 'nats://n1:4222,nats://n2:4222' }, { role: 'writer' })).toMatchObject({
      role: 'writer',
      nats: { servers: ['nats://n1:4222', 'nats://n2:4222'], partitions: 16, replicas: 1, leaseMs: 5000, readWaitMs: 2000 },
    });
    expect(loadConfig({ ALLOT_NATS_URL: '127.0.0.1:4222', ALLOT_NATS_PARTITIONS: '4', ALLOT_NATS_REPLICAS: '3', ALLOT_READ_WAIT_MS: '0' }).nats).toMatchObject({ partitions: 4, replicas: 3, readWaitMs: 0 });
  });

  it('refuses a role other than all without a log, an unknown role, and values out of range, naming each', () => {
    expect(() => loadConfig({}, { role: 'api' })).toThrow('--role api needs ALLOT_NATS_URL');
    expect(() => loadConfig({ ALLOT_NATS_URL: 'nats://n1:4222' }, { role: 'reader' })).toThrow('--role: must be one of all, api, writer');
    expect(() => loadConfig({ ALLOT_NATS_URL: 'nats://n1:4222', ALLOT_NATS_PARTITIONS: '0', ALLOT_READ_WAIT_MS: '-1' })).toThrow(/ALLOT_NATS_PARTITIONS: .*; ALLOT_READ_WAIT_MS: /);
    expect(() => loadConfig({ ALLOT_NATS_URL: 'nats://n1:4222, nats://n2:4222' })).toThrow('ALLOT_NATS_URL: must be one or more NATS servers');
  });
});

describe('serverUrlOf', () => {
  it('finds the running server at ALLOT_URL, else on this machine at PORT, else at port 8080', () => {
    expect(serverUrlOf({})).toBe('http://127.0.0.1:8080');
    expect(serverUrlOf({ PORT: '9090' })).toBe('http://127.0.0.1:9090');
    expect(serverUrlOf({ PORT: '9090', ALLOT_URL: 'https://billing.example.com' })).toBe('https://billing.example.com');
  });
});

describe('describeStripe', () => {
  it('says whether invoices are pushed and seat webhooks taken, naming the variable that is missing', () => {
    expect(describeStripe(loadConfig({}), 'http://127.0.0.1:8080')).toBe(
      'Stripe: invoices not pushed (ALLOT_STRIPE_SECRET_KEY unset); seat webhooks refused (ALLOT_STRIPE_WEBHOOK_SECRET unset)',
    );
    const configured = loadConfig({ ALLOT_STRIPE_SECRET_KEY: 'sk_test_1', ALLOT_STRIPE_WEBHOOK_SECRET: 'whsec_1', ALLOT_STRIPE_API_BASE: 'http://127.0.0.1:12111' });
    expect(describeStripe(configured, 'http://127.0.0.1:8080')).toBe(
      'Stripe: invoices pushed to http://127.0.0.1:12111; seat webhooks taken at http://127.0.0.1:8080/v1/allot/stripe/webhook',
    );
  });
});
