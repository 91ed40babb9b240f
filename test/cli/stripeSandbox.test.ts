import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeSandboxCommand } from '../../src/stripeSandbox/command.js';
import { runCli } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { waitFor } from '../helpers/wait.js';

const BIN = fileURLToPath(new URL('../../bin/allot.js', import.meta.url));

/** Starts `allot stripe-sandbox …` and resolves once it prints where it listens. */
function startSandboxCommand(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, 'stripe-sandbox', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    output: () => stdout,
    async ready(): Promise<string> {
      await waitFor(async () => /listening on (http:\S+)/.test(stdout) || child.exitCode !== null, { timeoutMs: 30_000, what: `the sandbox to start:\n${stdout}\n${stderr}` });
      const match = /listening on (http:\S+)/.exec(stdout);
      if (!match) throw new Error(`allot stripe-sandbox exited:\n${stdout}\n${stderr}`);
      return match[1]!;
    },
    async stop(): Promise<number | null> {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('allot stripe-sandbox', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it('starts, prints what to give Allot, answers in Stripe’s wire format and sends signed subscription webhooks', async () => {
    const sandbox = startSandboxCommand(['--port', '0', '--webhook-url', receiver.url], { ALLOT_STRIPE_WEBHOOK_SECRET: 'whsec_cli_test', ALLOT_STRIPE_SECRET_KEY: '' });
    try {
      const base = await sandbox.ready();
      const banner = sandbox.output();
      expect(banner).toContain(`ALLOT_STRIPE_API_BASE=${base} ALLOT_STRIPE_SECRET_KEY=sk_test_allot_sandbox ALLOT_STRIPE_WEBHOOK_SECRET=whsec_cli_test npm start`);
      expect(banner).toContain(`POSTed to ${receiver.url}, signed with whsec_cli_test`);
      expect(banner).toContain(`curl ${base}/v1/subscriptions/sub_… -u sk_test_allot_sandbox: -d "items[0][id]=si_…" -d "items[0][quantity]=110"`);

      // As the printed curl lines do: Basic auth (-u key:) and form bodies.
      const call = async (method: string, path: string, form?: Record<string, string>) => {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Basic ${Buffer.from('sk_test_allot_sandbox:').toString('base64')}`, ...(form && { 'content-type': 'application/x-www-form-urlencoded' }) },
          ...(form && { body: new URLSearchParams(form).toString() }),
        });
        return { status: response.status, body: (await response.json()) as Record<string, any> };
      };
      expect((await fetch(`${base}/v1/customers`)).status).toBe(401);
      const customer = (await call('POST', '/v1/customers', { name: 'Acme AI' })).body;
      expect(customer).toMatchObject({ id: expect.stringMatching(/^cus_/), object: 'customer', name: 'Acme AI' });
      const price = (await call('POST', '/v1/prices', { currency: 'usd', unit_amount: '1000', 'recurring[interval]': 'month', 'product_data[name]': 'Seats' })).body;
      const subscription = (await call('POST', '/v1/subscriptions', { customer: customer.id, 'items[0][price]': price.id, 'items[0][quantity]': '100' })).body;
      const item = subscription.items.data[0].id as string;

      const updated = await call('POST', `/v1/subscriptions/${subscription.id}`, { 'items[0][id]': item, 'items[0][quantity]': '110' });
      expect(updated).toMatchObject({ status: 200, body: { id: subscription.id, items: { data: [{ id: item, quantity: 110 }] } } });
      const [webhook] = await receiver.waitForRequests(1);
      const event = Stripe.webhooks.constructEvent(webhook!.body, webhook!.headers['stripe-signature']!, 'whsec_cli_test') as Stripe.CustomerSubscriptionUpdatedEvent;
      expect(event.type).toBe('customer.subscription.updated');
      expect(event.data.object.items.data[0]!.quantity).toBe(110);
      expect(() => Stripe.webhooks.constructEvent(webhook!.body, webhook!.headers['stripe-signature']!, 'whsec_other')).toThrow();
      await waitFor(async () => sandbox.output().includes('attempt 1: Allot answered 200'), { what: 'the delivery line' });
      expect(sandbox.output()).toContain(`webhook customer.subscription.updated ${event.id} (${subscription.id}), attempt 1: Allot answered 200 answered 200`);
    } finally {
      expect(await sandbox.stop()).toBe(0);
    }
  }, 60_000);

  it('refuses a bad --port or --webhook-url, naming the flag', async () => {
    const port = await runCli(['stripe-sandbox', '--port', 'twelve'], {});
    expect(port).toMatchObject({ code: 1, stderr: expect.stringContaining('--port: must be a port number from 0 to 65535, got "twelve"') });
    await expect(stripeSandboxCommand({ port: '0', webhookUrl: 'ftp://example.com' }, {}, () => {})).rejects.toThrow('--webhook-url: must be an http or https URL');
  }, 60_000);

  it('says what to do when its port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(stripeSandboxCommand({ port: String(taken) }, {}, () => {})).rejects.toThrow(
        `Port ${taken} on 127.0.0.1 is in use (EADDRINUSE): stop what listens there (another sandbox? Ctrl-C in its terminal), ` +
          `or start on another port with --port ${taken + 1} and give Allot ALLOT_STRIPE_API_BASE=http://127.0.0.1:${taken + 1}.`,
      );
    } finally {
      blocker.close();
    }
  });
});
