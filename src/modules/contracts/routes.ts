import type * as Shared from '@metronome/sdk/resources/shared';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { fetchPage } from '../../lib/pagination.js';
import { Decimal, wireNumber } from '../../lib/money.js';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import * as pricing from '../pricing/service.js';
import type * as account from '../account/service.js';
import * as balances from './balances.js';
import { namesForViews, toBalance, toOverride, toContractV1, toContractV2, toRecurringGrant, toSubscription, type Names } from './present.js';
import * as balanceSchemas from './balanceSchemas.js';
import * as schemas from './schemas.js';
import * as service from './service.js';
import type { RecurringGrantUpdateRecord } from './ends.js';

/**
 * A recurring grant's update in the edit history, as the SDK reads it: `ending_before` and
 * `access_amount` (`unit_price`, and `quantity` on a grant not linked to a subscription). When the
 * new amount takes effect (the first period starting at or after the edit) is not in that shape.
 */
function toRecurringGrantUpdate(update: RecurringGrantUpdateRecord) {
  return {
    id: update.id,
    ...(update.ending_before !== undefined && { ending_before: update.ending_before }),
    ...(update.access_amount && {
      access_amount: {
        unit_price: wireNumber(new Decimal(update.access_amount.unit_price)),
        ...(update.access_amount.quantity !== undefined && { quantity: wireNumber(new Decimal(update.access_amount.quantity)) }),
      },
    }),
  };
}

const dataOf = (description: string) => z.object({ data: z.unknown().describe(description) });
const pageOf = (description: string) => z.object({ data: z.array(z.unknown()).describe(description), next_page: z.string().nullable() });

function tenant(request: FastifyRequest): string {
  return request.auth.tenantId;
}

/** A page of balances, ordered by id, cut by the body's `limit` and `next_page`. */
async function balancePage<T extends { id: string }>(page: (window: { afterId: string | null; limit: number }) => T[], body: { limit?: number | undefined; next_page?: string | null | undefined }) {
  return fetchPage({ limit: body.limit ?? 25, nextPage: body.next_page ?? undefined }, async (window) => page(window));
}

