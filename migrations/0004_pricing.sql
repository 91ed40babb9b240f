-- The pricing catalog: pricing units, billable metrics, products, rate cards and their rates.
-- Money and quantities are numeric; a JS number never holds them.

-- Custom pricing units (e.g. "AI credits"). USD (cents), id 2714e483-4ff1-48e4-9e25-ac732e8f24f2,
-- is built in for every tenant and has no row: the service always includes it.
CREATE TABLE credit_types (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  id         uuid NOT NULL,
  name       text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX credit_types_name ON credit_types (tenant_id, name);

CREATE TABLE billable_metrics (
  tenant_id         uuid NOT NULL REFERENCES tenants (id),
  id                uuid NOT NULL,
  name              text NOT NULL,
  aggregation_type  text NOT NULL CHECK (aggregation_type IN ('COUNT', 'SUM', 'MAX', 'UNIQUE', 'LATEST')),
  aggregation_key   text,
  event_type_filter jsonb,
  property_filters  jsonb NOT NULL DEFAULT '[]',
  group_keys        jsonb NOT NULL DEFAULT '[]',
  custom_fields     jsonb NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL,
  archived_at       timestamptz,
  PRIMARY KEY (tenant_id, id)
);

-- A product's initial state. Later changes are rows of product_updates, each effective from its
-- starting_at; the state at an instant folds the updates in force over this row.
CREATE TABLE products (
  tenant_id              uuid NOT NULL REFERENCES tenants (id),
  id                     uuid NOT NULL,
  type                   text NOT NULL CHECK (type IN ('USAGE', 'SUBSCRIPTION', 'FIXED')),
  name                   text NOT NULL,
  billable_metric_id     uuid,
  pricing_group_key      text[],
  presentation_group_key text[],
  tags                   text[] NOT NULL DEFAULT '{}',
  custom_fields          jsonb NOT NULL DEFAULT '{}',
  created_at             timestamptz NOT NULL,
  created_by             text NOT NULL,
  archived_at            timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, billable_metric_id) REFERENCES billable_metrics (tenant_id, id)
);

-- One row per products/update call. A NULL column means "unchanged by this update".
CREATE TABLE product_updates (
  tenant_id              uuid NOT NULL,
  id                     uuid NOT NULL,
  product_id             uuid NOT NULL,
  starting_at            timestamptz NOT NULL,
  created_at             timestamptz NOT NULL,
  created_by             text NOT NULL,
  name                   text,
  billable_metric_id     uuid,
  pricing_group_key      text[],
  presentation_group_key text[],
  tags                   text[],
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id),
  FOREIGN KEY (tenant_id, billable_metric_id) REFERENCES billable_metrics (tenant_id, id)
);
CREATE INDEX product_updates_product ON product_updates (tenant_id, product_id);

CREATE TABLE rate_cards (
  tenant_id           uuid NOT NULL REFERENCES tenants (id),
  id                  uuid NOT NULL,
  name                text NOT NULL,
  description         text,
  fiat_credit_type_id uuid NOT NULL,
  custom_fields       jsonb NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL,
  created_by          text NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- How many units of the card's fiat credit type one custom credit is worth. Never modified once added.
CREATE TABLE rate_card_credit_type_conversions (
  tenant_id              uuid NOT NULL,
  rate_card_id           uuid NOT NULL,
  custom_credit_type_id  uuid NOT NULL,
  fiat_per_custom_credit numeric NOT NULL CHECK (fiat_per_custom_credit > 0),
  created_at             timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, rate_card_id, custom_credit_type_id),
  FOREIGN KEY (tenant_id, rate_card_id) REFERENCES rate_cards (tenant_id, id),
  FOREIGN KEY (tenant_id, custom_credit_type_id) REFERENCES credit_types (tenant_id, id)
);

-- Rates are appended, never edited. Where several cover one instant for the same product, pricing
-- group values and billing frequency, the one with the latest starting_at (then the latest added) wins.
CREATE TABLE rates (
  tenant_id            uuid NOT NULL,
  id                   uuid NOT NULL,
  rate_card_id         uuid NOT NULL,
  product_id           uuid NOT NULL,
  starting_at          timestamptz NOT NULL,
  ending_before        timestamptz,
  entitled             boolean NOT NULL,
  rate_type            text NOT NULL CHECK (rate_type IN ('FLAT', 'SUBSCRIPTION', 'TIERED')),
  price                numeric CHECK (price >= 0),
  credit_type_id       uuid NOT NULL,
  billing_frequency    text CHECK (billing_frequency IN ('MONTHLY', 'QUARTERLY', 'ANNUAL', 'WEEKLY')),
  is_prorated          boolean,
  quantity             numeric CHECK (quantity >= 0),
  pricing_group_values jsonb,
  created_at           timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CHECK (ending_before IS NULL OR ending_before > starting_at),
  FOREIGN KEY (tenant_id, rate_card_id) REFERENCES rate_cards (tenant_id, id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX rates_card_product ON rates (tenant_id, rate_card_id, product_id, starting_at);

-- The tiers of a TIERED rate, in order; every tier but the last has a size.
CREATE TABLE rate_tiers (
  tenant_id uuid NOT NULL,
  rate_id   uuid NOT NULL,
  position  integer NOT NULL,
  size      numeric CHECK (size > 0),
  price     numeric NOT NULL CHECK (price >= 0),
  PRIMARY KEY (tenant_id, rate_id, position),
  FOREIGN KEY (tenant_id, rate_id) REFERENCES rates (tenant_id, id)
);
