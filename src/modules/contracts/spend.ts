import type { ServiceContext } from '../../lib/context.js';
import type { Period } from '../../lib/periods.js';
import * as rating from '../rating/service.js';
import { statementPeriodAt, statementScheduleOf } from './plan.js';
import type { ContractRow } from './repo.js';
import * as repo from './repo.js';

/** What rating the open period of each live (not archived) contract of `contracts` needs from the catalog; undefined where there is nothing to rate. */
export function prepareOpenPeriods(ctx: ServiceContext, tenantId: string, contracts: readonly ContractRow[]): Promise<(rating.PreparedPeriod | undefined)[]> {
  return Promise.all(
    contracts
      .filter((contract) => !contract.archived_at)
      .map((contract) =>
        rating.prepareOpenPeriod(ctx, { tenantId, contract: { id: contract.id, rateCardId: contract.rate_card_id, schedule: statementScheduleOf(contract) } }),
      ),
  );
}

/**
 * The open period of each live contract of the customer, rated as the draft is, with options: every
 * line split per value of the group property `splitBy` (what each user or team spent: alerts on a
 * group key read it), and the period cut at `cutsOf(period)` (the dashboard's daily burn reads a
 * charge per day).
 */
export async function rateOpenPeriodsFor(
  ctx: ServiceContext,
  { tenantId, customerId, splitBy, cutsOf }: { tenantId: string; customerId: string; splitBy?: string | undefined; cutsOf?: ((period: Period) => Date[]) | undefined },
): Promise<rating.RatedPeriod[]> {
  const prepared = await prepareOpenPeriods(ctx, tenantId, await repo.listContracts(ctx.db, tenantId, customerId));
  return Promise.all(
    prepared.flatMap((period) => (period ? [rating.rateOpenPeriod(ctx, { tenantId, customerId, prepared: period, cuts: cutsOf?.(period.period) ?? [], splitBy })] : [])),
  );
}

/** The customer's current billing period: the usage statement period covering now of its earliest live contract, if any. */
export async function openStatementPeriod(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<Period | undefined> {
  const now = ctx.clock.now();
  const periods = (await repo.listContracts(ctx.db, tenantId, customerId))
    .filter((contract) => !contract.archived_at)
    .flatMap((contract) => statementPeriodAt(contract, now) ?? []);
  return periods.sort((a, b) => a.startingAt.getTime() - b.startingAt.getTime())[0];
}
