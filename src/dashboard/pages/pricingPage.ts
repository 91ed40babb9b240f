import type { Decimal } from '../../lib/money.js';
import type { Simulation } from '../../modules/simulations/service.js';
import type { ChangeBucket, CustomerChange } from '../compute/simulationView.js';
import { formatAmount, unitIn, type Unit } from '../format.js';
import { html, jsonScript, type Html } from '../html.js';
import type { PricingForm } from '../pricingForm.js';
import { burnDownSection } from './burnDownSection.js';

const USD: Unit = { id: '2714e483-4ff1-48e4-9e25-ac732e8f24f2', name: 'USD (cents)' };
const dollars = (cents: Decimal) => formatAmount(cents, USD);
const signed = (cents: Decimal) => `${cents.gt(0) ? '+' : ''}${dollars(cents)}`;
const day = (at: Date | null) => (at ? at.toISOString().slice(0, 16).replace('T', ' ') : '—');

/** The pricing page: a copy of a rate card whose flat prices and tiers can be edited and a usage product added, a window, contract changes, and the simulations run so far. */
export function pricingPage({ form, simulations }: { form: PricingForm; simulations: Simulation[] }): Html {
  const value = (name: string) => form.values[name] ?? '';
  return html`<h1>Pricing experiments</h1>
<p class="muted">Replay your customers’ stored usage under new prices, side by side with what they pay now. Nothing billed changes.</p>
<form class="inline card" method="get" action="/ui/pricing">
<label for="rate_card_id">Rate card to copy<select id="rate_card_id" name="rate_card_id">${form.rateCards.map((card) => html`<option value="${card.id}"${card.id === form.rateCardId ? html` selected` : ''}>${card.name}</option>`)}</select></label>
<button type="submit" class="secondary">Show its rates</button>
</form>
<form class="card" method="post" action="/ui/pricing" data-testid="simulation-form">
<input type="hidden" name="csrf" value="${form.csrf}">
${form.error ? html`<div class="error" role="alert">${form.error}</div>` : ''}
<h2>New prices</h2>
<p class="muted">Leave a price empty to keep it. A new price applies to the product on every customer’s own rate card, from the start of the window.</p>
<div class="table-wrap"><table data-testid="rates-table">
<thead><tr><th scope="col">Product</th><th scope="col" class="num">Price now</th><th scope="col">New price</th></tr></thead>
<tbody>
${form.rates.length === 0 ? html`<tr><td colspan="3" class="muted">This card prices no usage with a flat or tiered rate now.</td></tr>` : ''}
${form.rates.map(
  ({ index, rate, productName, unit }) => html`<tr><td>${productName}${rate.pricingGroupValues ? html` <span class="muted">${Object.entries(rate.pricingGroupValues).map(([key, v]) => `${key}=${v}`).join(', ')}</span>` : ''}</td>
${rate.rateType === 'TIERED' ? tierCells(form, index, rate.tiers ?? [], productName, unit) : html`<td class="num">${rate.price!.toFixed()} ${unit.name} a unit</td>
<td><input name="price.${index}" inputmode="decimal" aria-label="New price of ${productName}, ${unit.name} a unit" value="${value(`price.${index}`)}"></td>`}</tr>`,
)}
</tbody></table></div>
<h2>Add a product</h2>
<p class="muted">Price a usage product this card does not price yet (an add-on), flat, from the start of the window.</p>
<div class="grid">
<label for="new_product_id">Product to add<select id="new_product_id" name="new_product_id"><option value="">None</option>${form.newProducts.map((product) => html`<option value="${product.id}"${product.id === value('new_product_id') ? html` selected` : ''}>${product.name}</option>`)}</select></label>
<label for="new_price">Price a unit<input id="new_price" name="new_price" inputmode="decimal" value="${value('new_price')}"></label>
<label for="new_credit_type_id">In<select id="new_credit_type_id" name="new_credit_type_id">${form.units.map((unit) => html`<option value="${unit.id}"${unit.id === value('new_credit_type_id') ? html` selected` : ''}>${unit.name}</option>`)}</select></label>
</div>
<h2>Window and contracts</h2>
<div class="grid">
<label for="starting_on">From<input id="starting_on" name="starting_on" value="${value('starting_on')}" required></label>
<label for="ending_before">Until (not included)<input id="ending_before" name="ending_before" value="${value('ending_before')}" required></label>
<label for="credits_per_seat">Credits per seat (pooled)<input id="credits_per_seat" name="credits_per_seat" inputmode="decimal" value="${value('credits_per_seat')}"></label>
<label for="seat_price">Seat price, in dollars<input id="seat_price" name="seat_price" inputmode="decimal" value="${value('seat_price')}"></label>
</div>
<input type="hidden" name="rate_card_id" value="${form.rateCardId ?? ''}">
<p><button type="submit">Run the simulation</button></p>
</form>
<section class="card"><h2>Simulations</h2>
<div class="table-wrap"><table data-testid="simulations-table">
<thead><tr><th scope="col">Created</th><th scope="col">Window</th><th scope="col">Status</th><th scope="col" class="num">Customers</th><th scope="col" class="num">Now</th><th scope="col" class="num">Simulated</th></tr></thead>
<tbody>
${simulations.length === 0 ? html`<tr><td colspan="6" class="muted">None yet.</td></tr>` : ''}
${simulations.map(
  (simulation) => html`<tr><td><a href="/ui/pricing/${simulation.id}">${day(simulation.createdAt)}</a></td><td>${day(simulation.request.startingOn)} → ${day(simulation.request.endingBefore)}</td>
<td>${simulation.status}${simulation.status === 'running' || simulation.status === 'queued' ? ` (${percentOf(simulation)}%)` : ''}</td><td class="num">${simulation.customerCount}</td>
<td class="num">${dollars(simulation.totals.actual)}</td><td class="num">${dollars(simulation.totals.simulated)}</td></tr>`,
)}
</tbody></table></div></section>`;
}

