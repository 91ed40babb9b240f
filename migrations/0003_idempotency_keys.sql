-- One row per Idempotency-Key a tenant has used on a mutation, holding the response that a replay
-- returns. The row is written in the same transaction as the mutation itself, so either both
-- exist or neither does. Rows older than the retention window are purged.
CREATE TABLE idempotency_keys (
  tenant_id        uuid NOT NULL REFERENCES tenants (id),
  key              text NOT NULL,
  fingerprint      text NOT NULL,
  created_at       timestamptz NOT NULL,
  response_status  integer,
  response_type    text,
  response_body    text,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
