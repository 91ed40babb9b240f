import type { ServiceContext } from '../../lib/context.js';
import type { Problems } from '../../lib/errors.js';
import { wireNumber, Decimal } from '../../lib/money.js';
import * as pricing from '../pricing/service.js';
import * as billingProviders from '../billingProviders/service.js';
import { checkProduct } from './plan.js';
import type { StoredThreshold, ThresholdKind, ThresholdRow } from './thresholdRepo.js';
import type {
  PaymentGateConfigInput,
  PrepaidBalanceThresholdInput,
  PrepaidBalanceThresholdUpdate,
  SpendThresholdInput,
  SpendThresholdUpdate,
} from './thresholdSchemas.js';

/**
 * A contract's threshold configurations (docs/rules.md rules 30–31): what a create or an edit sets,
 * merged over what is stored, checked against the catalog and the customer's billing provider,
 * and shown on retrieve in the SDK's shape. The watcher that acts on them is the `thresholds`
 * module's.
 */

/** What one request asks of one kind: a new configuration (`add_…`, or on create), or a change to the stored one (`update_…`). */
export type ThresholdChange =
  | { kind: 'PREPAID_BALANCE'; field: string; add: PrepaidBalanceThresholdInput }
  | { kind: 'PREPAID_BALANCE'; field: string; update: PrepaidBalanceThresholdUpdate }
  | { kind: 'SPEND'; field: string; add: SpendThresholdInput }
  | { kind: 'SPEND'; field: string; update: SpendThresholdUpdate };

/** The changes a create or an edit body asks for, with the field each is named by. */
export function thresholdChangesOf(body: {
  prepaid_balance_threshold_configuration?: PrepaidBalanceThresholdInput | undefined;
  spend_threshold_configuration?: SpendThresholdInput | undefined;
  add_prepaid_balance_threshold_configuration?: PrepaidBalanceThresholdInput | undefined;
  update_prepaid_balance_threshold_configuration?: PrepaidBalanceThresholdUpdate | undefined;
  add_spend_threshold_configuration?: SpendThresholdInput | undefined;
  update_spend_threshold_configuration?: SpendThresholdUpdate | undefined;
}): ThresholdChange[] {
  const changes: ThresholdChange[] = [];
  const prepaidAdd = body.prepaid_balance_threshold_configuration ?? body.add_prepaid_balance_threshold_configuration;
  const prepaidField = body.prepaid_balance_threshold_configuration ? 'prepaid_balance_threshold_configuration' : 'add_prepaid_balance_threshold_configuration';
  if (prepaidAdd) changes.push({ kind: 'PREPAID_BALANCE', field: prepaidField, add: prepaidAdd });
  if (body.update_prepaid_balance_threshold_configuration) {
    changes.push({ kind: 'PREPAID_BALANCE', field: 'update_prepaid_balance_threshold_configuration', update: body.update_prepaid_balance_threshold_configuration });
  }
  const spendAdd = body.spend_threshold_configuration ?? body.add_spend_threshold_configuration;
  const spendField = body.spend_threshold_configuration ? 'spend_threshold_configuration' : 'add_spend_threshold_configuration';
  if (spendAdd) changes.push({ kind: 'SPEND', field: spendField, add: spendAdd });
  if (body.update_spend_threshold_configuration) changes.push({ kind: 'SPEND', field: 'update_spend_threshold_configuration', update: body.update_spend_threshold_configuration });
  return changes;
}

function gateOf(gate: PaymentGateConfigInput): StoredThreshold['payment_gate_config'] {
  return {
    payment_gate_type: gate.payment_gate_type as 'NONE' | 'STRIPE',
    ...(gate.stripe_config && { stripe_config: { payment_type: 'INVOICE' as const, ...(gate.stripe_config.invoice_metadata && { invoice_metadata: gate.stripe_config.invoice_metadata }) } }),
    ...(gate.tax_type && { tax_type: 'NONE' as const }),
  };
}

