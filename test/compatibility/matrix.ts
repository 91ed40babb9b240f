/**
 * What Allot does with each call of `@metronome/sdk` and with each request field of the core
 * calls. `docs/metronome-compatibility.md` is generated from this file (`npm run compat`), and
 * `matrix.test.ts` holds it to the SDK and to a running server: every SDK method and every field
 * of a core call must have an entry here, a method marked `not built` must answer 404 (or the
 * status given), and a field marked `refused` must be a 400 that names it.
 *
 * One entry a method or field: when a feature lands, change its entry and run `npm run compat`.
 */

/** `client`: the method makes no request (it verifies a webhook on the caller's side). */
export type MethodStatus = 'supported' | 'partial' | 'not built' | 'client';

export interface MethodEntry {
  status: MethodStatus;
  /** What is missing (`partial`), how it answers, or where the rules are. */
  note?: string;
  /** A `not built` method's status code when it is not 404. */
  answers?: number;
}

/**
 * `refused`: a 400 naming the field (what it holds is then not listed). `ignored`: accepted and
 * without effect: a bug, allowed only while it is in `knownGaps`.
 */
export type FieldStatus = 'supported' | 'partial' | 'refused' | 'ignored';

export interface FieldEntry {
  status: FieldStatus;
  note?: string;
}

export interface CoreCall {
  /** The SDK's params type, under the package's default export: `V1.ContractCreateParams`. */
  params: string;
  /** Every request field, dotted, `[]` for an array's items: `commits[].access_schedule.credit_type_id`. */
  fields: Record<string, FieldEntry>;
}

const supported = (note?: string): FieldEntry => ({ status: 'supported', ...(note && { note }) });
const partial = (note: string): FieldEntry => ({ status: 'partial', note });
const refused = (note?: string): FieldEntry => ({ status: 'refused', ...(note && { note }) });
const ignored = (note: string): FieldEntry => ({ status: 'ignored', note });

const built = (note?: string): MethodEntry => ({ status: 'supported', ...(note && { note }) });
const partly = (note: string): MethodEntry => ({ status: 'partial', note });
const notBuilt = (note?: string, answers?: number): MethodEntry => ({ status: 'not built', ...(note && { note }), ...(answers && { answers }) });

/**
 * The fields of an array's items, a shape the SDK repeats (contract create's `credits[]`, edit's
 * `add_credits[]`): the entry keyed `''` is the array itself.
 */
function items(array: string, fields: Record<string, FieldEntry>): Record<string, FieldEntry> {
  return Object.fromEntries(Object.entries(fields).map(([name, entry]) => [name === '' ? array : `${array}[].${name}`, entry]));
}

/** The fields of an object the SDK repeats under several names (`prepaid_balance_threshold_configuration`, `add_…`): the entry keyed `''` is the object itself. */
function under(object: string, fields: Record<string, FieldEntry>): Record<string, FieldEntry> {
  return Object.fromEntries(Object.entries(fields).map(([name, entry]) => [name === '' ? object : `${object}.${name}`, entry]));
}

/** Auto top-up (docs/rules.md rule 30): `prepaid_balance_threshold_configuration` on create, `add_…` and `update_…` on an edit. */
const prepaidThresholdFields: Record<string, FieldEntry> = {
  '': supported('auto top-up: at or below threshold_amount, one commit brings the balance back to recharge_to_amount (docs/rules.md rule 30)'),
  'commit': supported(),
  'commit.applicable_product_ids': supported(),
  'commit.applicable_product_tags': supported(),
  'commit.description': supported(),
  'commit.name': supported(),
  'commit.priority': supported('default 100'),
  'commit.product_id': supported('a FIXED product'),
  'commit.specifiers': refused(),
  'custom_credit_type_id': supported('STRIPE charges it at the rate card’s conversion to fiat'),
  'discount_configuration': refused(),
  'is_enabled': supported('a declined payment turns it off; turning it on evaluates at once'),
  'payment_gate_config': supported(),
  'payment_gate_config.payment_gate_type': partial('NONE and STRIPE (an invoice paid in Stripe before the commit is released); EXTERNAL is refused'),
  'payment_gate_config.precalculated_tax_config': refused(),
  'payment_gate_config.stripe_config': supported(),
  'payment_gate_config.stripe_config.invoice_metadata': supported('on the Stripe invoice'),
  'payment_gate_config.stripe_config.payment_type': partial('INVOICE; PAYMENT_INTENT is refused'),
  'payment_gate_config.tax_type': partial('NONE; Allot calculates no tax'),
  'recharge_to_amount': supported('greater than threshold_amount'),
  'threshold_amount': supported(),
  'threshold_balance_specifiers': refused(),
};

