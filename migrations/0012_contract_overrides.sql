-- How a contract picks among multipliers in force together: the lowest multiplier (Metronome's
-- default) or the lowest explicit priority.
ALTER TABLE contracts ADD COLUMN multiplier_override_prioritization text NOT NULL DEFAULT 'LOWEST_MULTIPLIER'
  CHECK (multiplier_override_prioritization IN ('LOWEST_MULTIPLIER', 'EXPLICIT'));

-- A contract's overrides of its rate card's usage prices: an OVERWRITE (a price of its own) or a
-- MULTIPLIER of the list price, for the products it targets, over [starting_at, ending_before).
-- Targets are either `override_specifiers` (each {product_id?, product_tags?}) or the legacy
-- `product_id` / `applicable_product_tags`.
CREATE TABLE contract_overrides (
  tenant_id               uuid NOT NULL,
  id                      uuid NOT NULL,
  contract_id             uuid NOT NULL,
  customer_id             uuid NOT NULL,
  type                    text NOT NULL CHECK (type IN ('OVERWRITE', 'MULTIPLIER')),
  starting_at             timestamptz NOT NULL,
  ending_before           timestamptz,
  override_specifiers     jsonb,
  product_id              uuid,
  applicable_product_tags text[],
  entitled                boolean,
  priority                numeric CHECK (priority > 0),
  multiplier              numeric CHECK (multiplier >= 0),
  rate_type               text CHECK (rate_type IN ('FLAT', 'TIERED')),
  price                   numeric CHECK (price >= 0),
  -- The tiers of a TIERED overwrite, in order, as [{size, price}] with decimal strings.
  tiers                   jsonb,
  credit_type_id          uuid,
  created_at              timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id),
  CHECK (ending_before IS NULL OR ending_before > starting_at),
  CHECK ((type = 'MULTIPLIER') = (multiplier IS NOT NULL)),
  CHECK ((type = 'OVERWRITE') = (rate_type IS NOT NULL))
);
CREATE INDEX contract_overrides_contract ON contract_overrides (tenant_id, contract_id);
