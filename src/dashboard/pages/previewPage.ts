import type { Decimal } from '../../lib/money.js';
import { formatAmount, formatInstant, unitIn, type Unit } from '../format.js';
import { html, type Html } from '../html.js';
import { formNonce } from '../session.js';

/** A seat change before it is made: what it grants and charges, and the form that makes it. */
export function seatPreviewPage({
  customerId,
  customerName,
  seatName,
  from,
  to,
  startingAt,
  granted,
  charged,
  units,
  confirm,
}: {
  customerId: string;
  customerName: string;
  seatName: string;
  from: number;
  to: number;
  startingAt: Date;
  granted: Map<string, Decimal>;
  charged: Map<string, Decimal>;
  units: Map<string, Unit>;
  confirm: { csrf: string; contractId: string; subscriptionId: string };
}): Html {
  const list = (amounts: Map<string, Decimal>, none: string) =>
    amounts.size === 0 ? html`<span class="muted">${none}</span>` : [...amounts].map(([id, amount], i) => html`${i ? html`<br>` : ''}<span data-testid="preview-${id}">${formatAmount(amount, unitIn(units, id))}</span>`);
  return html`<p><a href="/ui/customers/${customerId}">← ${customerName}</a></p>
<h1>Change seats${seatName === 'Seats' ? '' : html`: ${seatName}`}</h1>
<section class="card" aria-labelledby="preview-title">
<h2 id="preview-title">${from} → ${to} seats from ${formatInstant(startingAt)}</h2>
<dl class="facts">
<dt>Pool change (prorated)</dt><dd data-testid="preview-granted">${list(granted, 'none')}</dd>
<dt>Seat charge change</dt><dd data-testid="preview-charged">${list(charged, 'none')}</dd>
</dl>
<p class="muted">Nothing has changed yet. Seat changes take effect on the hour, so this one counts from ${formatInstant(startingAt)}. Figures are for the current period, prorated to the time left in it.</p>
<form class="inline" method="post" action="/ui/customers/${customerId}/seats">
<input type="hidden" name="csrf" value="${confirm.csrf}">
<input type="hidden" name="once" value="${formNonce()}">
<input type="hidden" name="contract_id" value="${confirm.contractId}">
<input type="hidden" name="subscription_id" value="${confirm.subscriptionId}">
<input type="hidden" name="quantity" value="${to}">
<input type="hidden" name="starting_at" value="${startingAt.toISOString()}">
<button type="submit">Confirm: ${to} seats</button> <a href="/ui/customers/${customerId}">Cancel</a>
</form>
</section>`;
}