/** Threshold billing (docs/rules.md rule 31): `spend_threshold_configuration` on create, `add_…` and `update_…` on an edit. */
const spendThresholdFields: Record<string, FieldEntry> = {
  '': supported('threshold billing: once the period’s unpaid spend reaches threshold_amount, a SCHEDULED invoice and a commit pay it, and the spend starts again (docs/rules.md rule 31)'),
  'commit': supported(),
  'commit.description': supported(),
  'commit.name': supported('the invoice line’s name'),
  'commit.priority': supported('default 100'),
  'commit.product_id': supported('a FIXED product'),
  'discount_configuration': refused(),
  'is_enabled': supported('a declined payment turns it off; turning it on evaluates at once'),
  'payment_gate_config': supported(),
  'payment_gate_config.payment_gate_type': partial('NONE and STRIPE (the invoice paid in Stripe before the commit is released); EXTERNAL is refused'),
  'payment_gate_config.precalculated_tax_config': refused(),
  'payment_gate_config.stripe_config': supported(),
  'payment_gate_config.stripe_config.invoice_metadata': supported('on the Stripe invoice'),
  'payment_gate_config.stripe_config.payment_type': partial('INVOICE; PAYMENT_INTENT is refused'),
  'payment_gate_config.tax_type': partial('NONE; Allot calculates no tax'),
  'threshold_amount': supported('in the contract’s fiat unit, greater than 0'),
};

/** What a contract's read shape lacks since contracts can name a billing provider configuration. */
const NO_PROVIDER_SHOWN = 'customer_billing_provider_configuration (the configuration the contract was created with) is not shown';