/** Sets `key` to `value`, or removes it when `value` is null; leaves it when undefined. */
function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | null | undefined): void {
  if (value === null) delete target[key];
  else if (value !== undefined) target[key] = value;
}

/** The configuration a change leaves: the added one, or the stored one with the update's fields over it. */
function merged(change: ThresholdChange, stored: ThresholdRow | undefined): { configuration: StoredThreshold; isEnabled: boolean } | undefined {
  if ('add' in change) {
    const input = change.add;
    const commit: StoredThreshold['commit'] = { product_id: input.commit.product_id };
    assign(commit, 'name', input.commit.name);
    assign(commit, 'description', input.commit.description);
    assign(commit, 'priority', input.commit.priority?.toFixed());
    if ('applicable_product_ids' in input.commit) {
      assign(commit, 'applicable_product_ids', input.commit.applicable_product_ids);
      assign(commit, 'applicable_product_tags', input.commit.applicable_product_tags);
    }
    const configuration: StoredThreshold = { commit, payment_gate_config: gateOf(input.payment_gate_config), threshold_amount: input.threshold_amount.toFixed() };
    if (change.kind === 'PREPAID_BALANCE') {
      configuration.recharge_to_amount = change.add.recharge_to_amount.toFixed();
      assign(configuration, 'custom_credit_type_id', change.add.custom_credit_type_id);
    }
    return { configuration, isEnabled: input.is_enabled };
  }
  if (!stored) return undefined;
  const update = change.update;
  const configuration: StoredThreshold = structuredClone(stored.configuration);
  if (update.commit) {
    assign(configuration.commit, 'product_id', update.commit.product_id);
    assign(configuration.commit, 'name', update.commit.name);
    assign(configuration.commit, 'description', update.commit.description);
    assign(configuration.commit, 'priority', update.commit.priority === null ? null : update.commit.priority?.toFixed());
    if ('applicable_product_ids' in update.commit) {
      assign(configuration.commit, 'applicable_product_ids', update.commit.applicable_product_ids);
      assign(configuration.commit, 'applicable_product_tags', update.commit.applicable_product_tags);
    }
  }
  if (update.payment_gate_config) configuration.payment_gate_config = gateOf(update.payment_gate_config);
  if (update.threshold_amount) configuration.threshold_amount = update.threshold_amount.toFixed();
  if (change.kind === 'PREPAID_BALANCE') {
    assign(configuration, 'recharge_to_amount', change.update.recharge_to_amount?.toFixed());
    assign(configuration, 'custom_credit_type_id', change.update.custom_credit_type_id);
  }
  return { configuration, isEnabled: update.is_enabled ?? stored.is_enabled };
}

/**
 * The rows a create or an edit writes for its threshold changes, every problem named in
 * `problems`: an `add_…` where the contract has one already, an `update_…` where it has none, a
 * recharge-to amount not above the threshold (after an update merges), the commit's product (a
 * live FIXED product) and applicable products, the pricing unit, and, for a STRIPE gate, the
 * customer's live Stripe configuration (and, in a custom unit, the rate card's conversion to
 * fiat, which is what Stripe charges).
 */
