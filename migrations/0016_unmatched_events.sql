-- Usage that named no customer of its tenant (an unknown id, a mistyped alias) is stored with
-- customer_id NULL and billed to no one. GET /v1/allot/events/unmatched lists it per reference;
-- this partial index holds only those events, so the listing reads them and nothing else,
-- however many matched events the tenant has. The count, first and last seen come from the index
-- alone (an index-only scan), and the latest event's type and transaction id too (INCLUDE).
CREATE INDEX events_unmatched ON events (tenant_id, customer_ref, received_at) INCLUDE (event_type, transaction_id) WHERE customer_id IS NULL;
