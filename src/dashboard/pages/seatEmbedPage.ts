import type { EmbedGrant } from '../../modules/dashboards/service.js';
import { formatAmount, formatDay, formatInstant, unitIn } from '../format.js';
import { html, type Html } from '../html.js';
import type { SeatEmbedView } from '../seatView.js';

/**
 * A seat-scoped `credits` view: what one seat's user sees of their own credits — remaining, of
 * what was granted, used, until when — and the team's shared pool their usage draws on after them
 * (or before, when the priorities put the pool first). Nothing of any other seat.
 */
export function seatEmbedContent(view: SeatEmbedView, grant: EmbedGrant): Html {
  const only = grant.options.credit_ledger_credit_type_id;
  const own = view.own.filter((amounts) => !only || amounts.creditTypeId === only);
  const pools = view.pools.filter((pool) => !only || pool.creditTypeId === only);
  return html`<h1>${view.customerName}</h1>
<p class="live" aria-live="polite">Credits · seat <strong data-testid="seat-id">${view.seatId}</strong> · live · as of ${formatInstant(view.now)}</p>
<section class="card" aria-labelledby="seat-own-title"><h2 id="seat-own-title">Your credits</h2>
${own.length === 0 ? html`<p class="muted" data-testid="seat-none">No credits of your own this period.</p>` : ''}
<div class="stats">${own.map((amounts) => {
    const unit = unitIn(view.units, amounts.creditTypeId);
    return html`<div class="stat" data-testid="seat-credit"><div class="label">Remaining</div><div class="value" data-testid="seat-remaining">${formatAmount(amounts.remaining, unit)}</div>
<div class="note">of <span data-testid="seat-starting">${formatAmount(amounts.starting, unit)}</span> · used <span data-testid="seat-used">${formatAmount(amounts.used, unit)}</span>${amounts.endingBefore ? ` · until ${formatDay(new Date(amounts.endingBefore.getTime() - 1))}` : ''}</div></div>`;
  })}</div>
</section>
${pools.map((pool) => {
  const left = html`<strong data-testid="seat-pool-remaining">${formatAmount(pool.balance, unitIn(view.units, pool.creditTypeId))}</strong>`;
  return html`<section class="card" aria-labelledby="seat-pool-title-${pool.creditTypeId}"><h2 id="seat-pool-title-${pool.creditTypeId}">Shared pool</h2>
<p>${pool.drawnFirst ? html`Your usage draws on your team’s shared pool first, then your own credits: ${left} left in the pool.` : html`Once your own credits are used, your usage draws on your team’s shared pool: ${left} left.`}</p></section>`;
})}`;
}
