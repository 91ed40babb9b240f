import { Semaphore } from 'async-mutex';
import type { ServiceContext } from '../../lib/context.js';
import { databaseWithin } from '../../lib/db/database.js';
import { Conflict, Invalid, NotFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { Decimal, sumExactly } from '../../lib/money.js';
import * as accounts from '../account/service.js';
import * as customers from '../customers/service.js';
import * as pricing from '../pricing/service.js';
import * as usage from '../usage/service.js';
import { decide, type Decision } from './compute/decide.js';
import * as repo from './repo.js';

export type { CapRow, GroupValue } from './repo.js';

/** How long a hold lasts when the request does not say: five minutes. */
export const DEFAULT_HOLD_SECONDS = 300;
/** The longest a hold may last: a day. */
export const MAX_HOLD_SECONDS = 86_400;

export interface CheckRequest {
  tenantId: string;
  customerId: string;
  creditTypeId: string;
  /** An amount of the pricing unit, or an event whose cost in it is checked. */
  cost: { amount: Decimal } | { event: { eventType: string; properties: Readonly<Record<string, unknown>> } };
  /** The groups the spend belongs to (`user_id` = `ada`, `team` = `red`): their caps apply, and a hold counts against them. */
  groupValues?: readonly repo.GroupValue[] | undefined;
  /** Set aside `amount` until the event with this transaction id is ingested, or `holdSeconds` pass. */
  reserve?: { transactionId: string; holdSeconds: number } | undefined;
}

export interface CheckResult extends Decision {
  /** The amount checked: as given, or what the event costs. */
  amount: Decimal;
  holdId?: string;
  holdExpiresAt?: Date;
}

/**
 * The hard-stop check (docs/rules.md, "Keeping within the pool"): may the customer spend `amount`
 * of the pricing unit now? What the customer's live credits and commits of that unit hold now (the
 * balance `getNetBalance` reports, drafts' live deductions included) less its open holds must
 * cover it. With `reserve`, an allowed amount is also held, under the customer's lock, so that
 * concurrent reserves never allow more than the pool: 50 reserves of 1 against a pool of 10 allow
 * exactly 10, on one process or several sharing the database.
 *
 * The open holds are summed before the balance is read: an event ingested in between then counts
 * twice (in the balance and as its hold) for that one check, never not at all.
 */
export async function check(ctx: ServiceContext, request: CheckRequest): Promise<CheckResult> {
  const { tenantId, customerId, creditTypeId } = request;
  await customers.requireCustomer(ctx, { tenantId, customerId });
  if (!(await pricing.findCreditType(ctx, { tenantId, creditTypeId }))) throw new Invalid('credit_type_id', `no pricing unit with id ${creditTypeId}`);
  const amount = 'amount' in request.cost ? request.cost.amount : await costOf(ctx, { tenantId, customerId, creditTypeId, event: request.cost.event });
  return { amount, ...(await checkAmount(ctx, { ...request, amount })) };
}

/**
 * What an event would cost the customer now in the pricing unit: the metrics it matches, rated on
 * the open period as the draft is (`marginalCost`), never below 0. Charges in other units are not
 * this unit's to cover.
 */
async function costOf(
  ctx: ServiceContext,
  { tenantId, customerId, creditTypeId, event }: { tenantId: string; customerId: string; creditTypeId: string; event: { eventType: string; properties: Readonly<Record<string, unknown>> } },
): Promise<Decimal> {
  const additions = await usage.matchEvent(ctx, { tenantId, event });
  if (additions.length === 0) return new Decimal(0);
  const costs = await accounts.marginalCost(ctx, { tenantId, customerId, additions });
  return Decimal.max(costs.get(creditTypeId) ?? 0, 0);
}

type Checked = Omit<CheckRequest, 'cost'> & { amount: Decimal };

async function checkAmount(ctx: ServiceContext, request: Checked): Promise<Omit<CheckResult, 'amount'>> {
  const { tenantId, customerId, creditTypeId, reserve } = request;
  if (!reserve) {
    // The open holds and the balance in one round trip: the holds' statement is the account's barrier.
    const { result: holds, account } = await accounts.accountAfter(ctx, { tenantId, customerId }, (notice) =>
      repo.openHolds(ctx.db, tenantId, customerId, creditTypeId, ctx.clock.now(), notice),
    );
    return decideOn(ctx, request, holds, account);
  }

  const existing = await repo.holdFor(ctx.db, tenantId, reserve.transactionId);
  if (existing && (existing.customer_id !== customerId.toLowerCase() || existing.credit_type_id !== creditTypeId.toLowerCase())) {
    throw new Conflict(`transaction_id: ${reserve.transactionId} already holds an amount for another customer or pricing unit`);
  }
  // The event already came in: its cost is in the balance, and nothing is left to hold for it.
  if (existing?.consumed || (!existing && (await repo.eventIngested(ctx.db, tenantId, reserve.transactionId)))) {
    const holds = await repo.openHolds(ctx.db, tenantId, customerId, creditTypeId, ctx.clock.now());
    const { remaining, reason } = await decideOn(ctx, { ...request, amount: new Decimal(0) }, holds);
    return { allowed: reason === undefined, remaining, ...(reason && { reason }) };
  }

  return reserving.runExclusive(() => ctx.db.transaction(async (tx) => {
    await repo.lockCustomerHolds(tx, tenantId, customerId);
    const now = ctx.clock.now();
    await repo.deleteEndedHolds(tx, tenantId, customerId, now);
    const repeat = await repo.holdFor(tx, tenantId, reserve.transactionId);
    const held = await repo.openHolds(tx, tenantId, customerId, creditTypeId, now);
    // On PostgreSQL the balance is read from committed state through the kept accounts (every
    // reserve before this one has committed its hold: the lock says so); PGlite runs one
    // transaction at a time, so there it is read inside this one.
    const readContext: ServiceContext = ctx.db.engine === 'postgres' ? ctx : { ...ctx, db: databaseWithin(tx, ctx.db.engine) };
    if (repeat) {
      // The same reserve again (a retry): the hold stands, and counts among the open ones already.
      const decision = await decideOn(readContext, { ...request, amount: new Decimal(0) }, held);
      return { allowed: true, remaining: decision.remaining, holdId: repeat.id, holdExpiresAt: repeat.expires_at };
    }
    const decision = await decideOn(readContext, request, held);
    if (!decision.allowed) return decision;
    const hold: repo.HoldRow = {
      id: newId(),
      customer_id: customerId,
      credit_type_id: creditTypeId,
      transaction_id: reserve.transactionId,
      amount: request.amount.toFixed(),
      group_values: [...(request.groupValues ?? [])],
      created_at: now,
      expires_at: new Date(now.getTime() + reserve.holdSeconds * 1000),
    };
    await repo.insertHold(tx, tenantId, hold);
    return { ...decision, holdId: hold.id, holdExpiresAt: hold.expires_at };
  }));
}

/**
 * Reserve transactions of this process at once. Each holds a connection while it waits for the
 * customer's lock and, on PostgreSQL, reads the balance on another: left unbounded, waiting
 * reserves could take every connection of the pool (10 by default) and leave the one holding the
 * lock none to read with.
 */
const reserving = new Semaphore(3);

async function decideOn(
  ctx: ServiceContext,
  request: Checked,
  holds: readonly { amount: string; group_values: repo.GroupValue[] }[],
  read?: accounts.CustomerAccount,
): Promise<Decision> {
  const { tenantId, customerId, creditTypeId, amount, groupValues = [] } = request;
  const account = read ?? (await accounts.customerAccount(ctx, { tenantId, customerId }));
  const now = ctx.clock.now();
  const hasContract = account.loaded.contracts.some(
    (contract) => !contract.archived_at && contract.starting_at <= now && (contract.ending_before === null || now < contract.ending_before),
  );
  const held = sumExactly(holds.map((hold) => new Decimal(hold.amount)));
  const caps = await capsLeft(ctx, { tenantId, customerId, creditTypeId, groupValues, holds });
  return decide({ pool: accounts.spendableBalance(account.current, creditTypeId), held, caps, amount, hasContract });
}

/**
 * What is left of each cap on the groups named: its amount less what the group's usage cost in the
 * unit this billing period (the open period covering now, rated per value of the group's property
 * as the draft is) and less the open holds taken against the group.
 */
async function capsLeft(
  ctx: ServiceContext,
  { tenantId, customerId, creditTypeId, groupValues, holds }: { tenantId: string; customerId: string; creditTypeId: string; groupValues: readonly repo.GroupValue[]; holds: readonly { amount: string; group_values: repo.GroupValue[] }[] },
): Promise<Decimal[]> {
  const caps = await repo.capsOn(ctx.db, tenantId, customerId, creditTypeId, groupValues);
  if (caps.length === 0) return [];
  const spentByKey = await groupSpend(ctx, { tenantId, customerId, creditTypeId, keys: caps.map((cap) => cap.group_key) });
  return caps.map((cap) => {
    const spent = spentByKey.get(cap.group_key)!.get(cap.group_value) ?? new Decimal(0);
    return new Decimal(cap.amount).minus(spent).minus(heldFor(cap, holds));
  });
}

/** What the open holds taken against a cap's group set aside. */
const heldFor = (cap: repo.CapRow, holds: readonly { amount: string; group_values: repo.GroupValue[] }[]) =>
  sumExactly(holds.filter((hold) => hold.group_values.some((group) => group.key === cap.group_key && group.value === cap.group_value)).map((hold) => new Decimal(hold.amount)));

/**
 * What each group's usage cost in the unit this billing period, per group key and value: the open
 * period covering now, rated per value of the key's property as the draft is.
 */
async function groupSpend(
  ctx: ServiceContext,
  { tenantId, customerId, creditTypeId, keys }: { tenantId: string; customerId: string; creditTypeId: string; keys: readonly string[] },
): Promise<Map<string, Map<string, Decimal>>> {
  const now = ctx.clock.now();
  const spentByKey = new Map<string, Map<string, Decimal>>();
  for (const key of new Set(keys)) {
    const spent = new Map<string, Decimal>();
    const periods = await accounts.rateOpenPeriodsFor(ctx, { tenantId, customerId, splitBy: key });
    for (const period of periods) {
      if (!(period.period.startingAt <= now && now < period.period.endingBefore)) continue;
      for (const line of period.lines) {
        if (line.creditTypeId !== creditTypeId || line.splitValue === undefined) continue;
        spent.set(line.splitValue, (spent.get(line.splitValue) ?? new Decimal(0)).add(line.total));
      }
    }
    spentByKey.set(key, spent);
  }
  return spentByKey;
}

/** Where one of a customer's caps stands now: what its group's usage cost this period, and what its open holds set aside. */
export interface CapStanding {
  cap: repo.CapRow;
  spent: Decimal;
  held: Decimal;
}

/** The customer's caps in a unit, each with what its group spent this billing period and holds open (as the check counts them). */
export async function capStandings(ctx: ServiceContext, { tenantId, customerId, creditTypeId }: { tenantId: string; customerId: string; creditTypeId: string }): Promise<CapStanding[]> {
  const caps = (await listCaps(ctx, { tenantId, customerId })).filter((cap) => cap.credit_type_id === creditTypeId);
  if (caps.length === 0) return [];
  const [spentByKey, holds] = await Promise.all([
    groupSpend(ctx, { tenantId, customerId, creditTypeId, keys: caps.map((cap) => cap.group_key) }),
    repo.openHolds(ctx.db, tenantId, customerId, creditTypeId, ctx.clock.now()),
  ]);
  return caps.map((cap) => ({
    cap,
    spent: spentByKey.get(cap.group_key)!.get(cap.group_value) ?? new Decimal(0),
    held: heldFor(cap, holds),
  }));
}

/** Sets the customer's cap on a group's spend per billing period, in a unit (a new cap, or a new amount for it). */
export async function setCap(
  ctx: ServiceContext,
  { tenantId, customerId, creditTypeId, group, amount }: { tenantId: string; customerId: string; creditTypeId: string; group: repo.GroupValue; amount: Decimal },
): Promise<repo.CapRow> {
  await customers.requireCustomer(ctx, { tenantId, customerId });
  if (!(await pricing.findCreditType(ctx, { tenantId, creditTypeId }))) throw new Invalid('credit_type_id', `no pricing unit with id ${creditTypeId}`);
  return repo.upsertCap(ctx.db, tenantId, {
    customer_id: customerId,
    credit_type_id: creditTypeId,
    group_key: group.key,
    group_value: group.value,
    amount: amount.toFixed(),
    updated_at: ctx.clock.now(),
  });
}

/** The customer's caps. */
export async function listCaps(ctx: ServiceContext, { tenantId, customerId }: { tenantId: string; customerId: string }): Promise<repo.CapRow[]> {
  await customers.requireCustomer(ctx, { tenantId, customerId });
  return repo.listCaps(ctx.db, tenantId, customerId);
}

/** Removes a cap; a 404 when there is none. */
export async function removeCap(
  ctx: ServiceContext,
  { tenantId, customerId, creditTypeId, group }: { tenantId: string; customerId: string; creditTypeId: string; group: repo.GroupValue },
): Promise<void> {
  const removed = await repo.deleteCap(ctx.db, tenantId, { customer_id: customerId, credit_type_id: creditTypeId, group_key: group.key, group_value: group.value });
  if (!removed) throw new NotFound(`No cap on ${group.key} = ${group.value} in pricing unit ${creditTypeId} for customer ${customerId}`);
}
