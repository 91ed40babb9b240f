import { ApiError, httpApi, type Api } from '../demo/api.js';
import { reportAmount, unitName } from './amounts.js';

export interface ReportFlags {
  url: string;
  key?: string;
  from: string;
  to: string;
  customer?: string;
  format: string;
}

type Row = Record<string, string | boolean | null>;
interface Report {
  data: Row[];
  checks: { rows: number; failing: number };
}

/** `2024-04-01` is midnight UTC; a full RFC 3339 instant is taken as it is. */
function instantOf(name: string, value: string): string {
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  if (Number.isNaN(Date.parse(text))) throw new Error(`--${name} must be a date (2024-04-01) or an RFC 3339 instant, got "${value}"`);
  return text;
}

/** Text columns (the first `leftColumns`) are aligned left, amounts and counts right. */
function table(rows: Row[], columns: [string, string][], leftColumns = 2): string {
  const cells = [columns.map(([, title]) => title), ...rows.map((row) => columns.map(([key]) => String(row[key] ?? '')))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

/** The tenant's credit types by id, for the unit column. */
async function creditTypeNames(api: Api): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  let nextPage: string | null = null;
  do {
    const page: { data: { id: string; name: string }[]; next_page: string | null } = await api.get(`/v1/credit-types/list${nextPage ? `?next_page=${encodeURIComponent(nextPage)}` : ''}`);
    for (const type of page.data) names.set(type.id, type.name);
    nextPage = page.next_page;
  } while (nextPage);
  return names;
}

const LEDGER_AMOUNTS = ['opening_balance', 'grants', 'seat_adjustments', 'deductions', 'manual', 'rollovers', 'expirations', 'closing_balance'];
const INVOICE_AMOUNTS = ['subscriptions', 'usage', 'applied', 'conversions', 'total'];

/** A row with its amounts as `reportAmount` prints them, in `creditTypeId`'s unit. */
function printedAmounts(row: Row, keys: readonly string[], creditTypeId: unknown): Row {
  return Object.fromEntries(keys.map((key) => [key, reportAmount(row[key], creditTypeId)]));
}

const short = (id: unknown) => (typeof id === 'string' ? id.slice(0, 8) : '');

/**
 * `allot report`: the reconciliation reports of a running server for a window, as tables (with
 * every check printed), CSV or JSON. Returns the text and whether every check passed.
 */
export async function reportCommand(flags: ReportFlags, env: NodeJS.ProcessEnv): Promise<{ text: string; ok: boolean }> {
  const key = flags.key ?? (env.ALLOT_KEY || undefined);
  if (!key) throw new Error('an API key is needed: --key or ALLOT_KEY');
  if (!['table', 'csv', 'json'].includes(flags.format)) throw new Error(`--format must be table, csv or json, got "${flags.format}"`);
  const baseUrl = flags.url.replace(/\/+$/, '');
  const api = httpApi(baseUrl, key);
  const query = new URLSearchParams({ starting_on: instantOf('from', flags.from), ending_before: instantOf('to', flags.to), ...(flags.customer && { customer_id: flags.customer }) });
  const [ledger, invoices, unbilled, names] = await Promise.all([
    api.get<Report>(`/v1/allot/reports/ledger?${query}`),
    api.get<Report>(`/v1/allot/reports/invoices?${query}`),
    api.get<Report>(`/v1/allot/reports/unbilled-usage?${query}`),
    flags.format === 'table' ? creditTypeNames(api) : new Map<string, string>(),
  ]);
  const ok = ledger.checks.failing === 0 && invoices.checks.failing === 0 && unbilled.checks.failing === 0;
  if (flags.format === 'json') return { text: JSON.stringify({ ledger, invoices, unbilled_usage: unbilled }, null, 2), ok };
  if (flags.format === 'csv') {
    const csv = async (kind: string) => {
      const response = await fetch(`${baseUrl}/v1/allot/reports/${kind}?${query}&format=csv`, { headers: { authorization: `Bearer ${key}` } });
      const text = await response.text();
      if (!response.ok) throw new ApiError(response.status, `/v1/allot/reports/${kind}`, text);
      return text;
    };
    return { text: `${await csv('ledger')}\n${await csv('invoices')}\n${await csv('unbilled-usage')}`, ok };
  }
  const ledgerRows = ledger.data.map((row) => ({
    ...row,
    ...printedAmounts(row, LEDGER_AMOUNTS, row.credit_type_id),
    customer: short(row.customer_id),
    grant: `${row.grant_name ?? short(row.grant_id)} ${short(row.segment_id)}`,
    unit: unitName(row.credit_type_id, names),
    check: row.adds_up ? 'adds up' : 'DOES NOT ADD UP',
  }));
  const invoiceRows = invoices.data.map((row) => ({
    ...row,
    ...printedAmounts(row, INVOICE_AMOUNTS, row.credit_type_id),
    // What credits and commits paid, in their own units (a pool's AI credits).
    ledger_deductions: reportAmount(row.ledger_deductions, null),
    invoice: short(row.invoice_id),
    customer: short(row.customer_id),
    check: [row.lines_add_up ? 'lines = total' : 'LINES ≠ TOTAL', row.ledger_agrees ? 'ledger agrees' : 'LEDGER DISAGREES'].join(', '),
  }));
  const text = [
    `Ledger from ${query.get('starting_on')} to ${query.get('ending_before')}, per customer and segment (amounts in each grant's pricing unit):`,
    '',
    table(ledgerRows, [
      ['customer', 'customer'],
      ['grant', 'credit / segment'],
      ['unit', 'unit'],
      ['opening_balance', 'opening'],
      ['grants', 'grants'],
      ['seat_adjustments', 'seat adj.'],
      ['deductions', 'deductions'],
      ['manual', 'manual'],
      ['rollovers', 'rollovers'],
      ['expirations', 'expirations'],
      ['closing_balance', 'closing'],
      ['check', 'check'],
    ], 3),
    '',
    'Invoices of periods starting in the window (fiat lines in dollars; "ledger" is what credits and commits paid, in their own units):',
    '',
    table(invoiceRows, [
      ['invoice', 'invoice'],
      ['customer', 'customer'],
      ['type', 'type'],
      ['status', 'status'],
      ['subscriptions', 'seats'],
      ['usage', 'usage'],
      ['applied', 'applied'],
      ['conversions', 'conversions'],
      ['total', 'total'],
      ['ledger_deductions', 'ledger'],
      ['check', 'check'],
    ]),
    '',
    ...(unbilled.data.length === 0
      ? ['No usage arrived after its period\'s invoice was finalised.']
      : [
          'USAGE THAT REACHED NO INVOICE (events dated in a period and received after its invoice was finalised):',
          '',
          table(
            unbilled.data.map((row) => ({ ...row, invoice: short(row.invoice_id), customer: short(row.customer_id) })),
            [
              ['customer', 'customer'],
              ['invoice', 'invoice'],
              ['start_timestamp', 'period start'],
              ['finalized_at', 'finalised'],
              ['late_events', 'late events'],
              ['last_received_at', 'last received'],
            ],
          ),
        ]),
    '',
    'Amounts: USD in dollars to the cent, other units to 4 decimals at most; the checks compare exact amounts, and --format csv or json prints every digit.',
    `Checks: ${ledger.checks.rows - ledger.checks.failing} of ${ledger.checks.rows} segments add up; ${invoices.checks.rows - invoices.checks.failing} of ${invoices.checks.rows} invoices add up and agree with the ledger; ${unbilled.checks.failing} periods with unbilled usage.${ok ? '' : ' SOME CHECKS FAILED.'}`,
  ].join('\n');
  return { text, ok };
}
