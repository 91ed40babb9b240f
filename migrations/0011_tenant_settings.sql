-- A tenant's billing settings. A tenant without a row, or with a null setting, takes the server's
-- default (ALLOT_INVOICE_GRACE_HOURS for the grace period).
CREATE TABLE tenant_settings (
  tenant_id                  uuid PRIMARY KEY REFERENCES tenants (id),
  -- How long an ended period's invoice stays a draft, taking late usage, before it is finalised.
  invoice_grace_period_hours integer CHECK (invoice_grace_period_hours BETWEEN 0 AND 744),
  updated_at                 timestamptz NOT NULL
);
