import type { SeatHistory } from '../accountView.js';
import type { SeatSort, SeatTablePage, SeatTableQuery } from '../compute/seatTable.js';
import { formatAmount, formatDay, unitHeading, unitIn, type Unit } from '../format.js';
import { html, jsonScript, type Html } from '../html.js';

/**
 * Seats over time: each live subscription's quantity schedule as a stepped line, up to now (or its
 * last scheduled change), on an axis that ends where the pool's period does, when given.
 */
export function seatChart(seats: SeatHistory[], now: Date, periodEnd?: Date): Html {
  if (seats.length === 0) return html`<p class="muted">No seat subscriptions.</p>`;
  const DAY = 24 * 60 * 60 * 1000;
  const from = Math.floor(Math.min(...seats.map((seat) => seat.startingAt.getTime())) / DAY) * DAY;
  const lastChange = Math.max(...seats.flatMap((seat) => seat.steps.map((step) => step.startingAt.getTime())));
  const drawnUntil = Math.max(now.getTime(), lastChange);
  // The period's end, or a day past what is drawn, to the next midnight.
  const to = Math.max(periodEnd?.getTime() ?? 0, Math.ceil((drawnUntil + DAY) / DAY) * DAY);
  const spec = {
    kind: 'steps',
    from,
    to,
    unit: 'Seats',
    series: seats.map((seat) => {
      const points = seat.steps.map((step) => ({ x: step.startingAt.getTime(), y: String(step.quantity), label: `${step.quantity} seats from ${formatDay(step.startingAt)}` }));
      const last = seat.steps[seat.steps.length - 1];
      if (last) points.push({ x: drawnUntil, y: String(last.quantity), label: `${last.quantity} seats now` });
      return { name: seat.name, points };
    }),
  };
  return html`<figure class="chart small"><canvas data-chart="seats-chart" data-testid="seats-chart" role="img" aria-label="Seats over time"></canvas></figure>${jsonScript('seats-chart', spec)}`;
}

/** The table's state, carried by every link and form of it so that a click changes one thing. */
function seatHref(base: string, query: SeatTableQuery, change: Partial<SeatTableQuery>): string {
  const next = { ...query, ...change };
  const params = new URLSearchParams({
    ...(next.search && { seat_q: next.search }),
    ...(next.sort !== 'seat' && { seat_sort: next.sort }),
    ...(next.direction !== 'asc' && { seat_dir: next.direction }),
    ...(next.unit !== undefined && { seat_unit: next.unit }),
    ...(next.page > 1 && { seat_page: String(next.page) }),
  }).toString();
  return `${base}${params ? `?${params}` : ''}#seat-balances`;
}

const SORT_NAMES: Record<SeatSort, string> = { seat: 'Seat', starting: 'Starting', used: 'Used', remaining: 'Remaining' };

/**
 * Every seat with its own balance per pricing unit (starting, used, remaining), sorted and searched
 * on the server: each column heading is a link sorting by it (again: the other way), the search is
 * a GET form, and the seats come 50 a page, so it works without scripts and with thousands of seats.
 */
