-- Finalised invoices. The open period's invoice is a live draft, computed on read; when its
-- period ends, period close writes it here once (the id is derived from the contract and the
-- period, so two closes of the same period meet on the primary key). A seat increase billed
-- immediately (BILL_IMMEDIATELY) is an invoice of its own, type SCHEDULED, written when the
-- clock reaches the change.
CREATE TABLE invoices (
  tenant_id        uuid NOT NULL,
  id               uuid NOT NULL,
  customer_id      uuid NOT NULL,
  contract_id      uuid NOT NULL,
  type             text NOT NULL CHECK (type IN ('USAGE', 'SCHEDULED')),
  status           text NOT NULL CHECK (status IN ('FINALIZED', 'VOID')),
  start_timestamp  timestamptz NOT NULL,
  end_timestamp    timestamptz NOT NULL,
  -- The date the invoice is issued: the period's end, or the seat change billed at once.
  issued_at        timestamptz NOT NULL,
  -- The fiat pricing unit its total is in (USD cents), rounded to whole units.
  credit_type_id   uuid NOT NULL,
  total            numeric NOT NULL,
  -- Every line as finalised: amounts as decimal text (fiat lines in whole cents).
  lines            jsonb NOT NULL,
  finalized_at     timestamptz NOT NULL,
  voided_at        timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id)
);
CREATE INDEX invoices_customer ON invoices (tenant_id, customer_id, start_timestamp);
-- Where each contract's period close stands: its latest invoice.
CREATE INDEX invoices_contract ON invoices (tenant_id, contract_id, end_timestamp);

-- Invoice deductions are written by period close in the invoice's transaction, once per invoice
-- and segment.
CREATE UNIQUE INDEX ledger_entries_invoice_deduction ON ledger_entries (tenant_id, invoice_id, segment_id)
  WHERE kind = 'AUTOMATED_INVOICE_DEDUCTION';
