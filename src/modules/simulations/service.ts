import type { ServiceContext } from '../../lib/context.js';
import { Conflict, NotFound } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { Decimal } from '../../lib/money.js';
import { fetchPage } from '../../lib/pagination.js';
import * as contracts from '../contracts/service.js';
import * as customers from '../customers/service.js';
import * as repo from './repo.js';
import { checkRequest, type SimulationRequest } from './request.js';
import { runnerFor, runSimulation } from './runner.js';
import type { SimulationBody } from './schemas.js';
import { requestOf, resultOf, storedRequest } from './stored.js';
import type { CustomerResult } from './simulate.js';

export type { CustomerResult } from './simulate.js';
export type { SimulationStatus } from './repo.js';
export { startSimulationRunner, type SimulationRunner, type SimulationRunnerOptions } from './runner.js';

/** Simulations of at most this many customers run within the request that creates them; larger ones answer at once and run as a job. */
export const INLINE_CUSTOMERS = 25;

/** A pricing simulation: what was asked, how far it got, and each customer's result so far. */
export interface Simulation {
  id: string;
  status: repo.SimulationStatus;
  createdAt: Date;
  request: SimulationRequest;
  customerCount: number;
  /** How many customers have a result. */
  done: number;
  error: string | null;
  totals: { actual: Decimal; simulated: Decimal };
  /** Every customer's result so far, in order; left out of lists. */
  results: CustomerResult[] | undefined;
}

/** The request's customers; else every live customer with a live contract in force during the window (the others have nothing to replay). */
async function customersOf(ctx: ServiceContext, tenantId: string, request: SimulationRequest): Promise<string[]> {
  if (request.customerIds) return request.customerIds;
  const billed = await contracts.customersWithContractsDuring(ctx, { tenantId, startingAt: request.startingOn, endingBefore: request.endingBefore });
  const ids: string[] = [];
  for await (const customerId of customers.liveCustomerIds(ctx, { tenantId })) if (billed.has(customerId)) ids.push(customerId);
  return ids;
}

/**
 * Creates a simulation of the request's customers over its window under its scenario (see the
 * module README): checked, stored as a job with its customers fixed and the clock's now as the
 * instant it replays from. In a process that runs simulations, one of at most `INLINE_CUSTOMERS`
 * customers runs at once and is answered completed; a larger one is answered queued, and the
 * runner takes it up. Writes nothing billed.
 */
export async function createSimulation(ctx: ServiceContext, { tenantId, body }: { tenantId: string; body: SimulationBody }): Promise<Simulation> {
  const request = await checkRequest(ctx, { tenantId, body });
  const customerIds = await customersOf(ctx, tenantId, request);
  const id = newId();
  const now = ctx.clock.now();
  const runner = runnerFor(ctx.db);
  const inline = runner && customerIds.length <= INLINE_CUSTOMERS ? runner : undefined;
  // One run within the request is stored held by this process's runner, so that its background
  // loop (or another process's) cannot take it up between the insert and the run.
  const lease = inline && { owner: inline.owner, until: new Date(Date.now() + inline.leaseMs) };
  const row = { tenant_id: tenantId, id, request: storedRequest(request, now), customer_ids: customerIds, customer_count: customerIds.length, created_at: now };
  await repo.insertSimulation(ctx.db, row, lease);
  if (inline) await runSimulation(ctx, inline, { tenantId, id });
  else void runner?.wake();
  return getSimulation(ctx, { tenantId, id });
}

/** A simulation with every result so far; an id that is none of the tenant's simulations is a 404. */
export async function getSimulation(ctx: ServiceContext, { tenantId, id }: { tenantId: string; id: string }): Promise<Simulation> {
  const row = isUuid(id) ? await repo.findSimulation(ctx.db, tenantId, id) : undefined;
  if (!row) throw new NotFound(`No pricing simulation with id ${id}`);
  const results = (await repo.listResults(ctx.db, tenantId, [id])).map((result) => resultOf(result.customer_id, result.result));
  const sum = (pick: (result: CustomerResult) => Decimal) => results.reduce((total, result) => total.add(pick(result)), new Decimal(0));
  return simulationOf(row, { done: results.length, totals: { actual: sum((result) => result.actualTotal), simulated: sum((result) => result.simulatedTotal) }, results });
}

/** The tenant's simulations, newest first, with their totals so far but not each customer's result. */
export async function listSimulations(ctx: ServiceContext, { tenantId, query }: { tenantId: string; query: { limit: number; nextPage?: string | undefined } }): Promise<{ simulations: Simulation[]; nextPage: string | null }> {
  const page = await fetchPage(query, (window) => repo.listSimulations(ctx.db, tenantId, window));
  const totals = await repo.resultTotals(ctx.db, tenantId, page.rows.map((row) => row.id));
  return {
    simulations: page.rows.map((row) => {
      const own = totals.get(row.id);
      return simulationOf(row, { done: own?.count ?? 0, totals: { actual: new Decimal(own?.actual ?? 0), simulated: new Decimal(own?.simulated ?? 0) }, results: undefined });
    }),
    nextPage: page.nextPage,
  };
}

/** Cancels a queued or running simulation: it stops before its next customer, and keeps the results it has. A finished one is a 409; cancelling a cancelled one changes nothing. */
export async function cancelSimulation(ctx: ServiceContext, { tenantId, id }: { tenantId: string; id: string }): Promise<Simulation> {
  const simulation = await getSimulation(ctx, { tenantId, id });
  if (simulation.status === 'cancelled') return simulation;
  if (!(await repo.cancel(ctx.db, { tenantId, id, at: ctx.clock.now() }))) {
    const now = await getSimulation(ctx, { tenantId, id });
    if (now.status !== 'cancelled') throw new Conflict(`The pricing simulation ${id} has already ${now.status === 'completed' ? 'completed' : 'failed'}`);
  }
  return getSimulation(ctx, { tenantId, id });
}

function simulationOf(row: repo.SimulationRow, rest: Pick<Simulation, 'done' | 'totals' | 'results'>): Simulation {
  return { id: row.id, status: row.status, createdAt: row.created_at, request: requestOf(row.request).request, customerCount: row.customer_count, error: row.error, ...rest };
}
