-- Metronome's Stripe provisioning fields.

-- The billing provider configuration a contract's invoices are delivered through
-- (billing_provider_configuration on v1.contracts.create). Null: the customer's live configuration,
-- whichever it is when an invoice is finalised.
ALTER TABLE contracts ADD COLUMN billing_provider_configuration_id uuid;

-- leave_stripe_invoices_in_draft (v1.customers.updateConfig): true, invoices pushed to Stripe are
-- left in draft there; false or null (unset), they are finalised.
ALTER TABLE customers ADD COLUMN leave_stripe_invoices_in_draft boolean;
