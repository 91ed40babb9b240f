import type { CapStanding } from '../../modules/entitlements/service.js';
import type { CustomerAlertView } from '../../modules/alerts/service.js';
import type { EmbedGrant } from '../../modules/dashboards/service.js';
import { Decimal } from '../../lib/money.js';
import { USD_CREDIT_TYPE_ID } from '../../modules/pricing/service.js';
import { formatAmount, propertyName, type Unit } from '../format.js';
import { html, type Html } from '../html.js';
import { formNonce } from '../session.js';
import { flashMessage } from './chrome.js';

/** What the controls view shows: the customer's caps and per-group spend alerts in the view's unit. */
export interface ControlsView {
  customerName: string;
  unit: Unit;
  /** Each cap with what its group spent this period and holds open. */
  caps: CapStanding[];
  alerts: CustomerAlertView[];
  /** Whether the view's admin made the alert (and so may remove it). */
  madeHere: (alert: CustomerAlertView) => boolean;
}

export interface ControlsOutcome {
  notice?: string | undefined;
  error?: string | undefined;
  /** The form the outcome belongs to, and what it held when refused. */
  form?: 'cap' | 'alert' | undefined;
  values?: Record<string, string> | undefined;
}

/** An amount as a form takes it: dollars for USD, units otherwise. */
const typedAmount = (amount: Decimal, unit: Unit) => (unit.id === USD_CREDIT_TYPE_ID ? amount.div(100).toFixed(2) : amount.toFixed());
const unitWord = (unit: Unit) => (unit.id === USD_CREDIT_TYPE_ID ? 'USD' : unit.name);

/** How the view names group keys and values: the URL's display names, else `user_id` → `user`. */
export function names(grant: EmbedGrant) {
  return {
    key: (key: string) => grant.groupKeyNames[key]?.name ?? propertyName(key),
    value: (key: string, value: string) => grant.groupKeyNames[key]?.values?.[value] ?? value,
  };
}

const hidden = (token: string) => html`<input type="hidden" name="token" value="${token}"><input type="hidden" name="once" value="${formNonce()}">`;

function keyOptions(grant: EmbedGrant, chosen: string | undefined): Html {
  const { key } = names(grant);
  return html`${grant.controls!.groupKeys.map((each) => html`<option value="${each}"${each === chosen ? ' selected' : ''}>${key(each)}</option>`)}`;
}

function capsCard(view: ControlsView, grant: EmbedGrant, token: string, outcome: ControlsOutcome): Html {
  const bounds = grant.controls!;
  const { key, value } = names(grant);
  const typed = outcome.form === 'cap' ? (outcome.values ?? {}) : {};
  return html`<section class="card" aria-labelledby="caps-title" id="caps">
<h2 id="caps-title">Spending caps</h2>
<p class="muted">A cap holds one ${bounds.groupKeys.map(key).join(' or ')} to at most an amount per billing period: what would take it past its cap is refused. Caps of up to ${formatAmount(bounds.maxCapAmount, view.unit)}.</p>
${outcome.form === 'cap' ? flashMessage(outcome) : ''}
<div class="table-wrap"><table data-testid="caps-table">
<thead><tr><th scope="col">For</th><th scope="col">Who</th><th scope="col" class="num">Cap per period</th><th scope="col" class="num">Spent this period</th><th scope="col">Change</th></tr></thead>
<tbody>
${view.caps.length === 0 ? html`<tr><td colspan="5" class="muted">No caps yet.</td></tr>` : ''}
${view.caps.map(({ cap, spent, held }) => {
  const editable = bounds.groupKeys.includes(cap.group_key);
  return html`<tr data-testid="cap-row"><td>${key(cap.group_key)}</td><td>${value(cap.group_key, cap.group_value)}</td><td class="num" data-testid="cap-amount">${formatAmount(new Decimal(cap.amount), view.unit)}</td>
<td class="num" data-testid="cap-spent">${formatAmount(spent, view.unit)}${held.isZero() ? '' : html`<div class="muted">${formatAmount(held, view.unit)} held</div>`}</td>
<td>${
    editable
      ? html`<form class="inline" method="post" action="/embed/controls/caps">${hidden(token)}<input type="hidden" name="group_key" value="${cap.group_key}"><input type="hidden" name="group_value" value="${cap.group_value}">
<label>New cap (${unitWord(view.unit)})<input name="amount" required inputmode="decimal" value="${typedAmount(new Decimal(cap.amount), view.unit)}"></label><button type="submit">Save</button></form>
<form class="inline" method="post" action="/embed/controls/caps/remove">${hidden(token)}<input type="hidden" name="group_key" value="${cap.group_key}"><input type="hidden" name="group_value" value="${cap.group_value}"><button type="submit" class="secondary">Remove</button></form>`
      : html`<span class="muted">Set by your provider</span>`
  }</td></tr>`;
})}
</tbody></table></div>
<h3>Set a cap</h3>
<form class="inline" method="post" action="/embed/controls/caps" data-testid="cap-form">${hidden(token)}
<label>For<select name="group_key">${keyOptions(grant, typed.group_key)}</select></label>
<label>Who<input name="group_value" required maxlength="1000" placeholder="e.g. ada@example.com" value="${typed.group_value ?? ''}"></label>
<label>Cap per period (${unitWord(view.unit)})<input name="amount" required inputmode="decimal" placeholder="e.g. 100" value="${typed.amount ?? ''}"></label>
<button type="submit">Set cap</button>
</form>
</section>`;
}

