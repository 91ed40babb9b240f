-- SEAT_BASED subscriptions (docs/rules.md rule 27): the seat ids assigned and the unassigned
-- seats are the fold of the append-only seat changes below, and the subscription's quantity
-- (assigned + unassigned) is derived from them, so it is never stored twice.
ALTER TABLE subscriptions ADD COLUMN quantity_management_mode text NOT NULL DEFAULT 'QUANTITY_ONLY'
  CHECK (quantity_management_mode IN ('QUANTITY_ONLY', 'SEAT_BASED'));
ALTER TABLE subscriptions ADD COLUMN seat_group_key text;

-- sequence 0 and 1 are the subscription's initial seats (initial_seat_ids, then
-- initial_unassigned_seats); later changes (v2 edit seat_updates) follow in the order applied.
CREATE TABLE subscription_seat_changes (
  tenant_id        uuid NOT NULL,
  subscription_id  uuid NOT NULL,
  sequence         integer NOT NULL,
  starting_at      timestamptz NOT NULL,
  action           text NOT NULL CHECK (action IN ('ADD_SEATS', 'REMOVE_SEATS', 'ADD_UNASSIGNED', 'REMOVE_UNASSIGNED')),
  seat_ids         text[],
  quantity         integer CHECK (quantity >= 0),
  created_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subscription_id, sequence),
  FOREIGN KEY (tenant_id, subscription_id) REFERENCES subscriptions (tenant_id, id),
  CHECK ((seat_ids IS NULL) <> (quantity IS NULL))
);

-- A recurring credit or commit linked to a subscription grants into one pool (POOLED) or one
-- credit per assigned seat (INDIVIDUAL, on a SEAT_BASED subscription only).
ALTER TABLE recurring_grants ADD COLUMN allocation text NOT NULL DEFAULT 'POOLED' CHECK (allocation IN ('POOLED', 'INDIVIDUAL'));
