-- The usage log (ALLOT_NATS_URL; src/modules/usage/log/): per partition of a JetStream stream, the
-- last stream sequence folded into this database, moved in the transaction of each fold, so a
-- message redelivered after a crash at or below it is skipped (exactly once). `writer` is the
-- process that folded last. Empty where no log is configured.
CREATE TABLE usage_log_positions (
  stream      text NOT NULL,
  partition   integer NOT NULL,
  folded_seq  bigint NOT NULL DEFAULT 0,
  writer      text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, partition)
);

-- A call the API node acknowledged that the fold then refuses (a billable metric created in
-- between reads one of its events' properties as a number beyond the bound, or cannot index its
-- group values): never dropped, it is kept here with the reason, in the transaction that moves the
-- partition's position past it, for an operator to see (`allot status`) and send again.
CREATE TABLE usage_log_refusals (
  stream      text NOT NULL,
  partition   integer NOT NULL,
  seq         bigint NOT NULL,
  tenant_id   uuid NOT NULL,
  reason      text NOT NULL,
  entry       text NOT NULL,
  refused_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, partition, seq)
);
