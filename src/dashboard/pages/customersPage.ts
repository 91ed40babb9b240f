import type { CustomerSummary } from '../accountView.js';
import { formatAmount } from '../format.js';
import { html, type Html } from '../html.js';

function alertBadge(state: CustomerSummary['alertState']): Html {
  if (state === 'in_alarm') return html`<span class="badge alarm">In alarm</span>`;
  if (state === 'ok') return html`<span class="badge ok">OK</span>`;
  return html`<span class="muted">No alerts</span>`;
}

/** The customers at a glance: pool, seats, this period's spend, alert state; searchable, a page at a time. */
export function customersPage({ rows, search, nextPage }: { rows: CustomerSummary[]; search: string; nextPage: string | null }): Html {
  return html`<h1>Customers</h1>
<form class="inline card" method="get" action="/ui/customers" role="search">
<label for="q">Search by name, id or ingest alias<input id="q" name="q" type="search" value="${search}"></label>
<button type="submit">Search</button>${search ? html` <a href="/ui/customers">Clear</a>` : ''}
</form>
<div class="card table-wrap">
<table data-sortable data-testid="customers-table">
<thead><tr><th scope="col">Customer</th><th scope="col" class="num" data-numeric>Pool balance</th><th scope="col" class="num optional" data-numeric>Seats</th><th scope="col" class="num" data-numeric>Invoice so far</th><th scope="col">Alerts</th></tr></thead>
<tbody>
${rows.length === 0 ? html`<tr><td colspan="5" class="muted">${search ? 'No customer matches.' : 'No customers yet.'}</td></tr>` : ''}
${rows.map(
  (row) => html`<tr>
<td><a href="/ui/customers/${row.customer.id}">${row.customer.name}</a><div class="muted optional">${row.customer.ingest_aliases.join(', ')}</div></td>
<td class="num" data-sort="${row.pools[0]?.balance.toFixed() ?? '0'}">${row.pools.length ? row.pools.map((pool, i) => html`${i ? html`<br>` : ''}${formatAmount(pool.balance, pool.unit)}`) : html`<span class="muted">—</span>`}</td>
<td class="num optional" data-sort="${row.seats}">${row.seats}</td>
<td class="num" data-sort="${row.spend[0]?.amount.toFixed() ?? '0'}">${row.spend.length ? row.spend.map((spend, i) => html`${i ? html`<br>` : ''}${formatAmount(spend.amount, spend.unit)}`) : html`<span class="muted">—</span>`}</td>
<td>${alertBadge(row.alertState)}</td>
</tr>`,
)}
</tbody></table>
${nextPage ? html`<p><a class="button" href="/ui/customers?${new URLSearchParams({ ...(search && { q: search }), after: nextPage }).toString()}">Next page</a></p>` : ''}
</div>`;
}
