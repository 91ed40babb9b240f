-- A tenant is one company using Allot; everything else belongs to exactly one tenant.
CREATE TABLE tenants (
  id         uuid PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL
);

-- API keys are stored as the SHA-256 of the key: the key itself is shown once, at creation.
-- Keys are 256-bit random strings, so a fast hash is enough (no password stretching needed).
CREATE TABLE api_keys (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  id         uuid NOT NULL,
  name       text NOT NULL,
  key_hash   text NOT NULL,
  key_prefix text NOT NULL,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
