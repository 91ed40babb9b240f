-- Usage: raw events (for audit, search and re-rating) and the hourly rollups that balances,
-- spend and usage queries read instead of scanning events.

-- Every event accepted by POST /v1/ingest, once: a repeated transaction_id is acknowledged and
-- ignored (DESIGN rule 12). customer_id is the customer the event resolved to when it was
-- ingested (by id or ingest alias), NULL when it named no customer: such an event is kept for
-- audit and search and rated for no one.
CREATE TABLE events (
  tenant_id      uuid NOT NULL,
  transaction_id text NOT NULL,
  customer_ref   text NOT NULL,
  customer_id    uuid,
  event_type     text NOT NULL,
  "timestamp"    timestamptz NOT NULL,
  properties     jsonb NOT NULL,
  received_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, transaction_id)
);
CREATE INDEX events_customer_time ON events (tenant_id, customer_id, "timestamp");

-- Hourly rollups of the events matched to each billable metric. For every event a metric
-- matches there is one row for the total (group_key '{}') and one per group key of the metric
-- (group_key: the key's property names, sorted; group_values: the event's values for them, in
-- that order). Upserts add to event_count and value_sum, raise value_max, and keep the latest
-- value by (event timestamp, transaction_id), so any order and batching of the same events
-- gives the same row.
CREATE TABLE usage_rollups (
  tenant_id             uuid NOT NULL,
  customer_id           uuid NOT NULL,
  metric_id             uuid NOT NULL,
  group_key             text[] NOT NULL,
  hour                  timestamptz NOT NULL,
  group_values          text[] NOT NULL,
  event_count           bigint NOT NULL,
  value_sum             numeric NOT NULL,
  value_max             numeric,
  latest_value          numeric,
  latest_at             timestamptz,
  latest_transaction_id text,
  PRIMARY KEY (tenant_id, customer_id, metric_id, group_key, hour, group_values)
);

-- The distinct values of a UNIQUE metric's aggregation key, per hour (and per group, as above),
-- so that the distinct count over any window of whole hours is exact.
CREATE TABLE usage_distinct_values (
  tenant_id    uuid NOT NULL,
  customer_id  uuid NOT NULL,
  metric_id    uuid NOT NULL,
  group_key    text[] NOT NULL,
  hour         timestamptz NOT NULL,
  group_values text[] NOT NULL,
  value        text NOT NULL,
  PRIMARY KEY (tenant_id, customer_id, metric_id, group_key, hour, group_values, value)
);
