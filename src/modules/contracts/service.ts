import { announceAccountChange, inTransaction, type ServiceContext } from '../../lib/context.js';
import { isUniqueViolation } from '../../lib/db/database.js';
import { Conflict, Invalid, NotFound, Problems } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { Decimal } from '../../lib/money.js';
import * as customers from '../customers/service.js';
import * as invoices from '../invoices/service.js';
import * as pricing from '../pricing/service.js';
import * as billingProviders from '../billingProviders/service.js';
import * as account from '../account/service.js';
import { customerAccount, loadContracts, withLatestAmount, type Contract, type LoadedContracts, type RecurringGrant, type Subscription } from '../account/service.js';
import { additionsFrom, contractStatementAnchor, planAdditions } from './plan.js';
import { planOverrides } from './overrides.js';
import type { EditRecord } from './edit.js';
import { findCustomerContract } from './lookup.js';
import * as repo from './repo.js';
import type { CreateContractBody } from './schemas.js';
import * as thresholdRepo from './thresholdRepo.js';
import { planThresholds, thresholdChangesOf, type ThresholdRow } from './thresholds.js';
import { announceContract, liveCustomer, signalContractChange, writePlan } from './writes.js';

export { announceCreditSegments } from './segmentAnnouncements.js';
export type { EditPreview } from './preview.js';
export { editContract, previewEdit, updateContractEndDate, type EditRecord } from './edit.js';
export { createCustomerGrant } from './balances.js';
export { contractsWithSeat, listSeatBalances, type SeatBalance, type SeatBalancesQuery } from './seatBalances.js';
export type { Contract, RecurringGrant, Subscription } from '../account/service.js';
export { statementPeriodAt } from '../account/service.js';

/** A contract with everything it defines, and its credits and commits as of now. */
export interface ContractView {
  contract: Contract;
  subscriptions: Subscription[];
  recurringCredits: RecurringGrant[];
  recurringCommits: RecurringGrant[];
  overrides: repo.ContractOverrideRow[];
  balances: account.Balance[];
  /** Its prepaid balance and spend threshold configurations (at most one of each). */
  thresholds: ThresholdRow[];
}


/**
 * Creates a contract with its subscriptions, recurring credits and commits, and one-off credits
 * and commits, in one transaction. A `uniqueness_key` already used by another contract of the
 * tenant is a 409. Every problem of the request is named in one 400; an addition is checked as if
 * the contract were open-ended when its `ending_before` is refused.
 */