/** Contracts, subscriptions, seats and balances, at the Metronome paths. */
export function registerContractRoutes(app: App): void {
  const tags = ['contracts'];

  app.post('/v1/contracts/create', { schema: { tags, body: schemas.createContractBody, response: { 200: schemas.idResponse } } }, async (request) => {
    const id = await service.createContract(request.context, { tenantId: tenant(request), body: request.body });
    return { data: { id } };
  });

  const contractViews = async (request: FastifyRequest, views: service.ContractView[], options: { include_balance?: boolean | undefined; include_ledgers?: boolean | undefined }) => {
    const names = await namesForViews(request.context, tenant(request), views);
    const now = request.context.clock.now();
    return views.map((view) => toContractV2(view, now, names, { includeBalance: options.include_balance ?? false, includeLedgers: options.include_ledgers ?? false }));
  };

  for (const version of ['v1', 'v2'] as const) {
    const present = (contract: Shared.ContractV2) => (version === 'v1' ? toContractV1(contract) : contract);
    app.post(
      `/${version}/contracts/get`,
      { schema: { tags, body: schemas.retrieveContractBody, response: { 200: dataOf(version === 'v1' ? 'Contract' : 'ContractV2') } } },
      async (request) => {
        const view = await service.getContract(request.context, { tenantId: tenant(request), customerId: request.body.customer_id, contractId: request.body.contract_id });
        const [contract] = await contractViews(request, [view], request.body);
        return { data: present(contract!) };
      },
    );
    app.post(
      `/${version}/contracts/list`,
      { schema: { tags, body: schemas.listContractsBody, response: { 200: z.object({ data: z.array(z.unknown()) }) } } },
      async (request) => {
        const views = await service.listContracts(request.context, {
          tenantId: tenant(request),
          customerId: request.body.customer_id,
          includeArchived: request.body.include_archived ?? false,
          coveringDate: request.body.covering_date,
          startingAt: request.body.starting_at,
        });
        return { data: (await contractViews(request, views, request.body)).map(present) };
      },
    );
  }

  app.post('/v1/contracts/archive', { schema: { tags, body: schemas.archiveContractBody, response: { 200: schemas.idResponse } } }, async (request) => {
    await service.archiveContract(request.context, {
      tenantId: tenant(request),
      customerId: request.body.customer_id,
      contractId: request.body.contract_id,
      voidInvoices: request.body.void_invoices ?? false,
    });
    return { data: { id: request.body.contract_id } };
  });

  app.post('/v1/contracts/updateEndDate', { schema: { tags, body: schemas.updateEndDateBody, response: { 200: schemas.idResponse } } }, async (request) => {
    await service.updateContractEndDate(request.context, {
      tenantId: tenant(request),
      customerId: request.body.customer_id,
      contractId: request.body.contract_id,
      endingBefore: request.body.ending_before ?? null,
      allowBeforeFinalized: request.body.allow_ending_before_finalized_invoice ?? false,
    });
    return { data: { id: request.body.contract_id } };
  });

  app.post('/v2/contracts/edit', { schema: { tags, body: schemas.editContractBody, response: { 200: schemas.idResponse } } }, async (request) => {
    const id = await service.editContract(request.context, { tenantId: tenant(request), body: request.body });
    return { data: { id } };
  });

  app.post('/v2/contracts/getEditHistory', { schema: { tags, body: schemas.contractRef, response: { 200: z.object({ data: z.array(z.unknown()) }) } } }, async (request) => {
    const { view, edits } = await service.getEditHistory(request.context, {
      tenantId: tenant(request),
      customerId: request.body.customer_id,
      contractId: request.body.contract_id,
    });
    const names = await namesForViews(request.context, tenant(request), [view]);
    const now = request.context.clock.now();
    const pick = <T extends { id: string }>(items: T[], ids: string[]) => items.filter((item) => ids.includes(item.id));
    const options = { includeBalance: false, includeLedgers: false };
    return {
      data: edits.map((edit) => ({
        id: edit.id,
        timestamp: toRfc3339(edit.timestamp),
        ...(edit.uniquenessKey && { uniqueness_key: edit.uniquenessKey }),
        ...(edit.addSubscriptionIds.length && { add_subscriptions: pick(view.subscriptions, edit.addSubscriptionIds).map((s) => toSubscription(s, now, names)) }),
        ...(edit.addRecurringCreditIds.length && { add_recurring_credits: pick(view.recurringCredits, edit.addRecurringCreditIds).map((r) => toRecurringGrant(r, names)) }),
        ...(edit.addRecurringCommitIds.length && { add_recurring_commits: pick(view.recurringCommits, edit.addRecurringCommitIds).map((r) => toRecurringGrant(r, names)) }),
        ...(edit.addCreditIds.length && { add_credits: pick(view.balances, edit.addCreditIds).map((b) => toBalance(b, names, options)) }),
        ...(edit.addCommitIds.length && { add_commits: pick(view.balances, edit.addCommitIds).map((b) => toBalance(b, names, options)) }),
        ...(edit.addOverrideIds.length && { add_overrides: pick(view.overrides, edit.addOverrideIds).map((o) => toOverride(o, names)) }),
        ...(edit.updateSubscriptions.length && { update_subscriptions: edit.updateSubscriptions }),
        ...(edit.updateContractName !== undefined && { update_contract_name: edit.updateContractName }),
        ...(edit.updateContractEndDate !== undefined && { update_contract_end_date: edit.updateContractEndDate }),
        ...(edit.updateRecurringCredits && { update_recurring_credits: edit.updateRecurringCredits.map(toRecurringGrantUpdate) }),
        ...(edit.updateRecurringCommits && { update_recurring_commits: edit.updateRecurringCommits.map(toRecurringGrantUpdate) }),
      })),
    };
  });

  app.post(
    '/v1/contracts/getSubscriptionQuantityHistory',
    { schema: { tags, body: schemas.quantityHistoryBody, response: { 200: dataOf('subscription_id, fiat_credit_type_id and history') } } },
    async (request) => {
      const result = await service.subscriptionQuantityHistory(request.context, {
        tenantId: tenant(request),
        customerId: request.body.customer_id,
        contractId: request.body.contract_id,
        subscriptionId: request.body.subscription_id,
      });
      return {
        data: {
          subscription_id: result.subscriptionId,
          fiat_credit_type_id: result.fiatCreditTypeId,
          history: result.history.map((step) => ({
            starting_at: toRfc3339(step.startingAt),
            data: [{ quantity: step.quantity, unit_price: wireNumber(step.unitPrice), total: wireNumber(step.total) }],
          })),
        },
      };
    },
  );

  const presentBalances = (rows: account.Balance[], names: Names, body: { include_balance?: boolean | undefined; include_ledgers?: boolean | undefined }) =>
    rows.map((b) => toBalance(b, names, { includeBalance: body.include_balance ?? false, includeLedgers: body.include_ledgers ?? false }));
  const windowOf = (body: { covering_date?: Date | undefined; starting_at?: Date | undefined; effective_before?: Date | undefined; include_archived?: boolean | undefined }) => ({
    coveringDate: body.covering_date,
    startingAt: body.starting_at,
    effectiveBefore: body.effective_before,
    includeArchived: body.include_archived,
  });

  // Balance reads are the hot read path: they reuse an API key's lookup for a few seconds (see http/auth.ts).
  app.post('/v1/contracts/customerBalances/list', { config: { cachedAuth: true }, schema: { tags, body: balanceSchemas.listBalancesBody, response: { 200: pageOf('Credit or Commit') } } }, async (request) => {
    const body = request.body;
    const { page: matching, names } = await balances.listBalances(request.context, {
      tenantId: tenant(request),
      customerId: body.customer_id,
      query: {
        id: body.id,
        ...windowOf(body),
        // Contract-level balances are what pooled seat credits are, so they are listed unless excluded.
        includeContractBalances: body.include_contract_balances ?? true,
        excludeZeroBalances: body.exclude_zero_balances,
      },
    });
    const page = await balancePage(matching, body);
    return { data: presentBalances(page.rows, names, body), next_page: page.nextPage };
  });

  app.post(
    '/v1/contracts/customerBalances/getNetBalance',
    { config: { cachedAuth: true }, schema: { tags, body: balanceSchemas.netBalanceBody, response: { 200: z.object({ data: z.object({ balance: z.number(), credit_type_id: z.string() }) }) } } },
    async (request) => {
      const creditTypeId = request.body.credit_type_id ?? pricing.USD_CREDIT_TYPE_ID;
      const balance = await balances.netBalance(request.context, {
        tenantId: tenant(request),
        customerId: request.body.customer_id,
        creditTypeId,
        filters: request.body.filters,
        invoiceInclusionMode: request.body.invoice_inclusion_mode,
      });
      return { data: { balance: wireNumber(balance), credit_type_id: creditTypeId } };
    },
  );

  app.post('/v1/contracts/addManualBalanceLedgerEntry', { schema: { tags, body: balanceSchemas.manualEntryBody } }, async (request, reply) => {
    const body = request.body;
    await balances.addManualBalanceEntry(request.context, {
      tenantId: tenant(request),
      customerId: body.customer_id,
      contractId: body.contract_id,
      entry: { grantId: body.id, segmentId: body.segment_id, amount: body.amount, reason: body.reason, timestamp: body.timestamp },
    });
    return reply.code(200).send();
  });

  for (const [kind, path, createBody, listBody, idField, includeContractField] of [
    ['CREDIT', 'customerCredits', schemas.createCustomerCreditBody, balanceSchemas.listCustomerCreditsBody, 'credit_id', 'include_contract_credits'],
    ['COMMIT', 'customerCommits', schemas.createCustomerCommitBody, balanceSchemas.listCustomerCommitsBody, 'commit_id', 'include_contract_commits'],
  ] as const) {
    app.post(`/v1/contracts/${path}/create`, { schema: { tags, body: createBody, response: { 200: schemas.idResponse } } }, async (request) => {
      const { customer_id, applicable_contract_ids, ...input } = request.body;
      const id = await balances.createCustomerGrant(request.context, {
        tenantId: tenant(request),
        customerId: customer_id,
        kind,
        input,
        applicableContractIds: applicable_contract_ids ?? null,
      });
      return { data: { id } };
    });
    app.post(`/v1/contracts/${path}/list`, { schema: { tags, body: listBody, response: { 200: pageOf(kind === 'CREDIT' ? 'Credit' : 'Commit') } } }, async (request) => {
      const body = request.body as z.infer<typeof balanceSchemas.listCustomerCreditsBody> & z.infer<typeof balanceSchemas.listCustomerCommitsBody>;
      const { page: matching, names } = await balances.listBalances(request.context, {
        tenantId: tenant(request),
        customerId: body.customer_id,
        query: {
          id: body[idField],
          kinds: [kind],
          ...windowOf(body),
          includeContractBalances: body[includeContractField] ?? false,
        },
      });
      const page = await balancePage(matching, body);
      return { data: presentBalances(page.rows, names, body), next_page: page.nextPage };
    });
  }
}
