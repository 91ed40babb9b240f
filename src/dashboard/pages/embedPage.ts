import { Decimal } from '../../lib/money.js';
import type { EmbedGrant } from '../../modules/dashboards/service.js';
import type { Invoice } from '../../modules/invoices/service.js';
import type { AccountView } from '../accountView.js';
import { formatAmount, formatInstant, formatQuantity, unitIn } from '../format.js';
import { html, type Html } from '../html.js';
import { invoicesSection } from './invoiceSection.js';
import { ledgerSection } from './ledgerSection.js';
import { poolSection } from './poolSection.js';
import { usageSection } from './usageSection.js';

const TITLES = { invoices: 'Invoices', usage: 'Usage', credits: 'Credits', controls: 'Spending controls' } as const;

function invoiceFilter(grant: EmbedGrant): (invoice: Invoice) => boolean {
  const { contract_id: contractId, invoice_type: type, invoice_status_filter: status, hide_voided_invoices: hideVoided } = grant.options;
  const statuses = status === 'FINALIZED_AND_DRAFT' ? ['FINALIZED', 'DRAFT'] : status === 'ALL' || !status ? ['FINALIZED', 'DRAFT', 'VOID'] : [status];
  return (invoice) =>
    (!contractId || invoice.contractId === contractId) &&
    (!type || invoice.type === type) &&
    statuses.includes(invoice.status) &&
    !(hideVoided === 'true' && invoice.status === 'VOID');
}

function usageTotals(view: AccountView): Html {
  const lines = view.drafts.flatMap((draft) => draft.lines.filter((line) => line.type === 'usage'));
  if (lines.length === 0) return html``;
  return html`<section class="card" aria-labelledby="usage-total-title"><h2 id="usage-total-title">This period</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">Product</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Amount</th></tr></thead><tbody>
${lines.map(
  (line) =>
    html`<tr><td>${line.name}</td><td class="num">${line.quantity ? formatQuantity(line.quantity) : ''}</td><td class="num">${formatAmount(line.total, unitIn(view.units, line.creditTypeId))}</td></tr>`,
)}
</tbody></table></div></section>`;
}

/**
 * The embeddable view's content: what one customer sees of itself, read-only. `credits`: the pool
 * (its chart and run-out date) and the ledgers; `usage`: this period's usage, by user and by team;
 * `invoices`: the live draft and past invoices, filtered by the URL's options.
 */
export function embedContent(view: AccountView, grant: EmbedGrant): Html {
  const heading = html`<h1>${view.customer.name}</h1><p class="live" aria-live="polite">${TITLES[grant.dashboard]} · live · as of ${formatInstant(view.now)}</p>`;
  if (grant.dashboard === 'invoices') {
    const keep = invoiceFilter(grant);
    return html`${heading}${invoicesSection(view.drafts.filter(keep), view.invoices.filter(keep), view.units, { showZero: grant.options.show_zero_usage_line_items === 'true' })}`;
  }
  if (grant.dashboard === 'usage') {
    return html`${heading}${usageTotals(view)}<div class="grid">${view.groups.map((group) => usageSection(group, view.units, grant.groupKeyNames))}</div>`;
  }
  const creditTypeId = grant.options.credit_ledger_credit_type_id;
  const pools = view.pools.filter((pool) => !creditTypeId || pool.unit.id === creditTypeId);
  const balances = view.balances.filter((balance) => !creditTypeId || balance.creditTypeId === creditTypeId);
  const seats = view.seats.reduce((total, seat) => total + seat.quantity, 0);
  const shared = balances.filter((balance) => balance.seatId === undefined);
  const own = balances.filter((balance) => balance.seatId !== undefined);
  return html`${heading}
${pools.length === 0 ? html`<p class="muted">No credits this period.</p>` : ''}
${seats ? html`<p>Seats: <strong data-testid="seats-total">${seats}</strong>${own.length === 0 ? ' · every seat adds to the shared pool.' : ''}</p>` : ''}
${pools.map(poolSection)}
${seatCreditsSummary(own, view)}
${ledgerSection(shared, view.units, view.now, { hideNames: grant.options.hide_grant_name === 'true' })}`;
}

/**
 * The seats' own credits in one line per unit (how many seats hold some, and what they have left
 * in all), not a ledger per seat: with thousands of seats the view would be thousands of tables.
 * Each user sees their own in a view scoped to their seat (`seat_id`).
 */
function seatCreditsSummary(own: AccountView['balances'], view: AccountView): Html {
  if (own.length === 0) return html``;
  const byUnit = new Map<string, { seats: Set<string>; left: Decimal }>();
  for (const balance of own) {
    const entry = byUnit.get(balance.creditTypeId) ?? { seats: new Set<string>(), left: new Decimal(0) };
    entry.seats.add(balance.seatId!);
    entry.left = entry.left.add(balance.balance);
    byUnit.set(balance.creditTypeId, entry);
  }
  return html`<section class="card" aria-labelledby="seat-credits-title"><h2 id="seat-credits-title">Seats’ own credits</h2>
${[...byUnit].map(
  ([creditTypeId, entry]) =>
    html`<p data-testid="seat-credits-${creditTypeId}">${entry.seats.size} seat${entry.seats.size === 1 ? '' : 's'} with credits of their own: <strong>${formatAmount(entry.left, unitIn(view.units, creditTypeId))}</strong> left in all.</p>`,
)}
<p class="muted">Each user’s own credits are in the view of their seat.</p></section>`;
}
