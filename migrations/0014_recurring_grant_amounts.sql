-- Changes of a recurring credit's or commit's amount (v2.contracts.edit
-- update_recurring_credits[].access_amount / update_recurring_commits[].access_amount).
-- The grant's first amount stays in recurring_grants (unit_price, quantity), in force from its
-- starting_at; each row here replaces it for the grant's periods starting at or after
-- effective_from, the start of the first period that had not started when the edit was made.
-- quantity is null on a grant linked to a subscription (its seats count instead).
CREATE TABLE recurring_grant_amounts (
  tenant_id           uuid NOT NULL,
  recurring_grant_id  uuid NOT NULL,
  effective_from      timestamptz NOT NULL,
  unit_price          numeric NOT NULL CHECK (unit_price >= 0),
  quantity            numeric CHECK (quantity >= 0),
  created_at          timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, recurring_grant_id, effective_from),
  FOREIGN KEY (tenant_id, recurring_grant_id) REFERENCES recurring_grants (tenant_id, id)
);
