import type { Queryable } from '../../lib/db/database.js';

export interface ContractRow {
  id: string;
  customer_id: string;
  name: string | null;
  starting_at: Date;
  ending_before: Date | null;
  rate_card_id: string | null;
  statement_frequency: 'MONTHLY' | 'QUARTERLY' | 'ANNUAL' | 'WEEKLY';
  statement_day: 'FIRST_OF_MONTH' | 'CONTRACT_START' | 'CUSTOM_DATE';
  statement_anchor: Date;
  net_payment_terms_days: number | null;
  custom_fields: Record<string, string>;
  uniqueness_key: string | null;
  /** The billing provider configuration the contract's invoices go through; null: the customer's live one. */
  billing_provider_configuration_id: string | null;
  created_at: Date;
  archived_at: Date | null;
  multiplier_override_prioritization: 'LOWEST_MULTIPLIER' | 'EXPLICIT';
}

/** A contract's override of its rate card's usage prices (`v1.contracts.create` `overrides`, `v2.contracts.edit` `add_overrides`). */
export interface ContractOverrideRow {
  id: string;
  contract_id: string;
  customer_id: string;
  type: 'OVERWRITE' | 'MULTIPLIER';
  starting_at: Date;
  ending_before: Date | null;
  override_specifiers: Array<{ product_id?: string; product_tags?: string[] }> | null;
  product_id: string | null;
  applicable_product_tags: string[] | null;
  entitled: boolean | null;
  priority: string | null;
  multiplier: string | null;
  rate_type: 'FLAT' | 'TIERED' | null;
  price: string | null;
  tiers: Array<{ size: string | null; price: string }> | null;
  credit_type_id: string | null;
  created_at: Date;
}

export interface SubscriptionRow {
  id: string;
  contract_id: string;
  customer_id: string;
  product_id: string;
  billing_frequency: 'MONTHLY' | 'QUARTERLY' | 'ANNUAL' | 'WEEKLY';
  collection_schedule: 'ADVANCE' | 'ARREARS';
  is_prorated: boolean;
  invoice_behavior: 'BILL_IMMEDIATELY' | 'BILL_ON_NEXT_COLLECTION_DATE';
  billing_anchor: Date;
  invoice_placement: 'ON_SCHEDULED_INVOICE' | 'ON_USAGE_INVOICE';
  starting_at: Date;
  ending_before: Date | null;
  name: string | null;
  description: string | null;
  custom_fields: Record<string, string>;
  created_at: Date;
  quantity_management_mode: 'QUANTITY_ONLY' | 'SEAT_BASED';
  /** The usage property naming the seat (SEAT_BASED only). */
  seat_group_key: string | null;
}

/** A change of a SEAT_BASED subscription's seats (`lib/seatSchedule.ts`); sequences 0 and 1 are its initial seats. */
export interface SeatChangeRow {
  subscription_id: string;
  sequence: number;
  starting_at: Date;
  action: 'ADD_SEATS' | 'REMOVE_SEATS' | 'ADD_UNASSIGNED' | 'REMOVE_UNASSIGNED';
  seat_ids: string[] | null;
  quantity: number | null;
  created_at: Date;
}

export interface QuantityChangeRow {
  subscription_id: string;
  sequence: number;
  starting_at: Date;
  quantity: number | null;
  quantity_delta: number | null;
  created_at: Date;
}

export interface RecurringGrantRow {
  id: string;
  contract_id: string;
  customer_id: string;
  kind: 'CREDIT' | 'COMMIT';
  product_id: string;
  credit_type_id: string;
  unit_price: string;
  quantity: string | null;
  priority: string;
  applicable_product_ids: string[] | null;
  applicable_product_tags: string[] | null;
  starting_at: Date;
  ending_before: Date | null;
  recurrence_frequency: 'MONTHLY' | 'QUARTERLY' | 'ANNUAL' | 'WEEKLY' | null;
  proration: 'NONE' | 'FIRST' | 'LAST' | 'FIRST_AND_LAST';
  rollover_fraction: string | null;
  duration_periods: number;
  subscription_id: string | null;
  seat_increase_prorated: boolean | null;
  /** POOLED: one pool sized by the seats; INDIVIDUAL: one credit per assigned seat. */
  allocation: 'POOLED' | 'INDIVIDUAL';
  rate_type: string;
  name: string | null;
  description: string | null;
  created_at: Date;
}