export function seatBalancesCard({
  base,
  table,
  query,
  units,
  contractNames,
}: {
  base: string;
  table: SeatTablePage;
  query: SeatTableQuery;
  units: Map<string, Unit>;
  /** The contracts with seats, by id: a Contract column when there are several. */
  contractNames: Map<string, string>;
}): Html {
  // A numeric sort names its unit in the links; sorting by seat id needs none.
  const shown = { ...query, unit: query.sort === 'seat' ? query.unit : table.unit, page: table.page };
  const heading = (sort: SeatSort, label: string, unit?: string) => {
    const active = shown.sort === sort && (sort === 'seat' || shown.unit === unit);
    const direction = active && shown.direction === 'asc' ? 'desc' : 'asc';
    const href = seatHref(base, shown, { sort, direction, page: 1, ...(unit !== undefined && { unit }) });
    const ariaSort = active ? (shown.direction === 'asc' ? 'ascending' : 'descending') : undefined;
    return html`<th scope="col"${sort === 'seat' ? '' : html` class="num"`}${ariaSort ? html` aria-sort="${ariaSort}"` : ''}><a href="${href}" data-testid="seat-sort-${sort}${unit !== undefined && table.units.length > 1 ? `-${unit}` : ''}">${label}${active ? (shown.direction === 'asc' ? ' ▲' : ' ▼') : ''}</a></th>`;
  };
  const manyContracts = contractNames.size > 1;
  const columns = 2 + (manyContracts ? 1 : 0) + table.units.length * 3;
  const from = table.matching ? table.offset + 1 : 0;
  const to = table.offset + table.rows.length;
  return html`<section class="card" aria-labelledby="seat-balances-title" id="seat-balances">
<h2 id="seat-balances-title">Seat balances</h2>
<form class="inline" method="get" action="${base}#seat-balances" role="search">
${shown.sort !== 'seat' ? html`<input type="hidden" name="seat_sort" value="${shown.sort}">` : ''}${shown.direction !== 'asc' ? html`<input type="hidden" name="seat_dir" value="${shown.direction}">` : ''}${query.unit !== undefined ? html`<input type="hidden" name="seat_unit" value="${query.unit}">` : ''}
<label for="seat_q">Search seats by id<input id="seat_q" name="seat_q" type="search" value="${query.search}"></label>
<button type="submit">Search</button>${query.search ? html` <a href="${seatHref(base, shown, { search: '', page: 1 })}">Clear</a>` : ''}
</form>
<p class="muted" data-testid="seat-count">${table.matching === 0 ? (query.search ? 'No seat matches.' : 'No seats yet.') : `Seats ${from}–${to} of ${table.matching}${query.search ? ` matching “${query.search}” (${table.total} in all)` : ''}`}</p>
<div class="table-wrap"><table data-testid="seat-balances-table">
<thead><tr>${heading('seat', SORT_NAMES.seat)}<th scope="col">State</th>${manyContracts ? html`<th scope="col">Contract</th>` : ''}${table.units.map((unit) => {
    const name = unitHeading(unitIn(units, unit));
    return html`${heading('starting', `Starting (${name})`, unit)}${heading('used', `Used (${name})`, unit)}${heading('remaining', `Remaining (${name})`, unit)}`;
  })}</tr></thead>
<tbody>
${table.rows.length === 0 ? html`<tr><td colspan="${columns}" class="muted">No seats to show.</td></tr>` : ''}
${table.rows.map((row) => {
  const cells = table.units.map((unit) => {
    const amounts = row.balances.find((balance) => balance.creditTypeId === unit);
    if (!amounts) return html`<td class="num muted">—</td><td class="num muted">—</td><td class="num muted">—</td>`;
    const shownUnit = unitIn(units, unit);
    return html`<td class="num">${formatAmount(amounts.starting, shownUnit, { bare: true })}</td><td class="num">${formatAmount(amounts.used, shownUnit, { bare: true })}</td><td class="num" data-testid="seat-remaining">${formatAmount(amounts.remaining, shownUnit, { bare: true })}</td>`;
  });
  return html`<tr data-testid="seat-row" data-seat="${row.seatId}"><th scope="row" class="key"><code>${row.seatId}</code></th><td>${row.assigned ? 'Assigned' : html`<span class="muted">Removed</span>`}</td>${manyContracts ? html`<td>${contractNames.get(row.contractId) ?? row.contractId}</td>` : ''}${cells}</tr>`;
})}
</tbody></table></div>
${table.pages > 1 ? html`<nav class="pager" aria-label="Seat pages"><span data-testid="seat-page">Page ${table.page} of ${table.pages}</span>${table.page > 1 ? html` <a href="${seatHref(base, shown, { page: table.page - 1 })}" rel="prev">Previous</a>` : ''}${table.page < table.pages ? html` <a href="${seatHref(base, shown, { page: table.page + 1 })}" rel="next">Next</a>` : ''}</nav>` : ''}
</section>`;
}
