/**
 * The alert types Allot evaluates (docs/rules.md rule 13), and which way each one crosses: a balance or
 * a percentage alarms when it reaches or drops below the threshold; spend, usage and an invoice
 * total alarm when they reach or exceed it.
 */
export const SUPPORTED_ALERT_TYPES = [
  'low_remaining_contract_credit_and_commit_balance_reached',
  'low_remaining_credit_percentage_reached',
  'spend_threshold_reached',
  'usage_threshold_reached',
  'monthly_invoice_total_spend_threshold_reached',
  'low_remaining_seat_balance_reached',
] as const;

export type AlertType = (typeof SUPPORTED_ALERT_TYPES)[number];

/** Metronome's other alert types: named in a refusal, never evaluated. */
export const OTHER_ALERT_TYPES = [
  'low_credit_balance_reached',
  'low_remaining_days_in_plan_reached',
  'low_remaining_days_for_commit_segment_reached',
  'low_remaining_commit_balance_reached',
  'low_remaining_commit_percentage_reached',
  'low_remaining_days_for_contract_credit_segment_reached',
  'low_remaining_contract_credit_balance_reached',
  'low_remaining_contract_credit_percentage_reached',
  'invoice_total_reached',
] as const;

export type Direction = 'at_or_below' | 'at_or_above';

export function directionOf(type: AlertType): Direction {
  return type === 'low_remaining_contract_credit_and_commit_balance_reached' || type === 'low_remaining_credit_percentage_reached' || type === 'low_remaining_seat_balance_reached'
    ? 'at_or_below'
    : 'at_or_above';
}

/** What the alert measures, which decides what an evaluation loads. */
export type Measure = 'balance' | 'credit_percentage' | 'spend' | 'usage' | 'invoice_total' | 'seat_balance';

export function measureOf(type: AlertType): Measure {
  switch (type) {
    case 'low_remaining_contract_credit_and_commit_balance_reached':
      return 'balance';
    case 'low_remaining_credit_percentage_reached':
      return 'credit_percentage';
    case 'spend_threshold_reached':
      return 'spend';
    case 'usage_threshold_reached':
      return 'usage';
    case 'monthly_invoice_total_spend_threshold_reached':
      return 'invoice_total';
    case 'low_remaining_seat_balance_reached':
      return 'seat_balance';
  }
}