export async function createContract(ctx: ServiceContext, { tenantId, body }: { tenantId: string; body: CreateContractBody }): Promise<string> {
  const problems = new Problems();
  const customer = await liveCustomer(ctx, tenantId, body.customer_id, problems);
  const endFits = problems.check(!body.ending_before || body.ending_before > body.starting_at, 'ending_before', 'must be after starting_at');
  if (body.rate_card_id && !(await pricing.findRateCard(ctx, { tenantId, rateCardId: body.rate_card_id }))) {
    problems.add('rate_card_id', `no rate card with id ${body.rate_card_id}`);
  }
  const billingProviderConfigurationId =
    body.billing_provider_configuration && customer ? await billingConfiguration(ctx, { tenantId, customerId: customer.id, selection: body.billing_provider_configuration, problems }) : null;
  const statements = body.usage_statement_schedule ?? { frequency: 'MONTHLY' as const };
  const partial = {
    starting_at: body.starting_at,
    statement_day: statements.day ?? 'FIRST_OF_MONTH',
    statement_frequency: statements.frequency,
  };
  const contract: Contract = {
    id: newId(),
    customer_id: body.customer_id,
    name: body.name ?? null,
    ending_before: body.ending_before ?? null,
    rate_card_id: body.rate_card_id ?? null,
    ...partial,
    statement_anchor: contractStatementAnchor(partial, statements.billing_anchor_date ?? null),
    net_payment_terms_days: body.net_payment_terms_days ?? null,
    custom_fields: body.custom_fields ?? {},
    uniqueness_key: body.uniqueness_key ?? null,
    billing_provider_configuration_id: billingProviderConfigurationId,
    created_at: ctx.clock.now(),
    archived_at: null,
    multiplier_override_prioritization: body.multiplier_override_prioritization ?? 'LOWEST_MULTIPLIER',
  };
  const checkedAgainst = endFits ? contract : { ...contract, ending_before: null };
  const plan = await planAdditions(ctx, {
    tenantId,
    contract: checkedAgainst,
    existingSubscriptions: [],
    notBefore: contract.starting_at,
    additions: additionsFrom(body, ''),
    problems,
  });
  const overrides = await planOverrides(ctx, { tenantId, contract: checkedAgainst, field: 'overrides', items: body.overrides ?? [], notBefore: contract.starting_at, problems });
  const thresholds = customer
    ? await planThresholds(ctx, { tenantId, customerId: customer.id, contractId: contract.id, rateCardId: contract.rate_card_id, stored: [], changes: thresholdChangesOf(body), problems, now: contract.created_at })
    : [];
  problems.throwIfAny();
  try {
    await inTransaction(ctx, async (txContext) => {
      await repo.insertContract(txContext.db, tenantId, contract);
      await writePlan(txContext, tenantId, plan);
      for (const override of overrides) await repo.insertOverride(txContext.db, tenantId, override);
      for (const threshold of thresholds) await thresholdRepo.upsertThreshold(txContext.db, tenantId, threshold);
      await announceContract(txContext, { tenantId, type: 'contract.create', contract, customer: customer!, at: contract.created_at });
      await signalContractChange(txContext, tenantId, contract.customer_id);
    });
  } catch (error) {
    if (isUniqueViolation(error, 'contracts_uniqueness_key')) throw new Conflict(`A contract with uniqueness_key ${body.uniqueness_key} already exists`);
    throw error;
  }
  return contract.id;
}

/** The id of the customer's billing configuration the contract names (see `billingProviders.contractBillingConfiguration`); null, with its problem, when there is none. */
async function billingConfiguration(
  ctx: ServiceContext,
  { tenantId, customerId, selection, problems }: { tenantId: string; customerId: string; selection: NonNullable<CreateContractBody['billing_provider_configuration']>; problems: Problems },
): Promise<string | null> {
  try {
    return await billingProviders.contractBillingConfiguration(ctx, { tenantId, customerId, selection });
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    problems.addAll(error.problems);
    return null;
  }
}


