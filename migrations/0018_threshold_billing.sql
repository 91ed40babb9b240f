-- A contract's threshold configurations, as Metronome shapes them: `PREPAID_BALANCE`
-- (`prepaid_balance_threshold_configuration`, auto top-up) and `SPEND`
-- (`spend_threshold_configuration`, threshold billing). At most one of each per contract; an edit
-- replaces the stored configuration. `configuration` holds the SDK's fields as sent (amounts as
-- decimal text); `is_enabled` is kept beside it because a failed payment turns it off.
CREATE TABLE contract_threshold_configurations (
  tenant_id     uuid NOT NULL,
  contract_id   uuid NOT NULL,
  customer_id   uuid NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('PREPAID_BALANCE', 'SPEND')),
  is_enabled    boolean NOT NULL,
  configuration jsonb NOT NULL,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, contract_id, kind),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id)
);
CREATE INDEX contract_threshold_configurations_customer ON contract_threshold_configurations (tenant_id, customer_id);

-- Each crossing of a threshold: the charge it started, its payment and the commit it released.
-- `PENDING` while the payment gate waits for Stripe; `RELEASED` once the commit exists (`grant_id`)
-- and its SCHEDULED invoice (whose id is the charge's) is finalised; `FAILED` when the payment
-- failed (`failure` says why; no commit, the invoice void). At most one charge per
-- contract and kind is pending at a time: a second crossing seen while one is pending is the same.
CREATE TABLE threshold_charges (
  tenant_id         uuid NOT NULL,
  id                uuid NOT NULL,
  customer_id       uuid NOT NULL,
  contract_id       uuid NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('PREPAID_BALANCE', 'SPEND')),
  credit_type_id    uuid NOT NULL,
  -- The commit's amount, in `credit_type_id`.
  amount            numeric NOT NULL CHECK (amount > 0),
  -- What the charge's SCHEDULED invoice bills (and a STRIPE gate charges), in whole cents of the fiat unit.
  charge_cents      numeric NOT NULL,
  -- What the balance (or the period's spend) was when the threshold was crossed.
  measured          numeric NOT NULL,
  -- The commit's access window: from the crossing's hour to the contract's end (a top-up), or the
  -- crossing's billing period (threshold billing: the commit pays the period's spend so far).
  commit_starting_at   timestamptz NOT NULL,
  commit_ending_before timestamptz NOT NULL,
  payment_gate_type text NOT NULL CHECK (payment_gate_type IN ('NONE', 'STRIPE')),
  status            text NOT NULL CHECK (status IN ('PENDING', 'RELEASED', 'FAILED')),
  grant_id          uuid,
  stripe_invoice_id text,
  failure           text,
  created_at        timestamptz NOT NULL,
  settled_at        timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id)
);
CREATE UNIQUE INDEX threshold_charges_one_pending ON threshold_charges (tenant_id, contract_id, kind) WHERE status = 'PENDING';
CREATE INDEX threshold_charges_customer ON threshold_charges (tenant_id, customer_id, created_at);