export const methods: Record<string, MethodEntry> = {
  'v1.alerts.archive': built(),
  'v1.alerts.create': partly('six alert types are evaluated (low_remaining_seat_balance_reached with seat_filter: one state per seat); spend alerts take up to 3 group_values entries; alert specifiers and filters are refused (fields below)'),
  'v1.auditLogs.list': notBuilt(),
  'v1.billableMetrics.archive': built(),
  'v1.billableMetrics.create': partly('no SQL metrics; a COUNT metric with an aggregation_key is refused'),
  'v1.billableMetrics.list': built(),
  'v1.billableMetrics.retrieve': built(),
  'v1.contracts.addManualBalanceEntry': built('on one segment: a seat’s own credit (INDIVIDUAL) is a segment of its own, so per_group_amounts is refused as an unknown field'),
  'v1.contracts.amend': notBuilt('v1 contracts have no amendments; edit with v2.contracts.edit'),
  'v1.contracts.archive': built('void_invoices: true voids the contract’s finalised invoices (Stripe voids its copies); what they drew from credits stays drawn'),
  'v1.contracts.create': partly('subscriptions, recurring and one-off credits and commits, overrides, a Stripe billing provider configuration; fields below'),
  'v1.contracts.createHistoricalInvoices': notBuilt(),
  'v1.contracts.getNetBalance': built('invoice_inclusion_mode FINALIZED_AND_DRAFT (the default) or FINALIZED'),
  'v1.contracts.getSubscriptionSeatsHistory': built('SEAT_BASED subscriptions: one entry per instant the seats changed; covering_date or a range; pages of at most 10 (docs/rules.md rule 28)'),
  'v1.contracts.list': partly(`no amendments; ${NO_PROVIDER_SHOWN}`),
  'v1.contracts.listBalances': built('includes contract-level balances unless include_contract_balances is false; a seat’s own credit is listed with an extra seat_id (docs/rules.md rule 29)'),
  'v1.contracts.listSeatBalances': partly('per seat id ever assigned, by id: each seat’s own credits and commits covering covering_date (default now) or in starting_at/effective_before, balance and starting balance per pricing unit; pages of limit seats (the 100 credits-and-commits cap is not applied) (docs/rules.md rule 29)'),
  'v1.contracts.namedSchedules.retrieve': notBuilt(),
  'v1.contracts.namedSchedules.update': notBuilt(),
  'v1.contracts.products.archive': built(),
  'v1.contracts.products.create': partly('USAGE, SUBSCRIPTION and FIXED products; COMPOSITE and professional-service products, NetSuite, refundability and quantity conversion or rounding are refused'),
  'v1.contracts.products.list': built(),
  'v1.contracts.products.retrieve': built(),
  'v1.contracts.products.update': partly('the same fields as create are refused'),
  'v1.contracts.rateCards.archive': notBuilt(),
  'v1.contracts.rateCards.create': partly('aliases are refused'),
  'v1.contracts.rateCards.list': built(),
  'v1.contracts.rateCards.namedSchedules.retrieve': notBuilt(),
  'v1.contracts.rateCards.namedSchedules.update': notBuilt(),
  'v1.contracts.rateCards.productOrders.set': notBuilt(),
  'v1.contracts.rateCards.productOrders.update': notBuilt(),
  'v1.contracts.rateCards.rates.add': partly('FLAT, SUBSCRIPTION and TIERED (graduated) rates; fields below'),
  'v1.contracts.rateCards.rates.addMany': partly('as rates.add'),
  'v1.contracts.rateCards.rates.list': built(),
  'v1.contracts.rateCards.retrieve': built(),
  'v1.contracts.rateCards.retrieveRateSchedule': notBuilt('rates.list answers the rates in force at an instant'),
  'v1.contracts.rateCards.update': partly('aliases are refused'),
  'v1.contracts.retrieve': partly(`no amendments; ${NO_PROVIDER_SHOWN}`),
  'v1.contracts.retrieveRateSchedule': notBuilt(),
  'v1.contracts.retrieveSubscriptionQuantityHistory': built(),
  'v1.contracts.scheduleProServicesInvoice': notBuilt(),
  'v1.contracts.setUsageFilter': notBuilt(),
  'v1.contracts.updateEndDate': partly('the end moves only where nothing billed changes (contracts README rule 10); allow_ending_before_finalized_invoice defaults to false (Metronome: true)'),
  'v1.creditGrants.create': notBuilt('plan-era credit grants; contracts carry credits'),
  'v1.creditGrants.edit': notBuilt('plan-era credit grants'),
  'v1.creditGrants.list': notBuilt('plan-era credit grants'),
  'v1.creditGrants.listEntries': notBuilt('plan-era credit grants'),
  'v1.creditGrants.void': notBuilt('plan-era credit grants'),
  'v1.customFields.addKey': notBuilt('custom fields are set in the create calls'),
  'v1.customFields.deleteValues': notBuilt(),
  'v1.customFields.listKeys': notBuilt(),
  'v1.customFields.removeKey': notBuilt(),
  'v1.customFields.setValues': notBuilt(),
  'v1.customers.alerts.list': built(),
  'v1.customers.alerts.reset': built(),
  'v1.customers.alerts.retrieve': built('seat_filter names one seat of a seat balance alert'),
  'v1.customers.archive': built(),
  'v1.customers.archiveBillingConfigurations': built(),
  'v1.customers.billingConfig.create': notBuilt('use setBillingConfigurations'),
  'v1.customers.billingConfig.delete': notBuilt('use archiveBillingConfigurations'),
  'v1.customers.billingConfig.retrieve': notBuilt('use retrieveBillingConfigurations'),
  'v1.customers.commits.create': partly('PREPAID commits only'),
  'v1.customers.commits.list': built(),
  'v1.customers.commits.updateEndDate': notBuilt(),
  'v1.customers.create': partly('customer_billing_provider_configurations takes one Stripe configuration; billing_config and revenue system configurations are refused (fields below)'),
  'v1.customers.credits.create': built(),
  'v1.customers.credits.list': built(),
  'v1.customers.credits.updateEndDate': notBuilt(),
  'v1.customers.invoices.addCharge': notBuilt('plan-era charges'),
  'v1.customers.invoices.list': partly('type USAGE_CONSOLIDATED answers an empty list: there are no consolidated invoices'),
  'v1.customers.invoices.listBreakdowns': notBuilt('the path reads as an invoice id, and no invoice has it'),
  'v1.customers.invoices.retrieve': built(),
  'v1.customers.invoices.retrievePdf': notBuilt(),
  'v1.customers.list': partly('the salesforce_account_ids filter is refused'),
  'v1.customers.listBillableMetrics': built(),
  'v1.customers.listCosts': notBuilt('plan-era costs'),
  'v1.customers.namedSchedules.retrieve': notBuilt(),
  'v1.customers.namedSchedules.update': notBuilt(),
  'v1.customers.plans.add': notBuilt('plans are not supported; contracts are'),
  'v1.customers.plans.end': notBuilt('plans are not supported'),
  'v1.customers.plans.list': notBuilt('plans are not supported'),
  'v1.customers.plans.listPriceAdjustments': notBuilt('plans are not supported'),
  'v1.customers.previewEvents': notBuilt(),
  'v1.customers.retrieve': partly('customer_config.salesforce_account_id is always null'),
  'v1.customers.retrieveBillingConfigurations': built(),
  'v1.customers.setBillingConfigurations': partly('Stripe only, delivered direct_to_billing_provider (fields below)'),
  'v1.customers.setIngestAliases': built('a 400 on an archived customer'),
  'v1.customers.setName': built(),
  'v1.customers.updateConfig': partly('leave_stripe_invoices_in_draft (unset: finalised in Stripe, where Metronome’s client-level default leaves them in draft); salesforce_account_id only null'),
  'v1.dashboards.getEmbeddableURL': built('credits, usage and invoices dashboards (commits_and_credits shows the credits one); an extra seat_id scopes the credits view to one seat'),
  'v1.invoices.regenerate': notBuilt(),
  'v1.invoices.void': partly('voiding does not give the drawn credits back'),
  'v1.packages.archive': notBuilt(),
  'v1.packages.create': notBuilt(),
  'v1.packages.list': notBuilt(),
  'v1.packages.listContractsOnPackage': notBuilt(),
  'v1.packages.retrieve': notBuilt(),
  'v1.plans.getDetails': notBuilt('plans are not supported'),
  'v1.plans.list': notBuilt('plans are not supported'),
  'v1.plans.listCharges': notBuilt('plans are not supported'),
  'v1.plans.listCustomers': notBuilt('plans are not supported'),
  'v1.pricingUnits.list': built('USD (cents) and custom units (POST /v1/allot/credit-types/create)'),
  'v1.services.list': notBuilt(),
  'v1.settings.billingProviders.create': notBuilt('Stripe is configured on the server (ALLOT_STRIPE_* settings)'),
  'v1.settings.billingProviders.list': notBuilt(),
  'v1.settings.upsertAvalaraCredentials': notBuilt(),
  'v1.usage.ingest': built('1–100 events; a repeated transaction_id is acknowledged and ignored; events of an unknown customer are listed by GET /v1/allot/events/unmatched (Allot extension)'),
  'v1.usage.list': partly('starting_on and ending_before on the hour; DAY windows are UTC days'),
  'v1.usage.listWithGroups': partly('as usage.list'),
  'v1.usage.search': partly('is_duplicate is always false: a repeated event is never stored'),
  'v2.contracts.edit': partly('adding subscriptions, credits, commits and overrides, quantity updates, moving ends (contracts README rule 10) and renaming; fields below'),
  'v2.contracts.editCommit': notBuilt(),
  'v2.contracts.editCredit': notBuilt(),
  'v2.contracts.getEditHistory': built(),
  'v2.contracts.list': partly(NO_PROVIDER_SHOWN),
  'v2.contracts.retrieve': partly(NO_PROVIDER_SHOWN),
  'webhooks.unwrap': { status: 'client', note: 'verifies the webhooks Allot signs' },
  'webhooks.verifySignature': { status: 'client', note: 'verifies the webhooks Allot signs' },
};

