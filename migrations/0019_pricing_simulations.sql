-- Pricing simulations (POST /v1/allot/pricing/simulations): each one is a job. `request` is the
-- checked request (window, credit type, scenario; amounts as decimal text) with `as_of`, the
-- instant it replays from; `customer_ids` the customers it replays, fixed when it was created.
-- A process runs it while it holds the lease (`lease_owner` until `lease_until`); a job whose
-- lease lapsed (its process stopped) is taken up by another, which goes on from the results
-- already stored.
CREATE TABLE pricing_simulations (
  tenant_id      uuid NOT NULL,
  id             uuid NOT NULL,
  status         text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'cancelled', 'failed')),
  request        jsonb NOT NULL,
  customer_ids   jsonb NOT NULL,
  customer_count integer NOT NULL,
  error          text,
  created_at     timestamptz NOT NULL,
  finished_at    timestamptz,
  lease_owner    text,
  lease_until    timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX pricing_simulations_unfinished ON pricing_simulations (created_at) WHERE status IN ('queued', 'running');

-- One customer's result in a simulation, at its position in the simulation's customer_ids.
CREATE TABLE pricing_simulation_results (
  tenant_id     uuid NOT NULL,
  simulation_id uuid NOT NULL,
  position      integer NOT NULL,
  customer_id   uuid NOT NULL,
  result        jsonb NOT NULL,
  PRIMARY KEY (tenant_id, simulation_id, position)
);