/** A change of a recurring grant's amount, in force for its periods starting at or after `effective_from`. */
export interface RecurringGrantAmountRow {
  recurring_grant_id: string;
  effective_from: Date;
  unit_price: string;
  quantity: string | null;
  created_at: Date;
}

export interface EditRow {
  id: string;
  contract_id: string;
  customer_id: string;
  uniqueness_key: string | null;
  edit: Record<string, unknown>;
  created_at: Date;
}

const JSON_COLUMNS = new Set(['custom_fields', 'edit', 'override_specifiers', 'tiers']);

function insertRow<Row extends object>(table: string, columns: readonly (keyof Row & string)[]) {
  const names = columns.map((c) => (c === 'timestamp' ? '"timestamp"' : c)).join(', ');
  const values = columns.map((_, i) => `$${i + 2}`).join(', ');
  const text = `INSERT INTO ${table} (tenant_id, ${names}) VALUES ($1, ${values})`;
  return async (tx: Queryable, tenantId: string, row: Row) => {
    await tx.query(
      text,
      [tenantId, ...columns.map((c) => (JSON_COLUMNS.has(c) && row[c] !== null ? JSON.stringify(row[c]) : row[c]))],
    );
  };
}

const CONTRACT_COLUMNS = [
  'id', 'customer_id', 'name', 'starting_at', 'ending_before', 'rate_card_id', 'statement_frequency', 'statement_day',
  'statement_anchor', 'net_payment_terms_days', 'custom_fields', 'uniqueness_key', 'billing_provider_configuration_id', 'created_at',
  'archived_at', 'multiplier_override_prioritization',
] as const;
const SUBSCRIPTION_COLUMNS = [
  'id', 'contract_id', 'customer_id', 'product_id', 'billing_frequency', 'collection_schedule', 'is_prorated',
  'invoice_behavior', 'billing_anchor', 'invoice_placement', 'starting_at', 'ending_before', 'name', 'description',
  'custom_fields', 'created_at', 'quantity_management_mode', 'seat_group_key',
] as const;
const SEAT_CHANGE_COLUMNS = ['subscription_id', 'sequence', 'starting_at', 'action', 'seat_ids', 'quantity', 'created_at'] as const;
const CHANGE_COLUMNS = ['subscription_id', 'sequence', 'starting_at', 'quantity', 'quantity_delta', 'created_at'] as const;
const RECURRING_COLUMNS = [
  'id', 'contract_id', 'customer_id', 'kind', 'product_id', 'credit_type_id', 'unit_price', 'quantity', 'priority',
  'applicable_product_ids', 'applicable_product_tags', 'starting_at', 'ending_before', 'recurrence_frequency', 'proration',
  'rollover_fraction', 'duration_periods', 'subscription_id', 'seat_increase_prorated', 'rate_type', 'name', 'description',
  'created_at', 'allocation',
] as const;
const OVERRIDE_COLUMNS = [
  'id', 'contract_id', 'customer_id', 'type', 'starting_at', 'ending_before', 'override_specifiers', 'product_id',
  'applicable_product_tags', 'entitled', 'priority', 'multiplier', 'rate_type', 'price', 'tiers', 'credit_type_id', 'created_at',
] as const;
const AMOUNT_COLUMNS = ['recurring_grant_id', 'effective_from', 'unit_price', 'quantity', 'created_at'] as const;
const EDIT_COLUMNS = ['id', 'contract_id', 'customer_id', 'uniqueness_key', 'edit', 'created_at'] as const;