// ---- shapes the contract calls share

const subscriptionFields: Record<string, FieldEntry> = {
  '': supported(),
  'billing_cycle_config': supported(),
  'billing_cycle_config.anchor_date': supported('on the hour'),
  'billing_cycle_config.invoice_placement': partial('ON_USAGE_INVOICE, Metronome’s default; ON_SCHEDULED_INVOICE is refused'),
  'collection_schedule': supported(),
  'custom_fields': supported(),
  'description': supported(),
  'ending_before': supported('on the hour'),
  'initial_quantity': supported('required for QUANTITY_ONLY; refused for SEAT_BASED (the seats are the quantity)'),
  'name': supported(),
  'proration': supported(),
  'proration.invoice_behavior': supported('BILL_IMMEDIATELY needs collection_schedule ADVANCE'),
  'proration.is_prorated': supported(),
  'proration.rounding': refused(),
  'quantity_management_mode': supported('SEAT_BASED: the quantity is the assigned seat ids plus the unassigned seats (docs/rules.md rule 28)'),
  'seat_config': supported('required for SEAT_BASED, refused otherwise'),
  'seat_config.initial_seat_ids': supported('each id once'),
  'seat_config.initial_unassigned_seats': supported(),
  'seat_config.seat_group_key': supported('one key per contract: the usage property naming the seat'),
  'starting_at': supported('on the hour'),
  'subscription_rate': supported(),
  'subscription_rate.billing_frequency': supported('the rate card must have a rate of that frequency'),
  'subscription_rate.product_id': supported(),
  'temporary_id': supported('recurring credits and commits of the same request name the subscription by it'),
};

/**
 * A commit's or recurring grant's `temporary_id` names it, within the request, for commit-specific
 * overrides (the SDK's own words); those are refused, so nothing can refer to it and it has no
 * effect in Metronome either. It is not stored.
 */
const TEMPORARY_ID = 'names it in commit-specific overrides of the same request, which are refused (commit_ids): nothing can refer to it; not stored';

const recurringFields: Record<string, FieldEntry> = {
  '': supported(),
  'access_amount': supported(),
  'access_amount.credit_type_id': supported(),
  'access_amount.quantity': supported('required without subscription_config; beside it, it must equal the subscription’s quantity at starting_at, and is not stored (the seats drive the pool)'),
  'access_amount.unit_price': supported(),
  'applicable_product_ids': supported(),
  'applicable_product_tags': supported(),
  'commit_duration': supported(),
  'commit_duration.unit': supported('PERIODS'),
  'commit_duration.value': supported(),
  'description': supported(),
  'ending_before': supported('on the hour'),
  'hierarchy_configuration': refused(),
  'name': supported(),
  'netsuite_sales_order_id': refused(),
  'priority': supported(),
  'product_id': supported(),
  'proration': supported(),
  'proration_rounding': refused(),
  'rate_type': partial('LIST_RATE; COMMIT_RATE is refused'),
  'recurrence_frequency': partial('DAILY is refused; with subscription_config, the subscription’s billing frequency or a shorter one (ANNUAL seats with MONTHLY or QUARTERLY credits, QUARTERLY with MONTHLY); a longer one, or WEEKLY with another, is refused'),
  'rollover_fraction': supported(),
  'specifiers': refused(),
  'starting_at': supported('on the hour'),
  'subscription_config': supported(),
  'subscription_config.allocation': supported('POOLED, or INDIVIDUAL on a SEAT_BASED subscription: one credit per seat, drawn only by usage naming the seat (docs/rules.md rule 29)'),
  'subscription_config.apply_seat_increase_config': supported(),
  'subscription_config.apply_seat_increase_config.is_prorated': supported(),
  'subscription_config.subscription_id': supported('an id or a temporary_id of the same request'),
  'temporary_id': supported(TEMPORARY_ID),
};

