import type { ServiceContext } from '../../lib/context.js';
import { NotFound } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import type { Contract } from '../account/service.js';
import * as repo from './repo.js';

/** The customer's contract `contractId`; a 404 when there is none (or it is another customer's). */
export async function findCustomerContract(ctx: ServiceContext, tenantId: string, customerId: string, contractId: string, options?: { forUpdate?: boolean }): Promise<Contract> {
  const contract = isUuid(contractId) ? await repo.findContract(ctx.db, tenantId, contractId, options) : undefined;
  if (!contract || contract.customer_id !== customerId) throw new NotFound(`No contract ${contractId} for customer ${customerId}`);
  return contract;
}
