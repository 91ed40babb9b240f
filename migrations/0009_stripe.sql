-- Stripe, both ways: where a customer's invoices go (billing provider configurations), which
-- finalised invoices were pushed to Stripe, and which Stripe subscriptions own an Allot
-- subscription's seats.

-- Metronome's customer billing provider configurations. Allot supports billing_provider 'stripe'
-- with delivery_method 'direct_to_billing_provider'; configuration holds stripe_customer_id and
-- stripe_collection_method. A customer has at most one live configuration per provider.
CREATE TABLE customer_billing_provider_configurations (
  tenant_id        uuid NOT NULL,
  id               uuid NOT NULL,
  customer_id      uuid NOT NULL,
  billing_provider text NOT NULL,
  delivery_method  text NOT NULL,
  configuration    jsonb NOT NULL,
  created_at       timestamptz NOT NULL,
  archived_at      timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX customer_billing_provider_configurations_live
  ON customer_billing_provider_configurations (tenant_id, customer_id, billing_provider) WHERE archived_at IS NULL;

-- One row per finalised invoice the push worker has taken on. The worker inserts the row itself
-- (it finds invoices of configured customers that have none), so the invoice writer needs to do
-- nothing. status: pending (next_attempt_at is when it is due, or when a worker's lease runs out),
-- synced, skipped (nothing to bill in Stripe), failed (attempts used up), voided (the Allot invoice
-- was voided after it was sent, and so was the Stripe invoice). A synced invoice voided in Allot
-- becomes pending again until its Stripe invoice is voided.
CREATE TABLE stripe_invoice_syncs (
  tenant_id          uuid NOT NULL,
  invoice_id         uuid NOT NULL,
  customer_id        uuid NOT NULL,
  configuration_id   uuid NOT NULL,
  status             text NOT NULL CHECK (status IN ('pending', 'synced', 'skipped', 'failed', 'voided')),
  attempts           integer NOT NULL DEFAULT 0,
  next_attempt_at    timestamptz,
  stripe_invoice_id  text,
  skip_reason        text,
  last_error         text,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id)
);
CREATE INDEX stripe_invoice_syncs_due ON stripe_invoice_syncs (next_attempt_at) WHERE status = 'pending';

-- A Stripe subscription's price that drives an Allot contract subscription's quantity. The
-- webhook finds the tenant through stripe_subscription_id. last_event_created is the Stripe
-- `created` time of the newest event applied, so an older event delivered late is ignored.
CREATE TABLE stripe_subscription_links (
  tenant_id              uuid NOT NULL,
  id                     uuid NOT NULL,
  customer_id            uuid NOT NULL,
  contract_id            uuid NOT NULL,
  subscription_id        uuid NOT NULL,
  stripe_subscription_id text NOT NULL,
  stripe_price_id        text NOT NULL,
  last_event_id          text,
  last_event_created     timestamptz,
  created_at             timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX stripe_subscription_links_subscription ON stripe_subscription_links (tenant_id, subscription_id);
CREATE INDEX stripe_subscription_links_stripe ON stripe_subscription_links (stripe_subscription_id);

-- Every Stripe event id handled, so a redelivered event changes nothing.
CREATE TABLE stripe_processed_events (
  event_id     text PRIMARY KEY,
  type         text NOT NULL,
  created      timestamptz NOT NULL,
  outcome      text NOT NULL,
  processed_at timestamptz NOT NULL
);