/** A tiered rate's cells: its tiers now, and an input for each tier's size and price and for a tier added after the last. */
function tierCells(form: PricingForm, index: number, tiers: readonly { size: Decimal | null; price: Decimal }[], productName: string, unit: Unit): Html {
  const value = (name: string) => form.values[name] ?? '';
  const input = (t: number, field: 'size' | 'price', label: string, placeholder: string) =>
    html`<input name="tier.${index}.${t}.${field}" inputmode="decimal" size="8" aria-label="${label}" placeholder="${placeholder}" value="${value(`tier.${index}.${t}.${field}`)}">`;
  const rows = tiers.map(
    (tier, t) => html`<tr><th scope="row">Tier ${t + 1}</th><td>${input(t, 'size', `Tier ${t + 1} size of ${productName}`, tier.size?.toFixed() ?? 'no limit')}</td><td>${input(t, 'price', `Tier ${t + 1} price of ${productName}, ${unit.name} a unit`, tier.price.toFixed())}</td></tr>`,
  );
  return html`<td class="num" data-testid="tiers-now-${index}">${tiers.map((tier, t) => html`<div>${tier.size ? `${t === 0 ? 'first' : 'next'} ${tier.size.toFixed()} units` : 'above'}: ${tier.price.toFixed()} ${unit.name} a unit</div>`)}</td>
<td><table class="tiers"><thead><tr><th></th><th scope="col">Size</th><th scope="col">Price</th></tr></thead><tbody>${rows}
<tr><th scope="row">Add a tier</th><td>${input(tiers.length, 'size', `Added tier size of ${productName}`, 'no limit')}</td><td>${input(tiers.length, 'price', `Added tier price of ${productName}, ${unit.name} a unit`, '')}</td></tr></tbody></table>
<span class="muted">Empty keeps the tier as it is.</span></td>`;
}

/** The scenario's rate changes as read back: each product's new flat price or tiers, in its unit. */
function rateChangesList(simulation: Simulation, productNames: ReadonlyMap<string, string>, units: ReadonlyMap<string, Unit>): Html | string {
  const changes = simulation.request.scenario.rateChanges;
  if (changes.length === 0) return '';
  const priced = (change: (typeof changes)[number]) => {
    const unit = unitIn(units, change.creditTypeId).name;
    if (change.price !== null) return `${change.price.toFixed()} ${unit} a unit`;
    return (change.tiers ?? []).map((tier, t) => `${tier.size ? `${t === 0 ? 'first' : 'next'} ${tier.size.toFixed()} units` : 'above'} at ${tier.price.toFixed()}`).join(', ') + ` ${unit} a unit`;
  };
  return html`<section class="card"><h2>New prices</h2><ul data-testid="rate-changes">${changes.map(
    (change) => html`<li>${productNames.get(change.productId) ?? change.productId}: ${change.rateType === 'TIERED' ? 'tiered, ' : ''}${priced(change)} from ${day(change.startingAt)}</li>`,
  )}</ul></section>`;
}

export const percentOf = (simulation: Simulation) =>
  simulation.status === 'completed' || simulation.customerCount === 0 ? 100 : Math.floor((simulation.done * 100) / simulation.customerCount);

/**
 * One simulation: totals now and simulated, the distribution of the change per customer (a chart),
 * the biggest winners and losers, and each customer's pool: credits burned and run-out date, now
 * and simulated, and the chosen customer's (`selected`) burn-down chart.
 */
