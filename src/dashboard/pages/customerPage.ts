import { Decimal } from '../../lib/money.js';
import type { CustomerAlertView } from '../../modules/alerts/service.js';
import type { AccountView } from '../accountView.js';
import { formatAmount, formatDay, formatInstant, formatQuantity, unitIn, type Unit } from '../format.js';
import { html, type Html } from '../html.js';
import { formNonce, type Flash, type FormName } from '../session.js';
import { flashMessage } from './chrome.js';
import { invoicesSection } from './invoiceSection.js';
import { ledgerSection } from './ledgerSection.js';
import { poolSection } from './poolSection.js';
import { seatChart } from './seatSection.js';
import { usageSection } from './usageSection.js';

export const ALERT_TYPE_NAMES: Record<string, string> = {
  low_remaining_contract_credit_and_commit_balance_reached: 'Balance at or below',
  low_remaining_credit_percentage_reached: 'Balance left (%) at or below',
  spend_threshold_reached: 'Spend this period at or above',
  usage_threshold_reached: 'Usage this period at or above',
  monthly_invoice_total_spend_threshold_reached: 'Invoice total at or above',
  low_remaining_seat_balance_reached: 'A seat’s balance at or below',
};

/** What the page's forms offer to choose from. */
export interface FormChoices {
  creditTypes: Unit[];
  /** FIXED products: what a one-off credit is recorded against. */
  products: { id: string; name: string }[];
  metrics: { id: string; name: string }[];
  groupProperties: string[];
}

function threshold(view: CustomerAlertView, units: Map<string, Unit>): string {
  const value = new Decimal(view.alert.threshold);
  if (view.alert.alert_type === 'low_remaining_credit_percentage_reached') return `${formatQuantity(value)}%`;
  if (view.alert.alert_type === 'usage_threshold_reached') return formatQuantity(value);
  const unit = view.creditType ? (units.get(view.creditType.id) ?? view.creditType) : undefined;
  return unit ? formatAmount(value, unit) : formatQuantity(value);
}

/** Which values of a group key are in alarm: the first few by name, then how many more. */
function inAlarm(values: string[]): string {
  const SHOWN = 5;
  return `${values.slice(0, SHOWN).join(', ')}${values.length > SHOWN ? ` and ${values.length - SHOWN} more` : ''}`;
}

/** What an alert watches: the whole customer, a group value (or each), a seat (or each seat). */
function watches(view: CustomerAlertView): string {
  const groups = view.alert.group_values ?? [];
  if (view.alert.alert_type === 'low_remaining_seat_balance_reached') {
    const [seat] = groups;
    return seat?.value !== undefined ? `Seat ${seat.value} (${seat.key})` : `Each seat (${seat?.key ?? 'seat'})`;
  }
  return groups.length ? groups.map((g) => `${g.key}${g.value !== undefined ? ` = ${g.value}` : ' (each value)'}`).join(', ') : 'Whole customer';
}

function statusBadge(status: CustomerAlertView['status']): Html {
  if (status === 'in_alarm') return html`<span class="badge alarm">In alarm</span>`;
  if (status === 'ok') return html`<span class="badge ok">OK</span>`;
  return html`<span class="badge">${status ?? 'archived'}</span>`;
}

/** A form's outcome beside it, and the form opened when it was refused. */
const outcome = (flash: Flash, form: FormName) => (flash.form === form ? flashMessage(flash) : html``);

/** An option of a select, chosen when it is what the refused form held. */
const option = (value: string, label: string, typed: string | undefined) => html`<option value="${value}"${typed === value ? ' selected' : ''}>${label}</option>`;

/** What a refused form held, by field, to fill it in again; nothing for another form. */
const typedIn = (flash: Flash, form: FormName): Record<string, string> => (flash.form === form && flash.error ? (flash.values ?? {}) : {});

/** Credit types with the customer's pools first: what its forms default to. */
function creditTypeOptions(view: AccountView, choices: FormChoices, typed: string | undefined): Html {
  const pooled = new Set(view.pools.map((pool) => pool.unit.id));
  const ordered = [...choices.creditTypes.filter((unit) => pooled.has(unit.id)), ...choices.creditTypes.filter((unit) => !pooled.has(unit.id))];
  return html`${ordered.map((unit) => option(unit.id, unitLabel(unit), typed))}`;
}

const unitLabel = (unit: Unit) => (unit.name === 'USD (cents)' ? 'USD (in dollars)' : unit.name);

