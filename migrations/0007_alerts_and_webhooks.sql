-- Webhooks: the endpoints an operator registers, the outbox of events, and every delivery and
-- attempt. Alerts: their definitions and each customer's state, so a crossing fires once.

-- Where events are posted. event_types NULL means every type. The secret signs every request
-- (DESIGN rule 14).
CREATE TABLE webhook_endpoints (
  tenant_id   uuid NOT NULL,
  id          uuid NOT NULL,
  url         text NOT NULL,
  secret      text NOT NULL,
  event_types text[],
  description text,
  created_at  timestamptz NOT NULL,
  archived_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);

-- The outbox: every webhook event, inserted in the same transaction as the change that caused
-- it. body is the exact JSON sent, so every attempt signs the same bytes. An event that must
-- exist once per fact (a segment's start) carries a dedupe_key.
CREATE TABLE webhook_events (
  tenant_id  uuid NOT NULL,
  id         uuid NOT NULL,
  type       text NOT NULL,
  body       text NOT NULL,
  dedupe_key text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX webhook_events_dedupe_key ON webhook_events (tenant_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- One event sent to one endpoint. status: pending (next_attempt_at is when it is due, or when
-- the lease of the worker sending it runs out), delivered, or failed (attempts exhausted).
-- max_attempts NULL: the budget the delivering server is configured with; set once an attempt
-- or a manual retry changes it.
CREATE TABLE webhook_deliveries (
  tenant_id       uuid NOT NULL,
  id              uuid NOT NULL,
  endpoint_id     uuid NOT NULL,
  event_id        uuid NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  max_attempts    integer,
  next_attempt_at timestamptz,
  created_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);

-- Every attempt of a delivery: when, how long, and what the endpoint answered (or the error).
CREATE TABLE webhook_attempts (
  tenant_id   uuid NOT NULL,
  delivery_id uuid NOT NULL,
  attempt     integer NOT NULL,
  started_at  timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  error       text,
  PRIMARY KEY (tenant_id, delivery_id, attempt)
);

-- Threshold alerts (DESIGN rule 13). customer_id NULL: every customer of the tenant.
-- group_values: [{"key": …, "value"?: …}] for spend alerts. A released uniqueness_key stays on
-- the alert for the record but no longer blocks reuse.
CREATE TABLE alerts (
  tenant_id                uuid NOT NULL,
  id                       uuid NOT NULL,
  name                     text NOT NULL,
  alert_type               text NOT NULL,
  threshold                numeric NOT NULL,
  customer_id              uuid,
  credit_type_id           uuid,
  billable_metric_id       uuid,
  group_values             jsonb,
  uniqueness_key           text,
  uniqueness_key_released  boolean NOT NULL DEFAULT false,
  evaluate_on_create       boolean NOT NULL,
  created_at               timestamptz NOT NULL,
  archived_at              timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX alerts_uniqueness_key ON alerts (tenant_id, uniqueness_key)
  WHERE uniqueness_key IS NOT NULL AND NOT uniqueness_key_released;
CREATE INDEX alerts_customer ON alerts (tenant_id, customer_id) WHERE archived_at IS NULL;

-- Where each alert stands for each customer: one row for the customer as a whole (grouped false,
-- group_value ''), and, for a spend alert on a group key alone, one row per value of the key
-- (grouped true). status is ok or in_alarm; value, updated_at and triggered_by are those of the
-- evaluation that set the status. No row for the customer as a whole means the alert has not
-- been evaluated for it yet.
CREATE TABLE alert_states (
  tenant_id    uuid NOT NULL,
  alert_id     uuid NOT NULL,
  customer_id  uuid NOT NULL,
  grouped      boolean NOT NULL,
  group_value  text NOT NULL,
  status       text NOT NULL CHECK (status IN ('ok', 'in_alarm')),
  value        numeric,
  triggered_by text,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, alert_id, customer_id, grouped, group_value)
);
