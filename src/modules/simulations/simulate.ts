import type { ServiceContext } from '../../lib/context.js';
import { Invalid } from '../../lib/errors.js';
import type { Decimal } from '../../lib/money.js';
import { isSeatRate, USD_CREDIT_TYPE_ID } from '../pricing/service.js';
import { replayAccount, type Replay, type ReplayScenario } from '../account/service.js';
import { finalizedTotalOf } from '../invoices/service.js';
import { replayOutcome } from './compute/outcome.js';
import { scenarioRates, type Scenario } from './compute/scenario.js';
import type { SimulationRequest } from './request.js';

/** One customer's result: the replay under the current terms (actual) and under the scenario (simulated). */
export interface CustomerResult {
  customerId: string;
  creditTypeId: string;
  actualTotal: Decimal;
  simulatedTotal: Decimal;
  creditsBurnedActual: Decimal;
  creditsBurnedSimulated: Decimal;
  runsOutAtActual: Date | null;
  runsOutAtSimulated: Date | null;
  crossesPoolSimulated: boolean;
  /** The pool of `creditTypeId` at the window's start, each midnight and its end (or now): remaining now and simulated (null: no pool then). */
  burnDown: { at: Date; actualRemaining: Decimal | null; simulatedRemaining: Decimal | null }[];
}

/** The scenario as the account engine takes it: the rate card, each period's rates changed, and the credits per seat. */
export function replayScenarioOf(scenario: Scenario): ReplayScenario | undefined {
  const changesRates = scenario.rateChanges.length > 0 || scenario.seatPrice !== null;
  if (!scenario.rateCardId && !changesRates && scenario.creditsPerSeat === null) return undefined;
  return {
    rateCardId: scenario.rateCardId ?? undefined,
    rates: changesRates ? (rates, period) => scenarioRates(scenario, rates, period, isSeatRate) : undefined,
    pooledUnitPrice: scenario.creditsPerSeat ?? undefined,
  };
}

/**
 * Replays one customer's stored usage over the request's window twice with the account engine —
 * as its contracts stand, and under the scenario — and compares them (see the module README). Reads only.
 */
export async function simulateCustomer(ctx: ServiceContext, { tenantId, customerId, request }: { tenantId: string; customerId: string; request: SimulationRequest }): Promise<CustomerResult> {
  const window = { tenantId, customerId, from: request.startingOn, to: request.endingBefore };
  const [actual, simulated] = await Promise.all([replayAccount(ctx, window), replayAccount(ctx, { ...window, scenario: replayScenarioOf(request.scenario) })]);
  checkConversions(simulated, request.scenario);
  const creditTypeId = request.creditTypeId ?? defaultCreditType(actual);
  const span = { from: request.startingOn, to: request.endingBefore };
  const before = outcomeOf(actual, creditTypeId, span);
  const after = outcomeOf(simulated, creditTypeId, span);
  return {
    customerId,
    creditTypeId,
    actualTotal: before.total,
    simulatedTotal: after.total,
    creditsBurnedActual: before.creditsBurned,
    creditsBurnedSimulated: after.creditsBurned,
    runsOutAtActual: before.runsOutAt,
    runsOutAtSimulated: after.runsOutAt,
    crossesPoolSimulated: after.crossesPool,
    burnDown: before.burnDown.map((point, index) => ({ at: point.at, actualRemaining: point.remaining, simulatedRemaining: after.burnDown[index]?.remaining ?? null })),
  };
}

function outcomeOf({ account, asOf, open }: Replay, creditTypeId: string, window: { from: Date; to: Date }) {
  const held = new Map(account.current.flatMap((balance) => balance.segments.map((segment) => [segment.id, segment.ledger.held] as const)));
  return replayOutcome({ drafts: account.drafts, invoiceTotals: account.drafts.map((draft) => finalizedTotalOf(draft, held)), balances: account.current, creditTypeId, asOf, open, window });
}

/** The customer's pooled credit's pricing unit; else its first credit's or commit's; else its rate card's fiat unit. */
function defaultCreditType({ account }: Replay): string {
  const pooled = account.loaded.sources.find((recurring) => recurring.terms.subscriptionConfig?.allocation === 'POOLED');
  return pooled?.terms.creditTypeId ?? account.current[0]?.creditTypeId ?? account.drafts[0]?.rateCard.fiatCreditTypeId ?? USD_CREDIT_TYPE_ID;
}

/** A rate change in a custom unit that a contract's rate card does not convert cannot be billed: a 400 naming it, as adding the rate to that card would be. */
function checkConversions({ account }: Replay, scenario: Scenario): void {
  for (const draft of account.drafts) {
    const converted = new Set([draft.rateCard.fiatCreditTypeId, ...draft.rateCard.creditTypeConversions.map((conversion) => conversion.customCreditTypeId)]);
    for (const line of draft.lines) {
      if (converted.has(line.creditTypeId)) continue;
      const index = scenario.rateChanges.findIndex((change) => change.productId === line.productId && change.creditTypeId === line.creditTypeId);
      throw new Invalid(index >= 0 ? `rate_changes.${index}.credit_type_id` : 'rate_card_id', `the rate card ${draft.rateCard.name} has no conversion for ${line.creditTypeId}`);
    }
  }
}