function alertsCard(view: AccountView, csrf: string, choices: FormChoices, flash: Flash): Html {
  const base = `/ui/customers/${view.customer.id}`;
  const typed = typedIn(flash, 'alert');
  return html`<section class="card" aria-labelledby="alerts-title">
<h2 id="alerts-title">Alerts</h2>
<div class="table-wrap"><table data-testid="alerts-table">
<thead><tr><th scope="col">Name</th><th scope="col" class="optional">Condition</th><th scope="col" class="num">Threshold</th><th scope="col" class="optional">Watches</th><th scope="col">State</th></tr></thead>
<tbody>
${view.alerts.length === 0 ? html`<tr><td colspan="5" class="muted">No alerts apply to this customer.</td></tr>` : ''}
${view.alerts.map(
  (alert) => html`<tr><td>${alert.alert.name}${alert.alert.customer_id ? '' : html` <span class="muted">(every customer)</span>`}</td>
<td class="optional">${ALERT_TYPE_NAMES[alert.alert.alert_type] ?? alert.alert.alert_type}</td>
<td class="num">${threshold(alert, view.units)}</td>
<td class="optional">${watches(alert)}</td>
<td>${statusBadge(alert.status)}${alert.valuesInAlarm.length ? html`<div class="muted" data-testid="alarm-values">${inAlarm(alert.valuesInAlarm)}</div>` : ''}</td></tr>`,
)}
</tbody></table></div>
<details id="alert-form"${flash.form === 'alert' && flash.error ? ' open' : ''}><summary>Create an alert</summary>
${outcome(flash, 'alert')}
<form class="inline" method="post" action="${base}/alerts">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="once" value="${formNonce()}">
<label>Name<input name="name" required maxlength="1024" value="${typed.name ?? ''}"></label>
<label>Condition<select name="alert_type">${Object.entries(ALERT_TYPE_NAMES).map(([value, name]) => option(value, name, typed.alert_type))}</select></label>
<label>Threshold<input name="threshold" required inputmode="decimal" placeholder="e.g. 500" value="${typed.threshold ?? ''}"></label>
<label>Credit type<select name="credit_type_id">${creditTypeOptions(view, choices, typed.credit_type_id)}</select></label>
<label>Metric (usage)<select name="billable_metric_id"><option value="">—</option>${choices.metrics.map((metric) => option(metric.id, metric.name, typed.billable_metric_id))}</select></label>
<label>Per group key<select name="group_key"><option value="">Whole customer</option>${choices.groupProperties.map((key) => option(key, `each ${key}`, typed.group_key))}</select></label>
${seatFields(view, typed)}
<button type="submit">Create alert</button>
</form></details>
</section>`;
}

/**
 * A seat alert's `seat_filter`: the seats' group key (the customer's SEAT_BASED subscriptions'
 * `seat_group_key`, the first chosen) and, optionally, one seat. Sent with seat alerts only.
 */
function seatFields(view: AccountView, typed: Record<string, string>): Html {
  const keys = [...new Set(view.seats.flatMap((seat) => (seat.seatIds ? [seat.seatIds.groupKey] : [])))].sort();
  const chosen = typed.seat_group_key ?? keys[0];
  return html`<label>Seat key (seat alerts)<select name="seat_group_key"><option value="">—</option>${keys.map((key) => option(key, key, chosen))}</select></label>
<label>Seat (seat alerts; blank: each seat)<input name="seat_group_value" maxlength="1024" placeholder="e.g. ada" value="${typed.seat_group_value ?? ''}"></label>`;
}

function seatsCard(view: AccountView, flash: Flash): Html {
  const base = `/ui/customers/${view.customer.id}`;
  const typed = typedIn(flash, 'seats');
  return html`<section class="card" aria-labelledby="seats-title" id="seats-form">
<h2 id="seats-title">Seats</h2>
${seatChart(view.seats, view.now, view.pools[0]?.window.endingBefore)}
${outcome(flash, 'seats')}
${view.seats.map(
  (seat) => html`<form class="inline" method="get" action="${base}/seats/preview">
<input type="hidden" name="contract_id" value="${seat.contractId}"><input type="hidden" name="subscription_id" value="${seat.subscriptionId}">
<label>${seat.name}: ${seat.quantity} seats now; change to<input name="quantity" type="number" min="0" step="1" required value="${typed.subscription_id === seat.subscriptionId && typed.quantity !== undefined ? typed.quantity : seat.quantity}" data-testid="seat-quantity-${seat.subscriptionId}"></label>
<button type="submit">Preview change</button>
</form>`,
)}
</section>`;
}

