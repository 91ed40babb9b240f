-- Usage that named no customer of its tenant (an unknown id, a mistyped alias) is stored with
-- customer_id NULL and billed to no one. GET /v1/allot/events/unmatched lists it per reference;
-- this partial index holds only those events, so the listing reads them and nothing else,
-- however many matched events the tenant has: count, first and last received come from the index,
-- and the latest event of each reference listed is one more probe.
CREATE INDEX events_unmatched ON events (tenant_id, customer_ref, received_at) WHERE customer_id IS NULL;
