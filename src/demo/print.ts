import { formatAmount } from '../dashboard/format.js';
import { Decimal } from '../lib/money.js';
import { USD_CREDIT_TYPE_ID, USD_CREDIT_TYPE_NAME } from '../modules/pricing/service.js';
import type { DemoAlert } from './alerts.js';
import { TOP_USERS_SHOWN, type DemoSummary } from './loadDemo.js';

/** `2026-11-01T00:00:00.000Z` → `2026-11-01 00:00 UTC`. */
const utc = (instant: string) => `${new Date(instant).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

const number = (value: number, digits = 2) => value.toLocaleString('en-US', { maximumFractionDigits: digits });

function table(rows: Array<{ name: string; value: number }>, unit: string): string[] {
  const width = Math.max(...rows.map((row) => row.name.length));
  return rows.map((row) => `    ${row.name.padEnd(width)}  ${number(row.value, 0).padStart(12)} ${unit}`);
}

/** What an alert watches, in a few words: "pool balance ≤ 1,000 AI credits". */
function watches(alert: DemoAlert): string {
  // An alert in USD has its threshold in cents: shown in dollars, as the dashboard shows it.
  const amount =
    alert.unit === USD_CREDIT_TYPE_NAME
      ? formatAmount(new Decimal(String(alert.threshold)), { id: USD_CREDIT_TYPE_ID, name: USD_CREDIT_TYPE_NAME })
      : `${number(alert.threshold)}${alert.unit ? ` ${alert.unit}` : ''}`;
  const per = alert.groupKey ? ` per ${alert.groupKey}` : '';
  switch (alert.type) {
    case 'low_remaining_contract_credit_and_commit_balance_reached':
      return `pool balance ≤ ${amount}`;
    case 'spend_threshold_reached':
      return `spend this period ≥ ${amount}${per}`;
    default:
      return `${alert.type}, threshold ${amount}${per}`;
  }
}

/** The "Alerts:" block: each alert's status, and which of the top users a per-user alert has in alarm. */
function alertLines(alerts: DemoAlert[]): string[] {
  if (alerts.length === 0) return ['', '  Alerts: none on this customer'];
  const width = Math.max(...alerts.map((alert) => alert.name.length));
  const lines = ['', '  Alerts:'];
  for (const alert of alerts) {
    lines.push(`    ${alert.name.padEnd(width)}  ${String(alert.status).padEnd(8)}  ${watches(alert)}`);
    if (alert.users) {
      const inAlarm = alert.users.filter((user) => user.status === 'in_alarm').map((user) => user.name);
      lines.push(`      top users in alarm: ${inAlarm.length ? inAlarm.join(', ') : 'none'}`);
    }
  }
  return lines;
}

/** What the demo prints: what it created (or found), the pool read back, and how to look further. */
export function formatDemo(summary: DemoSummary, { baseUrl, key, keyCreated }: { baseUrl: string; key: string; keyCreated: boolean }): string {
  const lines: string[] = [];
  lines.push(
    summary.created
      ? `Loaded the demo company "${summary.company}" into Allot at ${baseUrl}:`
      : `The demo company "${summary.company}" is already loaded at ${baseUrl} (nothing created; pass --company "Another AI" to load a second one):`,
    '',
    `  customer       ${summary.customerId}`,
    `  ingest alias   ${summary.alias}`,
    `  contract       ${summary.contractId}, from ${utc(summary.contractStart)}`,
    `  seats          ${summary.seats ?? '?'} × ${summary.creditsPerSeat} AI credits, pooled`,
    `  AI credits     pricing unit ${summary.aiCreditsId} (1 AI credit = 100 cents)`,
  );
  if (summary.poolGranted !== null) lines.push(`  pool granted   ${number(summary.poolGranted)} AI credits this period`);
  if (summary.created) {
    lines.push(`  usage sent     ${number(summary.eventsSent, 0)} events by ${summary.users} users in ${summary.teams} teams, from ${utc(summary.contractStart)} to now, through POST /v1/ingest`);
  }
  lines.push(`  pool balance   ${number(summary.poolBalance)} AI credits left (getNetBalance)`);
  if (summary.topUsers.length > 0) {
    lines.push('', '  Top users by chat tokens this period:', ...table(summary.topUsers.slice(0, TOP_USERS_SHOWN), 'tokens'));
  }
  if (summary.teamsUsage.length > 0) {
    lines.push('', '  Chat tokens by team:', ...table(summary.teamsUsage, 'tokens'));
  }
  if (summary.alerts) lines.push(...alertLines(summary.alerts));
  lines.push('');
  if (keyCreated) lines.push(`Created an API key for the tenant "default" (shown only now):`, `  ${key}`, '');
  lines.push(`Open the dashboard and sign in with ${keyCreated ? 'that' : 'your'} API key:`, `  ${baseUrl}/ui/customers/${summary.customerId}`, '');
  lines.push(
    'Or ask the API:',
    `  export ALLOT_KEY=${key}`,
    `  curl -s ${baseUrl}/v1/contracts/customerBalances/getNetBalance -H "Authorization: Bearer $ALLOT_KEY" \\`,
    `    -H 'content-type: application/json' -d '{"customer_id": "${summary.customerId}", "credit_type_id": "${summary.aiCreditsId}"}'`,
  );
  if (summary.chatTokensMetricId) {
    lines.push(
      `  curl -s ${baseUrl}/v1/usage/groups -H "Authorization: Bearer $ALLOT_KEY" -H 'content-type: application/json' \\`,
      `    -d '{"customer_id": "${summary.customerId}", "billable_metric_id": "${summary.chatTokensMetricId}", "window_size": "NONE", "current_period": true, "group_key": ["team"]}'`,
    );
  }
  if (summary.alerts) {
    lines.push(
      `  curl -s ${baseUrl}/v1/customer-alerts/list -H "Authorization: Bearer $ALLOT_KEY" -H 'content-type: application/json' \\`,
      `    -d '{"customer_id": "${summary.customerId}"}'`,
    );
  }
  return lines.join('\n');
}