function contractsCard(view: AccountView): Html {
  return html`<section class="card" aria-labelledby="contract-title">
<h2 id="contract-title">Contracts and subscriptions</h2>
${view.contracts.length === 0 ? html`<p class="muted">No live contract.</p>` : ''}
${view.contracts.map(
  (contract) => html`<h3>${contract.name ?? 'Contract'}</h3>
<dl class="facts"><dt>Id</dt><dd><code>${contract.id}</code></dd><dt>Runs</dt><dd>${formatDay(contract.starting_at)} – ${contract.ending_before ? formatDay(contract.ending_before) : 'open-ended'}</dd>
<dt>Statements</dt><dd>${contract.statement_frequency.toLowerCase()}</dd></dl>
<ul>${view.seats
    .filter((seat) => seat.contractId === contract.id)
    .map((seat) => html`<li>${seat.name}: <strong>${seat.quantity}</strong> seats since ${formatDay([...seat.steps].reverse().find((step) => step.startingAt <= view.now)?.startingAt ?? seat.startingAt)}</li>`)}</ul>`,
)}
</section>`;
}

function creditCard(view: AccountView, csrf: string, choices: FormChoices, flash: Flash): Html {
  const until = view.pools[0]?.window.endingBefore;
  // The pool's own product first: a one-off credit is usually more of the same.
  const poolProduct = view.balances.find((balance) => balance.creditTypeId === view.pools[0]?.unit.id)?.productId;
  const products = [...choices.products.filter((product) => product.id === poolProduct), ...choices.products.filter((product) => product.id !== poolProduct)];
  const typed = typedIn(flash, 'credit');
  return html`<section class="card" aria-labelledby="credit-title" id="credit-form">
<h2 id="credit-title">Add a one-off credit</h2>
${outcome(flash, 'credit')}
${products.length === 0 ? html`<p class="muted">A credit is recorded against a FIXED product; create one first (<code>v1.contracts.products.create</code>).</p>` : ''}
<form class="inline" method="post" action="/ui/customers/${view.customer.id}/credits">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="once" value="${formNonce()}">
<label>Amount<input name="amount" required inputmode="decimal" placeholder="e.g. 250" value="${typed.amount ?? ''}"></label>
<label>Credit type<select name="credit_type_id">${creditTypeOptions(view, choices, typed.credit_type_id)}</select></label>
<label>Product<select name="product_id" required>${products.map((product) => option(product.id, product.name, typed.product_id))}</select></label>
<label>Name<input name="name" maxlength="200" placeholder="Goodwill credit" value="${typed.name ?? ''}"></label>
<label>Usable until (that day included)<input name="ending_before" type="date" required value="${typed.ending_before ?? (until ? new Date(until.getTime() - 1).toISOString().slice(0, 10) : '')}"></label>
<button type="submit">Add credit</button>
</form>
</section>`;
}

/** A customer at a glance, then in detail, with the actions an operator takes. */
export function customerPage({ view, csrf, choices, flash, seatBalances }: { view: AccountView; csrf: string; choices: FormChoices; flash: Flash; seatBalances?: Html | undefined }): Html {
  const seats = view.seats.reduce((total, seat) => total + seat.quantity, 0);
  return html`<p><a href="/ui/customers">← Customers</a></p>
<h1>${view.customer.name}</h1>
<p class="muted">Customer <code>${view.customer.id}</code> · as of ${formatInstant(view.now)}</p>
${flash.form ? '' : flashMessage(flash)}
<div class="stats">
<div class="stat"><div class="label">Seats</div><div class="value" data-testid="seats-total">${seats}</div></div>
${view.drafts.map(
  (draft) => html`<div class="stat"><div class="label">Invoice so far</div><div class="value">${formatAmount(draft.total, unitIn(view.units, draft.creditTypeId))}</div><div class="note">what credits did not cover; issued ${formatDay(draft.issuedAt)}</div></div>`,
)}
<div class="stat"><div class="label">Alerts in alarm</div><div class="value">${view.alerts.filter((alert) => alert.status === 'in_alarm').length} of ${view.alerts.length}</div></div>
</div>
${view.pools.map(
  (pool, index) => poolSection(pool, index),
)}
<div class="grid">
${seatsCard(view, flash)}
${contractsCard(view)}
</div>
${seatBalances ?? ''}
<div class="grid">
${view.groups.map((group) => usageSection(group, view.units))}
</div>
${alertsCard(view, csrf, choices, flash)}
${invoicesSection(view.drafts, view.invoices, view.units)}
${ledgerSection(
  view.balances.filter((balance) => balance.seatId === undefined),
  view.units,
  view.now,
  { seatCredits: view.balances.filter((balance) => balance.seatId !== undefined).length },
)}
${creditCard(view, csrf, choices, flash)}`;
}
