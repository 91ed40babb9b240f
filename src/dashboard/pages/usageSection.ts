import { Decimal } from '../../lib/money.js';
import type { GroupUsage } from '../accountView.js';
import { chartValue, formatAmount, formatQuantity, propertyName, unitHeading, unitIn, type Unit } from '../format.js';
import { html, jsonScript, type Html } from '../html.js';

/** Display names for group keys and their values (an embeddable URL's `bm_group_key_overrides`). */
export type GroupNames = Record<string, { name?: string | undefined; values?: Record<string, string> | undefined }>;

const TOP = 10;

/**
 * This period's usage by each value of a group property: a bar chart of the heaviest (by spend in
 * the first pricing unit), and a table of every value, sortable by any column.
 */
export function usageSection(group: GroupUsage, units: Map<string, Unit>, names: GroupNames = {}): Html {
  // Own properties only: a group value may be any text, `constructor` included.
  const own = <T>(record: Record<string, T> | undefined, key: string): T | undefined => (record && Object.hasOwn(record, key) ? record[key] : undefined);
  const named = own(names, group.property);
  const title = named?.name ?? propertyName(group.property);
  const valueName = (value: string) => own(named?.values, value) ?? (value === '' ? '(none)' : value);
  const firstUnit = group.creditTypeIds[0] ? unitIn(units, group.creditTypeIds[0]) : undefined;
  const top = group.rows.slice(0, TOP);
  const chartId = `usage-${group.property.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const spec = firstUnit && {
    kind: 'bars',
    name: `Spend by ${title}`,
    unit: unitHeading(firstUnit),
    labels: top.map((row) => valueName(row.value)),
    values: top.map((row) => chartValue(row.spend[0] ?? new Decimal(0), firstUnit)),
    formatted: top.map((row) => formatAmount(row.spend[0] ?? new Decimal(0), firstUnit)),
  };
  return html`<section class="card" aria-labelledby="${chartId}-title">
<h2 id="${chartId}-title">Usage by ${title}</h2>
${spec ? html`<figure class="chart bars"><canvas data-chart="${chartId}" role="img" aria-label="Spend by ${title}, heaviest ${top.length}"></canvas></figure>${jsonScript(chartId, spec)}` : ''}
<div class="table-wrap tall" tabindex="0" role="region" aria-label="Usage by ${title}, every value"><table data-sortable data-testid="${chartId}-table">
<thead><tr><th scope="col">${title}</th>${group.products.map((product) => html`<th scope="col" class="num optional" data-numeric>${product}</th>`)}${group.creditTypeIds.map((id) => html`<th scope="col" class="num" data-numeric>Spend (${unitHeading(unitIn(units, id))})</th>`)}</tr></thead>
<tbody>
${group.rows.map(
  (row) => html`<tr><td>${valueName(row.value)}</td>${row.quantities.map((quantity) => html`<td class="num optional" data-sort="${quantity.toFixed()}">${formatQuantity(quantity)}</td>`)}${row.spend.map(
    (amount, index) => html`<td class="num" data-sort="${amount.toFixed()}">${formatAmount(amount, unitIn(units, group.creditTypeIds[index]!), { bare: true })}</td>`,
  )}</tr>`,
)}
</tbody></table></div>
</section>`;
}
