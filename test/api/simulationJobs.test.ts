import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatContract, seatCatalog, type SeatCatalog } from '../helpers/catalog.js';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const APRIL = { starting_on: '2024-04-01T00:00:00Z', ending_before: '2024-05-01T00:00:00Z' };

interface Simulation {
  id: string;
  status: string;
  percent: number;
  customer_count: number;
  totals: { actual: number; simulated: number };
  customers?: { customer_id: string; actual_total: number; simulated_total: number; runs_out_at_simulated: string | null }[];
}

/**
 * Simulations as jobs: kept in the database, run by whichever process holds their lease, taken up
 * after a restart where they stopped, cancelled, listed. The server starts with simulations not
 * run (`run: false`: every simulation is queued), then restarts with them run. Three customers of
 * 20 seats with 50 pooled AI credits each, Chat at 5 credits a unit, 10 units a day through April
 * (the numbers of `simulations.test.ts`: 25,000 cents actual, 40,000 at a doubled burn rate).
 */
describe.each(ENGINES)('pricing simulations as jobs on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;
  let catalog: SeatCatalog;
  let chat: string;
  let dataDir: string | undefined;
  const customers: string[] = [];

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(`${server.baseURL}/v1/allot/pricing/simulations${path}`, {
      method,
      headers: { authorization: `Bearer ${server.key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as { data: Simulation; message?: string } };
  };
  const doubled = () => ({ ...APRIL, customer_ids: customers, rate_changes: [{ product_id: chat, starting_at: APRIL.starting_on, rate_type: 'FLAT', price: 10, credit_type_id: catalog.aiCredits }] });

  beforeAll(async () => {
    dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'allot-simulations-')) : undefined;
    server = await startTestServer({ engine, clockStart: '2024-04-30T13:00:00Z', simulations: { run: false }, ...(dataDir ? { dataDir } : {}) });
    client = server.client();
    catalog = await seatCatalog(server, { seatPrice: 1000, aiCreditsInCents: 10 });
    const metric = (
      await client.v1.billableMetrics.create({ name: 'Units', event_type_filter: { in_values: ['chat'] }, aggregation_type: 'SUM', aggregation_key: 'units', property_filters: [{ name: 'units', exists: true }] })
    ).data.id;
    chat = (await client.v1.contracts.products.create({ name: 'Chat', type: 'USAGE', billable_metric_id: metric })).data.id;
    await client.v1.contracts.rateCards.rates.add({ rate_card_id: catalog.rateCard, product_id: chat, entitled: true, rate_type: 'FLAT', price: 5, credit_type_id: catalog.aiCredits, starting_at: '2024-01-01T00:00:00Z' });
    for (let n = 0; n < 3; n += 1) {
      const { customer } = await createSeatContract(client, { catalog, seats: 20 });
      customers.push(customer);
      const usage = Array.from({ length: 30 }, (_, i) => ({ transaction_id: `${customer}-${i}`, customer_id: customer, event_type: 'chat', timestamp: `2024-04-${String(i + 1).padStart(2, '0')}T12:00:00Z`, properties: { units: 10 } }));
      await client.v1.usage.ingest({ usage });
    }
    expect((await server.advanceClock('2024-05-10T00:00:00Z')).status).toBe(200);
  });
  afterAll(async () => {
    await server.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('queues a simulation, lists it, cancels another, and after a restart finishes the first from where it stopped', async () => {
    const created = await call('POST', '', doubled());
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({ status: 'queued', percent: 0, customer_count: 3, totals: { actual: 0, simulated: 0 }, customers: [] });
    const { id } = created.body.data;

    // A process that stopped after the first customer left its result behind: the job goes on from the second.
    const [row] = await server.database.db.query<{ tenant_id: string }>('SELECT tenant_id FROM pricing_simulations WHERE id = $1', [id]);
    await server.database.db.query(
      `INSERT INTO pricing_simulation_results (tenant_id, simulation_id, position, customer_id, result) VALUES ($1, $2, 0, $3, $4::jsonb)`,
      [
        row!.tenant_id,
        id,
        customers[0],
        JSON.stringify({ credit_type_id: catalog.aiCredits, actual_total: '1', simulated_total: '2', credits_burned_actual: '0', credits_burned_simulated: '0', runs_out_at_actual: null, runs_out_at_simulated: null, crosses_pool_simulated: false }),
      ],
    );
    const partial = (await call('GET', `/${id}`)).body.data;
    expect(partial).toMatchObject({ status: 'queued', percent: 33, totals: { actual: 1, simulated: 2 } });
    expect(partial.customers).toHaveLength(1);

    const other = (await call('POST', '', doubled())).body.data.id;
    const cancelled = await call('POST', `/${other}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.status).toBe('cancelled');
    expect((await call('POST', `/${other}/cancel`)).body.data.status).toBe('cancelled');

    const listed = await fetch(`${server.baseURL}/v1/allot/pricing/simulations`, { headers: { authorization: `Bearer ${server.key}` } });
    const list = (await listed.json()) as { data: Simulation[]; next_page: string | null };
    expect(list.data.map((simulation) => [simulation.id, simulation.status])).toEqual([
      [other, 'cancelled'],
      [id, 'queued'],
    ]);
    expect(list.data[1]).not.toHaveProperty('customers');

    await server.restart({ simulations: { run: true, intervalMs: 50 } });
    await waitFor(async () => (await call('GET', `/${id}`)).body.data.status === 'completed', { what: 'the simulation completed after the restart', timeoutMs: 30_000 });
    const done = (await call('GET', `/${id}`)).body.data;
    expect(done).toMatchObject({ status: 'completed', percent: 100, totals: { actual: 1 + 2 * 25_000, simulated: 2 + 2 * 40_000 } });
    expect(done.customers!.map((customer) => [customer.customer_id, customer.actual_total, customer.simulated_total, customer.runs_out_at_simulated])).toEqual([
      [customers[0], 1, 2, null],
      [customers[1], 25_000, 40_000, '2024-04-11T00:00:00.000Z'],
      [customers[2], 25_000, 40_000, '2024-04-11T00:00:00.000Z'],
    ]);
    // The cancelled one stays cancelled, with nothing run.
    expect((await call('GET', `/${other}`)).body.data).toMatchObject({ status: 'cancelled', percent: 0, customers: [] });
    // A finished simulation cannot be cancelled.
    const refused = await call('POST', `/${id}/cancel`);
    expect(refused.status).toBe(409);
  });

  it('runs a small simulation within the request once the process runs simulations, and keeps it', async () => {
    const created = await call('POST', '', { ...doubled(), customer_ids: [customers[1]] });
    expect(created.body.data).toMatchObject({ status: 'completed', percent: 100, totals: { actual: 25_000, simulated: 40_000 } });
    expect((await call('GET', `/${created.body.data.id}`)).body.data).toEqual(created.body.data);
    expect((await call('GET', '/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