const creditFields: Record<string, FieldEntry> = {
  '': supported(),
  'access_schedule': supported(),
  'access_schedule.credit_type_id': supported(),
  'access_schedule.schedule_items': supported(),
  'access_schedule.schedule_items[].amount': supported(),
  'access_schedule.schedule_items[].ending_before': supported('on the hour'),
  'access_schedule.schedule_items[].starting_at': supported('on the hour'),
  'applicable_product_ids': supported(),
  'applicable_product_tags': supported(),
  'custom_fields': supported(),
  'description': supported(),
  'hierarchy_configuration': refused(),
  'name': supported(),
  'netsuite_sales_order_id': refused(),
  'priority': supported(),
  'product_id': supported(),
  'rate_type': partial('LIST_RATE; COMMIT_RATE is refused'),
  'rollover_fraction': refused(),
  'specifiers': refused(),
};

const commitFields: Record<string, FieldEntry> = {
  ...creditFields,
  'amount': refused(),
  'invoice_schedule': refused('commits are not invoiced yet'),
  'spend_tracker_attributes': refused(),
  'temporary_id': supported(TEMPORARY_ID),
  'type': partial('PREPAID; POSTPAID is refused'),
};

/** `recurring_commits[]` has what `recurring_credits[]` has, and an invoice amount. */
const recurringCommitFields: Record<string, FieldEntry> = { ...recurringFields, 'invoice_amount': refused('commits are not invoiced yet') };

const commitSpecific = 'commit-specific overrides are not supported';

/** `overrides[]` on create, `add_overrides[]` on edit: contracts README rule 9. */
const overrideFields: Record<string, FieldEntry> = {
  '': partial('OVERWRITE and MULTIPLIER of usage prices (contracts README rule 9); not changed or removed once added'),
  'applicable_product_tags': supported('legacy: the products carrying any of them; not beside override_specifiers'),
  'ending_before': supported('on the hour, within the contract'),
  'entitled': supported('replaces the rate’s'),
  'is_commit_specific': partial(`false; true is refused: ${commitSpecific}`),
  'multiplier': supported('MULTIPLIER overrides, 0 or more'),
  'override_specifiers': supported('each a product_id, product_tags the product carries all of, or both'),
  'override_specifiers[].any_commit_or_credit_ids': refused(commitSpecific),
  'override_specifiers[].billing_frequency': refused('overrides of subscription rates are not supported'),
  'override_specifiers[].commit_ids': refused(commitSpecific),
  'override_specifiers[].presentation_group_values': refused(),
  'override_specifiers[].pricing_group_values': refused(),
  'override_specifiers[].product_id': supported('a live USAGE product'),
  'override_specifiers[].product_tags': supported(),
  'override_specifiers[].recurring_commit_ids': refused(commitSpecific),
  'overwrite_rate': supported('OVERWRITE overrides'),
  'overwrite_rate.credit_type_id': supported(),
  'overwrite_rate.custom_rate': refused(),
  'overwrite_rate.is_prorated': refused('overwrites of subscription rates are not supported'),
  'overwrite_rate.price': supported('FLAT'),
  'overwrite_rate.quantity': refused('overwrites of subscription rates are not supported'),
  'overwrite_rate.rate_type': partial('FLAT and TIERED; the others are refused'),
  'overwrite_rate.tiers': partial('TIERED; graduated, as rates’ tiers (no volume pricing)'),
  'overwrite_rate.tiers[].price': supported(),
  'overwrite_rate.tiers[].size': supported(),
  'priority': supported('a multiplier’s on an EXPLICIT contract (> 0, the lowest wins); a 400 anywhere else'),
  'product_id': supported('legacy: a live USAGE product; not beside override_specifiers'),
  'starting_at': supported('on the hour, within the contract (on an edit, not before the open period)'),
  'target': refused(commitSpecific),
  'tiers': refused('TIERED overrides are not supported'),
  'type': partial('required: OVERWRITE or MULTIPLIER; TIERED is refused'),
};

/** `update_recurring_credits[]` / `update_recurring_commits[]` of an edit: contracts README rule 10. */
function recurringUpdateFields(idField: string): Record<string, FieldEntry> {
  return {
    '': partial('a new end and a new amount (contracts README rule 10)'),
    'access_amount': partial('from the grant’s first period starting at or after the edit; periods already started keep their grants; retrieve shows the latest amount'),
    'access_amount.quantity': partial('on a grant not linked to a subscription; beside subscription_config it is refused (the seats drive the pool)'),
    'access_amount.unit_price': supported('0 or more; absent, the amount in force keeps its unit price'),
    'ending_before': supported('on the hour; null: no end of its own; moves only where nothing billed changes'),
    'proration_rounding': refused(),
    'rate_type': partial('LIST_RATE; COMMIT_RATE is refused'),
    [idField]: supported(),
  };
}

/** `customer_billing_provider_configurations[]` of `v1.customers.create`, as `setBillingConfigurations` takes it. */
const CUSTOMER_BILLING_CONFIGURATION: Record<string, FieldEntry> = {
  '': partial('at most one, Stripe: set as setBillingConfigurations sets it, in the customer’s transaction'),
  'billing_provider': partial('stripe'),
  'configuration': partial('stripe_customer_id, stripe_collection_method (charge_automatically or send_invoice) and Allot’s days_until_due'),
  'delivery_method': partial('direct_to_billing_provider'),
  'delivery_method_id': partial('the id of Allot’s one delivery method (Stripe, direct_to_billing_provider), which every configuration reports'),
  'tax_provider': refused(),
};

