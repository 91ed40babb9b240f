-- Holds taken by the hard-stop check (POST /v1/allot/entitlements/check with reserve: true): an
-- amount of a pricing unit set aside for a customer until the event with `transaction_id` is
-- ingested (its actual cost then counts in the balance instead) or `expires_at` passes. A hold
-- is open while neither has happened; open holds lower what the next check allows.
CREATE TABLE entitlement_holds (
  tenant_id      uuid NOT NULL,
  id             uuid NOT NULL,
  customer_id    uuid NOT NULL,
  credit_type_id uuid NOT NULL,
  transaction_id text NOT NULL,
  amount         numeric NOT NULL,
  -- The groups the amount is held against, for their caps: [{"key": "user_id", "value": "ada"}].
  group_values   jsonb NOT NULL DEFAULT '[]',
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  -- One hold per event: a reserve repeated with the same transaction id gets the same hold.
  UNIQUE (tenant_id, transaction_id)
);
CREATE INDEX entitlement_holds_customer ON entitlement_holds (tenant_id, customer_id, credit_type_id, expires_at);

-- Spend caps per group of a customer's usage (a user, a team, a seat): at most `amount` of the
-- pricing unit per billing period for the usage whose `group_key` property is `group_value`. The
-- hard-stop check refuses what would take the group past it (cap_reached).
CREATE TABLE entitlement_caps (
  tenant_id      uuid NOT NULL,
  customer_id    uuid NOT NULL,
  credit_type_id uuid NOT NULL,
  group_key      text NOT NULL,
  group_value    text NOT NULL,
  amount         numeric NOT NULL,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, customer_id, credit_type_id, group_key, group_value)
);
