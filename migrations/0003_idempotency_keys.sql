-- One row per Idempotency-Key a tenant has used on a mutation. While the first request runs,
-- `response_status` is null (the key is reserved); afterwards the row holds the response that a
-- replay returns. Rows older than the retention window are purged.
CREATE TABLE idempotency_keys (
  tenant_id        uuid NOT NULL REFERENCES tenants (id),
  key              text NOT NULL,
  fingerprint      text NOT NULL,
  created_at       timestamptz NOT NULL,
  locked_at        timestamptz,
  response_status  integer,
  response_type    text,
  response_body    text,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