export const insertContract = insertRow<ContractRow>('contracts', CONTRACT_COLUMNS);
export const insertSubscription = insertRow<SubscriptionRow>('subscriptions', SUBSCRIPTION_COLUMNS);
export const insertQuantityChange = insertRow<QuantityChangeRow>('subscription_quantity_changes', CHANGE_COLUMNS);
export const insertSeatChange = insertRow<SeatChangeRow>('subscription_seat_changes', SEAT_CHANGE_COLUMNS);
export const insertRecurringGrant = insertRow<RecurringGrantRow>('recurring_grants', RECURRING_COLUMNS);
export const insertOverride = insertRow<ContractOverrideRow>('contract_overrides', OVERRIDE_COLUMNS);
export const insertEdit = insertRow<EditRow>('contract_edits', EDIT_COLUMNS);

export async function findContract(db: Queryable, tenantId: string, contractId: string, { forUpdate = false } = {}): Promise<ContractRow | undefined> {
  const [row] = await db.query<ContractRow>(
    `SELECT ${CONTRACT_COLUMNS.join(', ')} FROM contracts WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, contractId],
  );
  return row;
}

export async function listContracts(db: Queryable, tenantId: string, customerId: string): Promise<ContractRow[]> {
  return db.query<ContractRow>(`SELECT ${CONTRACT_COLUMNS.join(', ')} FROM contracts WHERE tenant_id = $1 AND customer_id = $2 ORDER BY id`, [
    tenantId,
    customerId,
  ]);
}

/** The customers with a live (not archived) contract in force at some instant of `[startingAt, endingBefore)`. */
export async function customersWithContractsDuring(db: Queryable, tenantId: string, startingAt: Date, endingBefore: Date): Promise<string[]> {
  const rows = await db.query<{ customer_id: string }>(
    `SELECT DISTINCT customer_id FROM contracts
      WHERE tenant_id = $1 AND archived_at IS NULL AND starting_at < $3 AND (ending_before IS NULL OR ending_before > $2)`,
    [tenantId, startingAt, endingBefore],
  );
  return rows.map((row) => row.customer_id);
}

export async function archiveContract(tx: Queryable, tenantId: string, contractId: string, at: Date): Promise<void> {
  await tx.query('UPDATE contracts SET archived_at = COALESCE(archived_at, $3) WHERE tenant_id = $1 AND id = $2', [tenantId, contractId, at]);
}

export async function setContractEnd(tx: Queryable, tenantId: string, contractId: string, endingBefore: Date | null): Promise<void> {
  await tx.query('UPDATE contracts SET ending_before = $3 WHERE tenant_id = $1 AND id = $2', [tenantId, contractId, endingBefore]);
}

export async function setSubscriptionEnd(tx: Queryable, tenantId: string, subscriptionId: string, endingBefore: Date | null): Promise<void> {
  await tx.query('UPDATE subscriptions SET ending_before = $3 WHERE tenant_id = $1 AND id = $2', [tenantId, subscriptionId, endingBefore]);
}

export async function setRecurringGrantEnd(tx: Queryable, tenantId: string, grantId: string, endingBefore: Date | null): Promise<void> {
  await tx.query('UPDATE recurring_grants SET ending_before = $3 WHERE tenant_id = $1 AND id = $2', [tenantId, grantId, endingBefore]);
}

/** Records a recurring grant's new amount; a later edit taking effect from the same period replaces it. */
export async function upsertRecurringGrantAmount(tx: Queryable, tenantId: string, row: RecurringGrantAmountRow): Promise<void> {
  await tx.query(
    `INSERT INTO recurring_grant_amounts (tenant_id, ${AMOUNT_COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, recurring_grant_id, effective_from) DO UPDATE SET unit_price = EXCLUDED.unit_price, quantity = EXCLUDED.quantity, created_at = EXCLUDED.created_at`,
    [tenantId, row.recurring_grant_id, row.effective_from, row.unit_price, row.quantity, row.created_at],
  );
}

export async function renameContract(tx: Queryable, tenantId: string, contractId: string, name: string | null): Promise<void> {
  await tx.query('UPDATE contracts SET name = $3 WHERE tenant_id = $1 AND id = $2', [tenantId, contractId, name]);
}

/** Everything the contracts of one customer (or the ones listed) define, for one read. */
export async function loadContractTerms(
  db: Queryable,
  tenantId: string,
  contractIds: readonly string[],
): Promise<{
  subscriptions: SubscriptionRow[];
  changes: QuantityChangeRow[];
  seatChanges: SeatChangeRow[];
  recurring: RecurringGrantRow[];
  amounts: RecurringGrantAmountRow[];
  overrides: ContractOverrideRow[];
}> {
  if (contractIds.length === 0) return { subscriptions: [], changes: [], seatChanges: [], recurring: [], amounts: [], overrides: [] };
  const [subscriptions, recurring, overrides] = await Promise.all([
    db.query<SubscriptionRow>(`SELECT ${SUBSCRIPTION_COLUMNS.join(', ')} FROM subscriptions WHERE tenant_id = $1 AND contract_id = ANY($2::uuid[]) ORDER BY id`, [
      tenantId,
      contractIds,
    ]),
    db.query<RecurringGrantRow>(`SELECT ${RECURRING_COLUMNS.join(', ')} FROM recurring_grants WHERE tenant_id = $1 AND contract_id = ANY($2::uuid[]) ORDER BY id`, [
      tenantId,
      contractIds,
    ]),
    db.query<ContractOverrideRow>(`SELECT ${OVERRIDE_COLUMNS.join(', ')} FROM contract_overrides WHERE tenant_id = $1 AND contract_id = ANY($2::uuid[]) ORDER BY id`, [
      tenantId,
      contractIds,
    ]),
  ]);
  // Both depend on the rows above only: one more round trip, not two.
  const seatBased = subscriptions.filter((s) => s.quantity_management_mode === 'SEAT_BASED').map((s) => s.id);
  const [changes, amounts, seatChanges] = await Promise.all([
    subscriptions.length === 0
      ? []
      : db.query<QuantityChangeRow>(
          `SELECT ${CHANGE_COLUMNS.join(', ')} FROM subscription_quantity_changes
            WHERE tenant_id = $1 AND subscription_id = ANY($2::uuid[]) ORDER BY subscription_id, sequence`,
          [tenantId, subscriptions.map((s) => s.id)],
        ),
    recurring.length === 0
      ? []
      : db.query<RecurringGrantAmountRow>(
          `SELECT ${AMOUNT_COLUMNS.join(', ')} FROM recurring_grant_amounts
            WHERE tenant_id = $1 AND recurring_grant_id = ANY($2::uuid[]) ORDER BY recurring_grant_id, effective_from`,
          [tenantId, recurring.map((r) => r.id)],
        ),
    seatBased.length === 0
      ? []
      : db.query<SeatChangeRow>(
          `SELECT ${SEAT_CHANGE_COLUMNS.join(', ')} FROM subscription_seat_changes
            WHERE tenant_id = $1 AND subscription_id = ANY($2::uuid[]) ORDER BY subscription_id, sequence`,
          [tenantId, seatBased],
        ),
  ]);
  return { subscriptions, changes, seatChanges, recurring, amounts, overrides };
}

export async function listEdits(db: Queryable, tenantId: string, contractId: string): Promise<EditRow[]> {
  return db.query<EditRow>(`SELECT ${EDIT_COLUMNS.join(', ')} FROM contract_edits WHERE tenant_id = $1 AND contract_id = $2 ORDER BY id`, [tenantId, contractId]);
}
