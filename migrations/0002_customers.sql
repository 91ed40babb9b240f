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

-- The aliases events may name a customer by, unique within a tenant. An archived customer keeps
-- its aliases (events naming them still resolve to it), as Metronome does.
CREATE TABLE customer_ingest_aliases (
  tenant_id   uuid NOT NULL,
  customer_id uuid NOT NULL,
  alias       text NOT NULL,
  position    integer NOT NULL,
  PRIMARY KEY (tenant_id, customer_id, alias),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE UNIQUE INDEX customer_ingest_aliases_alias ON customer_ingest_aliases (tenant_id, alias);