export const coreCalls: Record<string, CoreCall> = {
  'v1.contracts.create': {
    params: 'V1.ContractCreateParams',
    fields: {
      'billing_provider_configuration': partial('one of the customer’s live Stripe configurations; the contract’s invoices go through it only; not shown on retrieve'),
      'billing_provider_configuration.billing_provider': partial('stripe'),
      'billing_provider_configuration.billing_provider_configuration_id': supported('a live configuration of the customer; or else billing_provider and delivery_method'),
      'billing_provider_configuration.delivery_method': partial('direct_to_billing_provider'),
      ...items('commits', commitFields),
      ...items('credits', creditFields),
      'custom_fields': supported(),
      'customer_id': supported(),
      'discounts': refused(),
      'ending_before': supported('on the hour'),
      'hierarchy_configuration': refused(),
      'multiplier_override_prioritization': supported('EXPLICIT: every multiplier needs a priority'),
      'name': supported(),
      'net_payment_terms_days': partial('the days_until_due of the contract’s Stripe invoices sent with send_invoice (over the configuration’s); Allot’s own invoices carry no due date'),
      'netsuite_sales_order_id': refused(),
      ...items('overrides', overrideFields),
      'package_alias': refused(),
      'package_id': refused(),
      ...under('prepaid_balance_threshold_configuration', prepaidThresholdFields),
      'professional_services': refused(),
      'rate_card_alias': refused('rate card aliases are not supported'),
      'rate_card_id': supported(),
      ...items('recurring_commits', recurringCommitFields),
      ...items('recurring_credits', recurringFields),
      'reseller_royalties': refused(),
      'revenue_system_configuration': refused(),
      'salesforce_opportunity_id': refused(),
      'scheduled_charges': refused(),
      'scheduled_charges_on_usage_invoices': refused(),
      ...under('spend_threshold_configuration', spendThresholdFields),
      'spend_trackers': refused(),
      'starting_at': supported('on the hour'),
      ...items('subscriptions', subscriptionFields),
      'total_contract_value': refused(),
      'transition': refused(),
      'uniqueness_key': supported('a repeat is a 409'),
      'usage_filter': refused(),
      'usage_statement_schedule': supported(),
      'usage_statement_schedule.billing_anchor_date': supported('with day CUSTOM_DATE'),
      'usage_statement_schedule.day': supported(),
      'usage_statement_schedule.frequency': supported(),
      'usage_statement_schedule.invoice_generation_starting_at': refused(),
    },
  },
  'v2.contracts.edit': {
    params: 'V2.ContractEditParams',
    fields: {
      'add_billing_provider_configuration_update': refused(),
      ...items('add_commits', { ...commitFields, 'payment_gate_config': refused() }),
      ...items('add_credits', creditFields),
      'add_discounts': refused(),
      ...items('add_overrides', overrideFields),
      ...under('add_prepaid_balance_threshold_configuration', prepaidThresholdFields),
      'add_professional_services': refused(),
      ...items('add_recurring_commits', recurringCommitFields),
      ...items('add_recurring_credits', recurringFields),
      'add_reseller_royalties': refused(),
      'add_revenue_system_configuration_update': refused(),
      'add_scheduled_charges': refused(),
      ...under('add_spend_threshold_configuration', spendThresholdFields),
      'add_spend_trackers': refused(),
      ...items('add_subscriptions', subscriptionFields),
      'allow_contract_ending_before_finalized_invoice': partial('default false (Metronome: true); true lets the end precede the last finalised invoice, which stays as it is'),
      'archive_commits': refused(),
      'archive_credits': refused(),
      'archive_scheduled_charges': refused(),
      'archive_spend_trackers': refused(),
      'contract_id': supported(),
      'customer_id': supported(),
      'remove_overrides': refused(),
      'uniqueness_key': supported('a repeat is a 409'),
      'update_commits': refused(),
      'update_contract_end_date': partial('moves only where nothing billed changes (contracts README rule 10); null: open-ended'),
      'update_contract_name': supported(),
      'update_credits': refused(),
      'update_net_payment_terms_days': refused(),
      ...under('update_prepaid_balance_threshold_configuration', {
        ...prepaidThresholdFields,
        '': supported('any of the fields, over the stored configuration; evaluated at once'),
      }),
      ...items('update_recurring_commits', { ...recurringUpdateFields('recurring_commit_id'), 'invoice_amount': refused('commits are not invoiced yet') }),
      ...items('update_recurring_credits', recurringUpdateFields('recurring_credit_id')),
      'update_scheduled_charges': refused(),
      ...under('update_spend_threshold_configuration', { ...spendThresholdFields, '': supported('any of the fields, over the stored configuration; evaluated at once') }),
      'update_subscriptions': partial('quantity updates, seat updates and ending_before'),
      'update_subscriptions[].ending_before': supported('on the hour; null: none of its own; moves only where nothing billed changes (contracts README rule 10)'),
      'update_subscriptions[].proration_rounding': refused(),
      'update_subscriptions[].quantity_management_mode_update': refused(),
      'update_subscriptions[].quantity_updates': supported(),
      'update_subscriptions[].quantity_updates[].quantity': supported('exactly one of quantity and quantity_delta'),
      'update_subscriptions[].quantity_updates[].quantity_delta': supported(),
      'update_subscriptions[].quantity_updates[].starting_at': supported('any instant, kept to the millisecond; not before the open period'),
      'update_subscriptions[].seat_updates': supported('SEAT_BASED only; at one instant removals apply before additions (docs/rules.md rule 28)'),
      'update_subscriptions[].seat_updates.add_seat_ids': supported('an id fills an unassigned seat first; an id already assigned is a 400 naming it'),
      'update_subscriptions[].seat_updates.add_seat_ids[].seat_ids': supported(),
      'update_subscriptions[].seat_updates.add_seat_ids[].starting_at': supported('any instant; not before the open period'),
      'update_subscriptions[].seat_updates.add_unassigned_seats': supported(),
      'update_subscriptions[].seat_updates.add_unassigned_seats[].quantity': supported('greater than 0'),
      'update_subscriptions[].seat_updates.add_unassigned_seats[].starting_at': supported('any instant; not before the open period'),
      'update_subscriptions[].seat_updates.remove_seat_ids': supported('an id not assigned is a no-op'),
      'update_subscriptions[].seat_updates.remove_seat_ids[].seat_ids': supported(),
      'update_subscriptions[].seat_updates.remove_seat_ids[].starting_at': supported('any instant; not before the open period'),
      'update_subscriptions[].seat_updates.remove_unassigned_seats': supported('removes at most the unassigned seats there are'),
      'update_subscriptions[].seat_updates.remove_unassigned_seats[].quantity': supported('greater than 0'),
      'update_subscriptions[].seat_updates.remove_unassigned_seats[].starting_at': supported('any instant; not before the open period'),
      'update_subscriptions[].subscription_id': supported(),
    },
  },
  'v1.contracts.rateCards.create': {
    params: 'V1.Contracts.RateCardCreateParams',
    fields: {
      'aliases': refused('rate card aliases are not supported; refer to rate cards by id'),
      'credit_type_conversions': supported(),
      'credit_type_conversions[].custom_credit_type_id': supported(),
      'credit_type_conversions[].fiat_per_custom_credit': supported(),
      'custom_fields': supported(),
      'description': supported(),
      'fiat_credit_type_id': supported('USD (cents) is the only fiat unit'),
      'name': supported(),
    },
  },
  'v1.contracts.rateCards.rates.add': {
    params: 'V1.Contracts.RateCards.RateAddParams',
    fields: {
      'billing_frequency': supported('SUBSCRIPTION rates'),
      'commit_rate': refused('commit rates are not supported'),
      'credit_type_id': supported(),
      'custom_rate': refused('CUSTOM rates are not supported'),
      'ending_before': supported('on the hour'),
      'entitled': supported(),
      'is_prorated': supported('must be true on SUBSCRIPTION rates, as in Metronome'),
      'price': supported(),
      'pricing_group_values': supported(),
      'product_id': supported(),
      'quantity': partial('stored and listed; a subscription takes its quantity from initial_quantity'),
      'rate_card_id': supported(),
      'rate_type': partial('FLAT, SUBSCRIPTION and TIERED; PERCENTAGE, TIERED_PERCENTAGE and CUSTOM are refused'),
      'starting_at': supported('on the hour'),
      'tiers': partial('graduated: each tier prices the usage within it (no volume pricing)'),
      'tiers[].price': supported(),
      'tiers[].size': supported(),
    },
  },
  'v1.billableMetrics.create': {
    params: 'V1.BillableMetricCreateParams',
    fields: {
      'aggregation_key': supported('refused on COUNT metrics'),
      'aggregation_type': supported(),
      'custom_fields': supported(),
      'event_type_filter': supported(),
      'event_type_filter.in_values': supported(),
      'event_type_filter.not_in_values': supported(),
      'group_keys': supported(),
      'name': supported(),
      'property_filters': supported(),
      'property_filters[].exists': supported(),
      'property_filters[].in_values': supported(),
      'property_filters[].name': supported(),
      'property_filters[].not_in_values': supported(),
      'sql': refused('SQL billable metrics are not supported'),
    },
  },
  'v1.usage.ingest': {
    params: 'V1.UsageIngestParams',
    fields: {
      'usage': supported('1–100 events'),
      'usage[].customer_id': supported('a customer id or an ingest alias'),
      'usage[].event_type': supported(),
      'usage[].properties': supported('numbers a metric counts: at most 10^15, 30 significant digits'),
      'usage[].timestamp': supported('at most 24 hours ahead'),
      'usage[].transaction_id': supported('a repeat is acknowledged and ignored'),
    },
  },
  'v1.contracts.listBalances': {
    params: 'V1.ContractListBalancesParams',
    fields: {
      'covering_date': supported(),
      'customer_id': supported(),
      'effective_before': supported(),
      'exclude_zero_balances': supported(),
      'id': supported(),
      'include_archived': supported(),
      'include_balance': supported(),
      'include_contract_balances': supported('default true'),
      'include_ledgers': supported(),
      'limit': supported(),
      'next_page': supported(),
      'starting_at': supported(),
    },
  },
  'v1.contracts.getNetBalance': {
    params: 'V1.ContractGetNetBalanceParams',
    fields: {
      'credit_type_id': supported(),
      'customer_id': supported(),
      'filters': supported(),
      'filters[].balance_types': partial('PREPAID_COMMIT and CREDIT match; there are no POSTPAID commits'),
      'filters[].custom_fields': supported(),
      'filters[].ids': supported(),
      'invoice_inclusion_mode': supported('FINALIZED_AND_DRAFT (the default) counts the draft invoices’ live draws; FINALIZED only finalised invoices’'),
    },
  },
  'v1.alerts.create': {
    params: 'V1.AlertCreateParams',
    fields: {
      'alert_specifiers': refused('the alert watches every credit and commit of its pricing unit'),
      'alert_type': partial('six types; the others are refused by name'),
      'billable_metric_id': supported('usage_threshold_reached alerts'),
      'credit_grant_type_filters': refused(),
      'credit_type_id': supported(),
      'custom_field_filters': refused(),
      'customer_id': supported(),
      'evaluate_on_create': supported(),
      'group_values': partial('spend alerts; 1 to 3 entries, whose keys one group key of a billable metric holds together'),
      'group_values[].key': supported(),
      'group_values[].value': supported(),
      'invoice_types_filter': refused(),
      'name': supported(),
      'plan_id': refused('plans are not supported'),
      'seat_filter': supported('required for low_remaining_seat_balance_reached, refused otherwise; without seat_group_value every seat is watched, each a state of its own (docs/rules.md rule 28)'),
      'seat_filter.seat_group_key': supported(),
      'seat_filter.seat_group_value': supported('one seat'),
      'threshold': supported(),
      'uniqueness_key': supported('a repeat is a 409'),
    },
  },
  'v1.customers.invoices.list': {
    params: 'V1.Customers.InvoiceListParams',
    fields: {
      'contract_id': supported(),
      'credit_type_id': supported(),
      'customer_id': supported(),
      'ending_before': supported(),
      'limit': supported(),
      'next_page': supported(),
      'skip_zero_qty_line_items': supported(),
      'sort': supported(),
      'starting_on': supported(),
      'status': supported(),
      'type': partial('USAGE_CONSOLIDATED answers an empty list'),
      'webhook_notification_id': refused(),
    },
  },
  'v1.customers.invoices.retrieve': {
    params: 'V1.Customers.InvoiceRetrieveParams',
    fields: {
      'customer_id': supported(),
      'invoice_id': supported(),
      'skip_zero_qty_line_items': supported(),
    },
  },
  'v1.dashboards.getEmbeddableURL': {
    params: 'V1.DashboardGetEmbeddableURLParams',
    fields: {
      'bm_group_key_overrides': supported(),
      'bm_group_key_overrides[].display_name': supported(),
      'bm_group_key_overrides[].group_key_name': supported(),
      'bm_group_key_overrides[].value_display_names': supported(),
      'color_overrides': supported(),
      'color_overrides[].name': supported(),
      'color_overrides[].value': supported(),
      'customer_id': supported(),
      'dashboard': supported('commits_and_credits shows the credits dashboard; the writable controls view is Allot\'s own POST /v1/allot/dashboards/controls-url'),
      'dashboard_options': supported(),
      'dashboard_options[].key': supported(),
      'dashboard_options[].value': supported(),
    },
  },
  'v1.customers.create': {
    params: 'V1.CustomerCreateParams',
    fields: {
      'billing_config': refused('set Stripe afterwards with setBillingConfigurations'),
      'custom_fields': supported(),
      ...items('customer_billing_provider_configurations', CUSTOMER_BILLING_CONFIGURATION),
      'customer_revenue_system_configurations': refused(),
      'external_id': supported('taken as the first ingest alias'),
      'ingest_aliases': supported(),
      'name': supported(),
    },
  },
  'v1.customers.setBillingConfigurations': {
    params: 'V1.CustomerSetBillingConfigurationsParams',
    fields: {
      'data': supported(),
      'data[].billing_provider': partial('stripe'),
      'data[].configuration': partial('stripe_customer_id, stripe_collection_method (charge_automatically or send_invoice) and Allot’s days_until_due'),
      'data[].customer_id': supported(),
      'data[].delivery_method': partial('direct_to_billing_provider'),
      'data[].delivery_method_id': partial('the id of Allot’s one delivery method (Stripe, direct_to_billing_provider), which every configuration reports'),
      'data[].tax_provider': refused(),
    },
  },
  'v1.customers.retrieveBillingConfigurations': {
    params: 'V1.CustomerRetrieveBillingConfigurationsParams',
    fields: {
      'customer_id': supported(),
      'include_archived': supported(),
    },
  },
};

/**
 * Fields accepted today and without effect, `call: field`. Each is a bug to fix; the test fails
 * when a field is marked `ignored` without being listed here, or listed without being marked.
 */
export const knownGaps: string[] = [];
