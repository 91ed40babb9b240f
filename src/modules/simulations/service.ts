import type { ServiceContext } from '../../lib/context.js';
import { newId } from '../../lib/ids.js';
import * as customers from '../customers/service.js';
import { checkRequest, type SimulationRequest } from './request.js';
import type { SimulationBody } from './schemas.js';
import { simulateCustomer, type CustomerResult } from './simulate.js';

export type { CustomerResult } from './simulate.js';

export type SimulationStatus = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';

/** A pricing simulation: what was asked, how far it got, and each customer's result so far. */
export interface Simulation {
  id: string;
  status: SimulationStatus;
  createdAt: Date;
  request: SimulationRequest;
  customerCount: number;
  error: string | null;
  results: CustomerResult[];
}

/** Every live customer's id, or the request's. */
async function customersOf(ctx: ServiceContext, tenantId: string, request: SimulationRequest): Promise<string[]> {
  if (request.customerIds) return request.customerIds;
  const ids: string[] = [];
  for await (const customerId of customers.liveCustomerIds(ctx, { tenantId })) ids.push(customerId);
  return ids;
}

/**
 * Replays the stored usage of the request's customers over its window under its scenario, with
 * the engine that bills them, and answers per customer the totals, the credits burned and the
 * run-out dates, actual and simulated. Writes nothing billed.
 */
export async function simulate(ctx: ServiceContext, { tenantId, body }: { tenantId: string; body: SimulationBody }): Promise<Simulation> {
  const request = await checkRequest(ctx, { tenantId, body });
  const customerIds = await customersOf(ctx, tenantId, request);
  // One simulation reads the catalog once, however many customers it replays.
  const run: ServiceContext = { ...ctx, memo: new Map() };
  const results: CustomerResult[] = [];
  for (const customerId of customerIds) results.push(await simulateCustomer(run, { tenantId, customerId, request }));
  return { id: newId(), status: 'completed', createdAt: ctx.clock.now(), request, customerCount: customerIds.length, error: null, results };
}