/** Every credit and commit of a customer, on its contracts and on itself, derived as of now. */
export async function customerBalances(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<account.Balance[]> {
  return (await customerAccount(ctx, { tenantId, customerId })).balances;
}

function views(loaded: LoadedContracts, balances: account.Balance[], thresholds: readonly ThresholdRow[]): ContractView[] {
  return loaded.contracts.map((contract) => ({
    contract,
    subscriptions: loaded.subscriptions.filter((s) => s.contract_id === contract.id),
    // The SDK's read shape holds one amount: the latest, which every period from its change on gets.
    recurringCredits: loaded.recurring.filter((r) => r.contract_id === contract.id && r.kind === 'CREDIT').map((r) => withLatestAmount(r, loaded.amounts)),
    recurringCommits: loaded.recurring.filter((r) => r.contract_id === contract.id && r.kind === 'COMMIT').map((r) => withLatestAmount(r, loaded.amounts)),
    overrides: loaded.overrides.filter((o) => o.contract_id === contract.id),
    balances: balances.filter((b) => b.contractId === contract.id),
    thresholds: thresholds.filter((t) => t.contract_id === contract.id),
  }));
}

/** The ids of a customer's contracts, archived ones included. */
export async function listContractIds(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<string[]> {
  return (await repo.listContracts(ctx.db, tenantId, customerId)).map((c) => c.id);
}

export async function getContract(ctx: ServiceContext, { tenantId, customerId, contractId }: { tenantId: string; customerId: string; contractId: string }): Promise<ContractView> {
  await findCustomerContract(ctx, tenantId, customerId, contractId);
  // Usage on any contract can draw customer-level credits, so balances come from the whole account.
  const account = await customerAccount(ctx, { tenantId, customerId });
  const thresholds = await thresholdRepo.listThresholds(ctx.db, tenantId, customerId);
  return views(account.loaded, account.balances, thresholds).find((view) => view.contract.id === contractId)!;
}

/** One subscription of a customer's contract, with its quantity schedule, as stored: nothing is rated. Undefined when the contract no longer has it. */
export async function findSubscription(
  ctx: ServiceContext,
  { tenantId, customerId, contractId, subscriptionId }: { tenantId: string; customerId: string; contractId: string; subscriptionId: string },
): Promise<Subscription | undefined> {
  const contract = await findCustomerContract(ctx, tenantId, customerId, contractId);
  return (await loadContracts(ctx, tenantId, [contract])).subscriptions.find((subscription) => subscription.id === subscriptionId);
}

/** The customers with a live contract in force at some instant of the window: those a replay of the window has something to bill. */
export async function customersWithContractsDuring(
  ctx: ServiceContext,
  { tenantId, startingAt, endingBefore }: { tenantId: string; startingAt: Date; endingBefore: Date },
): Promise<Set<string>> {
  return new Set(await repo.customersWithContractsDuring(ctx.db, tenantId, startingAt, endingBefore));
}

/**
 * A customer's contracts, oldest first: live ones, or archived ones too with `includeArchived`;
 * `coveringDate` keeps those in force at that instant, `startingAt` those in force at or after it.
 */
export async function listContracts(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    includeArchived,
    coveringDate,
    startingAt,
  }: { tenantId: string; customerId: string; includeArchived: boolean; coveringDate?: Date | undefined; startingAt?: Date | undefined },
): Promise<ContractView[]> {
  await customers.getCustomer(ctx, { tenantId, customerId });
  const account = await customerAccount(ctx, { tenantId, customerId });
  const thresholds = await thresholdRepo.listThresholds(ctx.db, tenantId, customerId);
  return views(account.loaded, account.balances, thresholds).filter(
    ({ contract: c }) =>
      (includeArchived || !c.archived_at) &&
      (!coveringDate || (c.starting_at <= coveringDate && (!c.ending_before || coveringDate < c.ending_before))) &&
      (!startingAt || !c.ending_before || c.ending_before > startingAt),
  );
}

/**
 * A customer's contracts as stored, without balances (cheap: no rating), oldest first: live ones,
 * or archived ones too with `includeArchived`; `coveringDate` keeps those in force at that instant.
 */
export async function listContractRows(
  ctx: ServiceContext,
  { tenantId, customerId, includeArchived, coveringDate }: { tenantId: string; customerId: string; includeArchived: boolean; coveringDate?: Date | undefined },
): Promise<Contract[]> {
  await customers.getCustomer(ctx, { tenantId, customerId });
  return (await repo.listContracts(ctx.db, tenantId, customerId)).filter(
    (c) => (includeArchived || !c.archived_at) && (!coveringDate || (c.starting_at <= coveringDate && (!c.ending_before || coveringDate < c.ending_before))),
  );
}


/**
 * Archives a contract: it leaves lists and its credits stop counting toward balances. With
 * `voidInvoices`, its finalised invoices are voided in the same transaction (the credits they
 * drew stay drawn). Archiving twice changes nothing, except that voiding may be asked for then.
 */
export async function archiveContract(
  ctx: ServiceContext,
  { tenantId, customerId, contractId, voidInvoices = false }: { tenantId: string; customerId: string; contractId: string; voidInvoices?: boolean },
): Promise<void> {
  await inTransaction(ctx, async (txContext) => {
    await findCustomerContract(txContext, tenantId, customerId, contractId, { forUpdate: true });
    await repo.archiveContract(txContext.db, tenantId, contractId, ctx.clock.now());
    if (voidInvoices) await invoices.voidContractInvoices(txContext, { tenantId, contractId });
    await announceAccountChange(txContext, { tenantId, customerIds: [customerId], cause: 'contract' });
  });
}

/** The edits of a contract, oldest first, with the contract as it is now (to describe what each added). */
export async function getEditHistory(
  ctx: ServiceContext,
  { tenantId, customerId, contractId }: { tenantId: string; customerId: string; contractId: string },
): Promise<{ view: ContractView; edits: EditRecord[] }> {
  const view = await getContract(ctx, { tenantId, customerId, contractId });
  const rows = await repo.listEdits(ctx.db, tenantId, contractId);
  // Edits recorded before overrides existed carry no addOverrideIds.
  return {
    view,
    edits: rows.map((row) => {
      const edit = row.edit as unknown as EditRecord;
      return { ...edit, addOverrideIds: edit.addOverrideIds ?? [], timestamp: new Date(row.edit.timestamp as string) };
    }),
  };
}

/**
 * A subscription's quantity over time, each step with the subscription rate's unit price in
 * force at its start and the total (quantity × unit price).
 */
export async function subscriptionQuantityHistory(
  ctx: ServiceContext,
  { tenantId, customerId, contractId, subscriptionId }: { tenantId: string; customerId: string; contractId: string; subscriptionId: string },
): Promise<{ subscriptionId: string; fiatCreditTypeId: string; history: { startingAt: Date; quantity: number; unitPrice: Decimal; total: Decimal }[] }> {
  const contract = await findCustomerContract(ctx, tenantId, customerId, contractId);
  const loaded = await loadContracts(ctx, tenantId, [contract]);
  const subscription = loaded.subscriptions.find((s) => s.id === subscriptionId);
  if (!subscription) throw new NotFound(`No subscription ${subscriptionId} on contract ${contractId}`);
  const rateCard = contract.rate_card_id ? await pricing.findRateCard(ctx, { tenantId, rateCardId: contract.rate_card_id }) : undefined;
  const history = [];
  for (const step of subscription.steps) {
    const rates = contract.rate_card_id
      ? await pricing.ratesInForce(ctx, { tenantId, rateCardId: contract.rate_card_id, at: step.startingAt, productIds: [subscription.product_id] })
      : [];
    const rate = rates.find((r) => pricing.isSeatRate(r) && r.billingFrequency === subscription.billing_frequency);
    const unitPrice = rate?.price ?? new Decimal(0);
    history.push({ startingAt: step.startingAt, quantity: step.quantity, unitPrice, total: unitPrice.mul(step.quantity) });
  }
  return { subscriptionId, fiatCreditTypeId: rateCard?.fiatCreditTypeId ?? pricing.USD_CREDIT_TYPE_ID, history };
}

export type { StoredThreshold, ThresholdKind, ThresholdRow } from './thresholds.js';

/** The threshold configurations of a customer's contracts (archived contracts' included), as stored. */
export async function listThresholdConfigurations(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<ThresholdRow[]> {
  return thresholdRepo.listThresholds(ctx.db, tenantId, customerId);
}

/** Turns a contract's threshold configuration off, in the caller's transaction (a failed payment does); true when it was on. */
export async function disableThresholdConfiguration(
  ctx: ServiceContext,
  { tenantId, contractId, kind, at }: { tenantId: string; contractId: string; kind: thresholdRepo.ThresholdKind; at: Date },
): Promise<boolean> {
  return thresholdRepo.disableThreshold(ctx.db, tenantId, contractId, kind, at);
}

/** Every (tenant, customer) with an enabled threshold configuration, of one tenant or all: what the threshold watcher looks at. */
export async function customersWithEnabledThresholds(ctx: ServiceContext, { tenantId }: { tenantId?: string } = {}): Promise<{ tenantId: string; customerId: string }[]> {
  return (await thresholdRepo.customersWithEnabledThresholds(ctx.db, tenantId)).map((row) => ({ tenantId: row.tenant_id, customerId: row.customer_id }));
}