export function simulationPage({
  simulation,
  view,
  names,
  units,
  selected,
  productNames = new Map(),
}: {
  simulation: Simulation;
  selected?: string | undefined;
  /** The names of the products the scenario's rate changes price. */
  productNames?: ReadonlyMap<string, string>;
  view: { winners: CustomerChange[]; losers: CustomerChange[]; distribution: ChangeBucket[] };
  names: ReadonlyMap<string, string>;
  units: ReadonlyMap<string, Unit>;
}): Html {
  const name = (customerId: string) => names.get(customerId) ?? customerId;
  const link = (customerId: string) => html`<a href="/ui/customers/${customerId}">${name(customerId)}</a>`;
  const change = simulation.totals.simulated.sub(simulation.totals.actual);
  const spec = {
    kind: 'bars',
    name: 'Customers by change',
    unit: 'customers',
    labels: view.distribution.map((bucket) => `${signed(bucket.from)} to ${signed(bucket.to)}`),
    values: view.distribution.map((bucket) => String(bucket.customers)),
    formatted: view.distribution.map((bucket) => `${bucket.customers} customer${bucket.customers === 1 ? '' : 's'}`),
  };
  const changeTable = (title: string, rows: CustomerChange[], testId: string) => html`<section class="card"><h2>${title}</h2>
<table data-testid="${testId}"><thead><tr><th scope="col">Customer</th><th scope="col" class="num">Now</th><th scope="col" class="num">Simulated</th><th scope="col" class="num">Change</th></tr></thead><tbody>
${rows.length === 0 ? html`<tr><td colspan="4" class="muted">None.</td></tr>` : ''}
${rows.map((row) => html`<tr><td>${link(row.customerId)}</td><td class="num">${dollars(row.actual)}</td><td class="num">${dollars(row.simulated)}</td><td class="num">${signed(row.change)}</td></tr>`)}
</tbody></table></section>`;
  return html`<h1>Simulation</h1>
<p><a href="/ui/pricing">← Pricing experiments</a></p>
<div class="stats">
<div class="stat"><div class="label">Status</div><div class="value" data-testid="simulation-status">${simulation.status}</div><div class="note">${percentOf(simulation)}% of ${simulation.customerCount} customers${simulation.error ? ` — ${simulation.error}` : ''}</div></div>
<div class="stat"><div class="label">Window</div><div class="value">${day(simulation.request.startingOn)}</div><div class="note">until ${day(simulation.request.endingBefore)}</div></div>
<div class="stat"><div class="label">Invoices now</div><div class="value" data-testid="total-actual">${dollars(simulation.totals.actual)}</div></div>
<div class="stat"><div class="label">Simulated</div><div class="value" data-testid="total-simulated">${dollars(simulation.totals.simulated)}</div><div class="note">${signed(change)}</div></div>
</div>
${rateChangesList(simulation, productNames, units)}
${view.distribution.length ? html`<section class="card"><h2 id="change-distribution-title">Change per customer</h2><figure class="chart bars"><canvas data-chart="change-distribution" role="img" aria-label="Customers by change of their invoices"></canvas></figure>${jsonScript('change-distribution', spec)}</section>` : ''}
<div class="grid">${changeTable('Biggest savings', view.winners, 'winners')}${changeTable('Biggest increases', view.losers, 'losers')}</div>
${chosenBurnDown(simulation, selected, name, units)}
<section class="card"><h2>Pools now and simulated</h2>
<div class="table-wrap tall"><table data-sortable data-testid="pools-table">
<thead><tr><th scope="col">Customer</th><th scope="col" class="num" data-numeric>Burned now</th><th scope="col" class="num" data-numeric>Burned simulated</th><th scope="col">Runs out now</th><th scope="col">Runs out simulated</th><th scope="col">Over the pool</th><th scope="col">Burn-down</th></tr></thead>
<tbody>
${(simulation.results ?? []).map((result) => {
  const unit = unitIn(units, result.creditTypeId);
  return html`<tr><td>${link(result.customerId)}</td><td class="num" data-sort="${result.creditsBurnedActual.toFixed()}">${formatAmount(result.creditsBurnedActual, unit)}</td><td class="num" data-sort="${result.creditsBurnedSimulated.toFixed()}">${formatAmount(result.creditsBurnedSimulated, unit)}</td>
<td>${day(result.runsOutAtActual)}</td><td>${day(result.runsOutAtSimulated)}</td><td>${result.crossesPoolSimulated ? html`<span class="badge alarm">Crosses</span>` : html`<span class="badge ok">Within</span>`}</td>
<td><a href="/ui/pricing/${simulation.id}?${new URLSearchParams({ customer: result.customerId }).toString()}#burn-down"${result.customerId === selected ? html` aria-current="true"` : ''} data-testid="burn-down-link">${result.customerId === selected ? 'Shown' : 'Show'}</a></td></tr>`;
})}
</tbody></table></div></section>`;
}

function chosenBurnDown(simulation: Simulation, selected: string | undefined, name: (customerId: string) => string, units: ReadonlyMap<string, Unit>): Html | string {
  const result = simulation.results?.find((candidate) => candidate.customerId === selected);
  return result ? burnDownSection({ result, name: name(result.customerId), unit: unitIn(units, result.creditTypeId) }) : '';
}
