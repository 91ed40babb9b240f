CREATE TABLE customers (
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  id            uuid NOT NULL,
  name          text NOT NULL,
  custom_fields jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  archived_at   timestamptz,
  PRIMARY KEY (tenant_id, id)
);

-- The aliases events may name a customer by. `live` mirrors "the customer is not archived" so
-- that a partial unique index can keep an alias unique among a tenant's live customers while an
-- archived customer keeps the aliases it had.
CREATE TABLE customer_ingest_aliases (
  tenant_id   uuid NOT NULL,
  customer_id uuid NOT NULL,
  alias       text NOT NULL,
  position    integer NOT NULL,
  live        boolean NOT NULL DEFAULT true,
  PRIMARY KEY (tenant_id, customer_id, alias),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE UNIQUE INDEX customer_ingest_aliases_live_alias
  ON customer_ingest_aliases (tenant_id, alias) WHERE live;