export async function planThresholds(
  ctx: ServiceContext,
  {
    tenantId,
    customerId,
    contractId,
    rateCardId,
    stored,
    changes,
    problems,
    now,
  }: { tenantId: string; customerId: string; contractId: string; rateCardId: string | null; stored: readonly ThresholdRow[]; changes: readonly ThresholdChange[]; problems: Problems; now: Date },
): Promise<ThresholdRow[]> {
  const rows: ThresholdRow[] = [];
  for (const change of changes) {
    const existing = stored.find((row) => row.kind === change.kind);
    const noun = change.kind === 'PREPAID_BALANCE' ? 'prepaid_balance_threshold_configuration' : 'spend_threshold_configuration';
    if ('add' in change && existing) {
      problems.add(change.field, `the contract has a ${noun} already; change it with update_${noun}`);
      continue;
    }
    const result = merged(change, existing);
    if (!result) {
      problems.add(change.field, `the contract has no ${noun} to update; add one with add_${noun}`);
      continue;
    }
    const { configuration } = result;
    const prefix = `${change.field}.`;
    if (configuration.recharge_to_amount !== undefined && !new Decimal(configuration.recharge_to_amount).gt(configuration.threshold_amount)) {
      problems.add(`${prefix}recharge_to_amount`, `must be greater than threshold_amount (${configuration.threshold_amount})`);
    }
    const commit = configuration.commit;
    const products = await pricing.findProducts(ctx, { tenantId, productIds: [commit.product_id, ...(commit.applicable_product_ids ?? [])] });
    checkProduct(problems, products, `${prefix}commit.product_id`, commit.product_id, 'FIXED');
    (commit.applicable_product_ids ?? []).forEach((productId, i) => checkProduct(problems, products, `${prefix}commit.applicable_product_ids.${i}`, productId));
    const unit = configuration.custom_credit_type_id;
    const unitKnown = unit === undefined || problems.check((await pricing.findCreditType(ctx, { tenantId, creditTypeId: unit })) !== undefined, `${prefix}custom_credit_type_id`, `no pricing unit with id ${unit}`);
    if (configuration.payment_gate_config.payment_gate_type === 'STRIPE') {
      const configurations = await billingProviders.listConfigurations(ctx, { tenantId, customerId, includeArchived: false });
      problems.check(
        configurations.some((row) => row.billing_provider === 'stripe'),
        `${prefix}payment_gate_config.payment_gate_type`,
        `STRIPE needs a live Stripe billing provider configuration on customer ${customerId}; set one first`,
      );
      if (unit !== undefined && unitKnown) {
        const card = rateCardId ? await pricing.findRateCard(ctx, { tenantId, rateCardId }) : undefined;
        problems.check(
          card?.creditTypeConversions.some((conversion) => conversion.customCreditTypeId === unit) ?? false,
          `${prefix}custom_credit_type_id`,
          `STRIPE charges fiat: the contract's rate card needs a conversion of ${unit} to fiat (fiat_per_custom_credit)`,
        );
      }
    }
    rows.push({
      contract_id: contractId,
      customer_id: customerId,
      kind: change.kind,
      is_enabled: result.isEnabled,
      configuration,
      created_at: existing?.created_at ?? now,
      updated_at: now,
    });
  }
  return rows;
}

/** A stored configuration in the SDK's response shape (`prepaid_balance_threshold_configuration`, `spend_threshold_configuration`). */
export function toThresholdConfiguration(row: ThresholdRow): Record<string, unknown> {
  const { commit, payment_gate_config, threshold_amount, recharge_to_amount, custom_credit_type_id } = row.configuration;
  return {
    commit: { ...commit, ...(commit.priority !== undefined && { priority: wireNumber(new Decimal(commit.priority)) }) },
    is_enabled: row.is_enabled,
    payment_gate_config,
    threshold_amount: wireNumber(new Decimal(threshold_amount)),
    ...(recharge_to_amount !== undefined && { recharge_to_amount: wireNumber(new Decimal(recharge_to_amount)) }),
    ...(custom_credit_type_id !== undefined && { custom_credit_type_id }),
  };
}

/** The two response fields of a contract, from its stored configurations. */
export function thresholdFieldsOf(rows: readonly ThresholdRow[]): Record<string, unknown> {
  const prepaid = rows.find((row) => row.kind === 'PREPAID_BALANCE');
  const spend = rows.find((row) => row.kind === 'SPEND');
  return {
    ...(prepaid && { prepaid_balance_threshold_configuration: toThresholdConfiguration(prepaid) }),
    ...(spend && { spend_threshold_configuration: toThresholdConfiguration(spend) }),
  };
}

export type { StoredThreshold, ThresholdKind, ThresholdRow };
