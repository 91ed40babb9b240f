const REACHED = /_reached$/;

/** `spend_threshold_reached` → `alerts.spend_threshold_reached`. */
export function reachedEventType(alertType: string): string {
  return `alerts.${alertType}`;
}

/** `spend_threshold_reached` → `alerts.spend_threshold_resolved` (a type without the suffix gets `_resolved` appended). */
export function resolvedEventType(alertType: string): string {
  return REACHED.test(alertType) ? `alerts.${alertType.replace(REACHED, '_resolved')}` : `alerts.${alertType}_resolved`;
}

/**
 * The alert types whose crossings are announced: those the alerts module evaluates (its
 * `SUPPORTED_ALERT_TYPES`; a test there checks the two lists agree). Written out here because the
 * alerts module sends through this one, not the other way round.
 */
const ALERT_TYPES = [
  'low_remaining_contract_credit_and_commit_balance_reached',
  'low_remaining_credit_percentage_reached',
  'spend_threshold_reached',
  'usage_threshold_reached',
  'monthly_invoice_total_spend_threshold_reached',
  'low_remaining_seat_balance_reached',
];

/**
 * The webhook event types an endpoint may subscribe to, named as Metronome names them. Every
 * alert type has a pair: `alerts.<type>` when the alert fires (`…_reached`) and the resolved twin
 * when its condition clears (`…_resolved`): `spend_threshold_reached` →
 * `alerts.spend_threshold_reached` and `alerts.spend_threshold_resolved`.
 */
export const WEBHOOK_EVENT_TYPES: readonly string[] = [
  'contract.create',
  'contract.edit',
  'credit.segment.start',
  'credit.segment.end',
  // In scope by the API document; subscribing ahead of the invoice events existing is harmless.
  'invoice.finalized',
  'invoice.billing_provider_error',
  // Threshold billing (auto top-up and spend thresholds): a threshold crossed, and how its payment went.
  'payment_gate.threshold_reached',
  'payment_gate.payment_status',
  ...ALERT_TYPES.flatMap((type) => [reachedEventType(type), resolvedEventType(type)]),
];

const KNOWN = new Set(WEBHOOK_EVENT_TYPES);

export function isKnownEventType(type: string): boolean {
  return KNOWN.has(type);
}