function statusBadge(status: CustomerAlertView['status']): Html {
  if (status === 'in_alarm') return html`<span class="badge alarm">In alarm</span>`;
  if (status === 'ok') return html`<span class="badge ok">OK</span>`;
  return html`<span class="badge">${status ?? 'archived'}</span>`;
}

function alertsCard(view: ControlsView, grant: EmbedGrant, token: string, outcome: ControlsOutcome): Html {
  const bounds = grant.controls!;
  const { key, value } = names(grant);
  const typed = outcome.form === 'alert' ? (outcome.values ?? {}) : {};
  return html`<section class="card" aria-labelledby="alerts-title" id="alerts">
<h2 id="alerts-title">Spend alerts</h2>
<p class="muted">An alert tells you when one ${bounds.groupKeys.map(key).join(' or ')} has spent a threshold this billing period. Thresholds of up to ${formatAmount(bounds.maxAlertThreshold, view.unit)}.</p>
${outcome.form === 'alert' ? flashMessage(outcome) : ''}
<div class="table-wrap"><table data-testid="alerts-table">
<thead><tr><th scope="col">Name</th><th scope="col">Watches</th><th scope="col" class="num">Threshold</th><th scope="col">State</th><th scope="col">Change</th></tr></thead>
<tbody>
${view.alerts.length === 0 ? html`<tr><td colspan="5" class="muted">No spend alerts yet.</td></tr>` : ''}
${view.alerts.map(
  (alert) => html`<tr data-testid="alert-row"><td>${alert.alert.name}</td>
<td>${(alert.alert.group_values ?? []).map((group) => `${key(group.key)} ${group.value !== undefined ? value(group.key, group.value) : '(each)'}`).join(', ')}</td>
<td class="num" data-testid="alert-threshold">${formatAmount(new Decimal(alert.alert.threshold), view.unit)}</td>
<td data-testid="alert-state">${statusBadge(alert.status)}${alert.valuesInAlarm.length ? html` <span class="muted">${alert.valuesInAlarm.join(', ')}</span>` : ''}</td>
<td>${
    view.madeHere(alert)
      ? html`<form class="inline" method="post" action="/embed/controls/alerts/remove">${hidden(token)}<input type="hidden" name="alert_id" value="${alert.alert.id}"><button type="submit" class="secondary">Remove</button></form>`
      : html`<span class="muted">Set by your provider</span>`
  }</td></tr>`,
)}
</tbody></table></div>
<h3>Add an alert</h3>
<form class="inline" method="post" action="/embed/controls/alerts" data-testid="alert-form">${hidden(token)}
<label>For<select name="group_key">${keyOptions(grant, typed.group_key)}</select></label>
<label>Who<input name="group_value" required maxlength="1000" placeholder="e.g. ada@example.com" value="${typed.group_value ?? ''}"></label>
<label>When spend reaches (${unitWord(view.unit)})<input name="threshold" required inputmode="decimal" placeholder="e.g. 80" value="${typed.threshold ?? ''}"></label>
<label>Name (optional)<input name="name" maxlength="200" value="${typed.name ?? ''}"></label>
<button type="submit">Add alert</button>
</form>
</section>`;
}

/** The controls view: the customer's caps and per-group spend alerts, and the forms that change them within the URL's bounds. */
export function controlsPage(view: ControlsView, grant: EmbedGrant, token: string, outcome: ControlsOutcome): Html {
  return html`<h1>${view.customerName}</h1>
<p class="muted">Spending controls · amounts in ${unitWord(view.unit)}${view.unit.id === USD_CREDIT_TYPE_ID ? ' (dollars)' : ''}</p>
${outcome.form ? '' : flashMessage(outcome)}
${capsCard(view, grant, token, outcome)}
${alertsCard(view, grant, token, outcome)}`;
}
