import type { AlertKind } from './options.js';

/** The performance targets (docs/rules.md, "Performance targets"), as the JSON report states them. */
export const TARGETS = {
  // No absolute events/s for ingest: its target is the ratio to the raw insert of the same run.
  // `ingest_throughput` reports the events/s for information, with no target.
  ingestVersusRawInsert: { value: 0.8, text: '≥ 0.8 × the raw INSERT … SELECT unnest … ON CONFLICT DO NOTHING of the same events, same number of connections, same run' },
  ingestLatencyP99Ms: { value: 50, text: 'p99 ≤ 50 ms at 80% of peak load' },
  balanceReadP99Ms: { value: 5, text: 'p99 ≤ 5 ms (getNetBalance and listBalances, one customer, 100 seats, 1,000,000 events in the period)' },
  alertWebhookP99Ms: {
    usage: { value: 100, text: 'event → alert webhook sent under steady ingest: p99 ≤ 100 ms for usage alerts' },
    balance: { value: 300, text: 'event → alert webhook sent under steady ingest: p99 ≤ 300 ms for balance alerts' },
  } satisfies Record<AlertKind, { value: number; text: string }>,
  entitlementCheckP99Ms: { value: 2, text: 'hard-stop check (POST /v1/allot/entitlements/check), warm: p99 ≤ 2 ms' },
  periodCloseSeconds: { value: 30, text: 'period close (invoices + ledger) for 10,000 contracts ≤ 30 s' },
  // The dashboard's: the customer page at month end, and a first paint.
  dashboardPageP99Ms: {
    value: 200,
    text: 'page served in full in ≤ 200 ms (p99) at month end: a customer with 1,000,000 events spread over an open period about a month old',
  },
  dashboardFirstPaintMs: {
    value: 1500,
    chartValue: 2000,
    text: 'first contentful paint ≤ 1.5 s and pool chart drawn ≤ 2 s (p50, cold page loads in headless Chromium) for a customer with 1,000,000 events in its open period',
  },
} as const;
