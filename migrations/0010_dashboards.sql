-- The operator dashboard and the embeddable customer view.

-- A signed-in operator: the cookie holds a 256-bit random token, stored here as its SHA-256 (as
-- API keys are). A session acts for the API key it was opened with and ends with it: revoking the
-- key, signing out or reaching expires_at ends it. csrf_token is echoed by every form of the session.
CREATE TABLE dashboard_sessions (
  token_hash text PRIMARY KEY,
  tenant_id  uuid NOT NULL,
  api_key_id uuid NOT NULL,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ended_at   timestamptz,
  FOREIGN KEY (tenant_id, api_key_id) REFERENCES api_keys (tenant_id, id)
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);

-- The key each tenant's embeddable URLs are signed with (HMAC-SHA256). Made on first use; an
-- embeddable URL carries everything it shows (customer, dashboard, options, expiry), so nothing is
-- stored per URL.
CREATE TABLE dashboard_signing_keys (
  tenant_id  uuid PRIMARY KEY REFERENCES tenants (id),
  secret     text NOT NULL,
  created_at timestamptz NOT NULL
);
