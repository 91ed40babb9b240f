-- Contracts: a customer's agreement, with its usage statement schedule.
CREATE TABLE contracts (
  tenant_id               uuid NOT NULL REFERENCES tenants (id),
  id                      uuid NOT NULL,
  customer_id             uuid NOT NULL,
  name                    text,
  starting_at             timestamptz NOT NULL,
  ending_before           timestamptz,
  rate_card_id            uuid,
  statement_frequency     text NOT NULL,
  statement_day           text NOT NULL,
  statement_anchor        timestamptz NOT NULL,
  net_payment_terms_days  integer,
  custom_fields           jsonb NOT NULL DEFAULT '{}',
  uniqueness_key          text,
  created_at              timestamptz NOT NULL,
  archived_at             timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE INDEX contracts_customer ON contracts (tenant_id, customer_id, id);
CREATE UNIQUE INDEX contracts_uniqueness_key ON contracts (tenant_id, uniqueness_key) WHERE uniqueness_key IS NOT NULL;

-- Every edit of a contract, as it was applied (for getEditHistory).
CREATE TABLE contract_edits (
  tenant_id       uuid NOT NULL,
  id              uuid NOT NULL,
  contract_id     uuid NOT NULL,
  customer_id     uuid NOT NULL,
  uniqueness_key  text,
  edit            jsonb NOT NULL,
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id)
);
CREATE INDEX contract_edits_contract ON contract_edits (tenant_id, contract_id, id);
CREATE UNIQUE INDEX contract_edits_uniqueness_key ON contract_edits (tenant_id, contract_id, uniqueness_key) WHERE uniqueness_key IS NOT NULL;

-- Seat subscriptions (QUANTITY_ONLY). The quantity is not stored here: it is the fold of the
-- append-only quantity changes below.
CREATE TABLE subscriptions (
  tenant_id            uuid NOT NULL,
  id                   uuid NOT NULL,
  contract_id          uuid NOT NULL,
  customer_id          uuid NOT NULL,
  product_id           uuid NOT NULL,
  billing_frequency    text NOT NULL,
  collection_schedule  text NOT NULL,
  is_prorated          boolean NOT NULL,
  invoice_behavior     text NOT NULL,
  billing_anchor       timestamptz NOT NULL,
  invoice_placement    text NOT NULL,
  starting_at          timestamptz NOT NULL,
  ending_before        timestamptz,
  name                 text,
  description          text,
  custom_fields        jsonb NOT NULL DEFAULT '{}',
  created_at           timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id)
);
CREATE INDEX subscriptions_contract ON subscriptions (tenant_id, contract_id);

CREATE TABLE subscription_quantity_changes (
  tenant_id        uuid NOT NULL,
  subscription_id  uuid NOT NULL,
  sequence         integer NOT NULL,
  starting_at      timestamptz NOT NULL,
  quantity         integer CHECK (quantity >= 0),
  quantity_delta   integer CHECK (quantity_delta <> 0),
  created_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subscription_id, sequence),
  FOREIGN KEY (tenant_id, subscription_id) REFERENCES subscriptions (tenant_id, id),
  CHECK ((quantity IS NULL) <> (quantity_delta IS NULL))
);

-- Recurring credits and commits: terms from which each period's grant is derived.
CREATE TABLE recurring_grants (
  tenant_id               uuid NOT NULL,
  id                      uuid NOT NULL,
  contract_id             uuid NOT NULL,
  customer_id             uuid NOT NULL,
  kind                    text NOT NULL CHECK (kind IN ('CREDIT', 'COMMIT')),
  product_id              uuid NOT NULL,
  credit_type_id          uuid NOT NULL,
  unit_price              numeric NOT NULL CHECK (unit_price >= 0),
  quantity                numeric CHECK (quantity >= 0),
  priority                numeric NOT NULL,
  applicable_product_ids  uuid[],
  applicable_product_tags text[],
  starting_at             timestamptz NOT NULL,
  ending_before           timestamptz,
  recurrence_frequency    text,
  proration               text NOT NULL,
  rollover_fraction       numeric CHECK (rollover_fraction >= 0 AND rollover_fraction <= 1),
  duration_periods        integer NOT NULL CHECK (duration_periods >= 1),
  subscription_id         uuid,
  seat_increase_prorated  boolean,
  rate_type               text NOT NULL,
  name                    text,
  description             text,
  created_at              timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id),
  FOREIGN KEY (tenant_id, subscription_id) REFERENCES subscriptions (tenant_id, id)
);
CREATE INDEX recurring_grants_customer ON recurring_grants (tenant_id, customer_id);

-- One-off credits and commits, on a contract or on the customer, with their access schedules.
CREATE TABLE grants (
  tenant_id               uuid NOT NULL,
  id                      uuid NOT NULL,
  customer_id             uuid NOT NULL,
  contract_id             uuid,
  kind                    text NOT NULL CHECK (kind IN ('CREDIT', 'COMMIT')),
  product_id              uuid NOT NULL,
  credit_type_id          uuid NOT NULL,
  priority                numeric NOT NULL,
  applicable_product_ids  uuid[],
  applicable_product_tags text[],
  applicable_contract_ids uuid[],
  rate_type               text NOT NULL,
  name                    text,
  description             text,
  custom_fields           jsonb NOT NULL DEFAULT '{}',
  created_at              timestamptz NOT NULL,
  archived_at             timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id)
);
CREATE INDEX grants_customer ON grants (tenant_id, customer_id);

CREATE TABLE grant_segments (
  tenant_id      uuid NOT NULL,
  id             uuid NOT NULL,
  grant_id       uuid NOT NULL,
  position       integer NOT NULL,
  starting_at    timestamptz NOT NULL,
  ending_before  timestamptz NOT NULL,
  amount         numeric NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id),
  CHECK (starting_at < ending_before)
);
CREATE INDEX grant_segments_grant ON grant_segments (tenant_id, grant_id, position);

-- Recorded ledger movements (manual entries now; invoice deductions later). Append-only: a
-- balance is always the sum of movements, never a column that is read, changed and written.
-- Grant and segment ids may be derived ids of what a recurring grant generated.
CREATE TABLE ledger_entries (
  tenant_id    uuid NOT NULL,
  id           uuid NOT NULL,
  customer_id  uuid NOT NULL,
  grant_id     uuid NOT NULL,
  segment_id   uuid NOT NULL,
  kind         text NOT NULL,
  amount       numeric NOT NULL,
  "timestamp"  timestamptz NOT NULL,
  reason       text,
  invoice_id   uuid,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ledger_entries_customer ON ledger_entries (tenant_id, customer_id, segment_id);
