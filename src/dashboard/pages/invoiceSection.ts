import type { Invoice } from '../../modules/invoices/service.js';
import { formatAmount, formatDay, formatQuantity, unitIn, type Unit } from '../format.js';
import { html, type Html } from '../html.js';

const LINE_NAMES: Record<string, string> = {
  usage: 'Usage',
  subscription: 'Seats',
  applied_commit_or_credit: 'Paid by credit',
  cpu_conversion: 'Overage converted',
  scheduled: 'Threshold commit',
};

/** One invoice: its lines and total. Lines of zero quantity are left out unless `showZero`. */
export function invoiceTable(invoice: Invoice, units: Map<string, Unit>, { showZero = false }: { showZero?: boolean } = {}): Html {
  const lines = invoice.lines.filter((line) => showZero || line.quantity === null || !line.quantity.isZero() || !line.total.isZero());
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Line</th><th scope="col" class="optional">Kind</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>
${lines.map(
  (line) => html`<tr><td>${line.name}</td><td class="optional">${LINE_NAMES[line.type] ?? line.type}</td><td class="num">${line.quantity === null ? '' : formatQuantity(line.quantity)}</td><td class="num">${formatAmount(line.total, unitIn(units, line.creditTypeId))}</td></tr>`,
)}
<tr class="total"><td>Total</td><td class="optional"></td><td></td><td class="num" data-testid="invoice-total-${invoice.id}">${formatAmount(invoice.total, unitIn(units, invoice.creditTypeId))}</td></tr>
</tbody></table></div>`;
}

/** The live drafts in full, then past invoices, each folded. */
export function invoicesSection(drafts: Invoice[], past: Invoice[], units: Map<string, Unit>, { showZero = false }: { showZero?: boolean } = {}): Html {
  const label = (invoice: Invoice) => `${formatDay(invoice.period.startingAt)} – ${formatDay(new Date(invoice.period.endingBefore.getTime() - 1))}`;
  return html`<section class="card" aria-labelledby="invoices-title">
<h2 id="invoices-title">Invoices</h2>
${drafts.length === 0 ? html`<p class="muted">No open period.</p>` : ''}
${drafts.map((draft) => html`<h3>Current period (draft) · ${label(draft)}</h3><p class="muted">Issued ${formatDay(draft.issuedAt)}; updates as usage arrives.</p>${invoiceTable(draft, units, { showZero })}`)}
${past.length ? html`<h3>Past invoices</h3>` : ''}
${past.map(
  (invoice) => html`<details><summary>${label(invoice)} · ${invoice.type === 'SCHEDULED' ? (invoice.lines.some((line) => line.type === 'scheduled') ? 'Threshold commit' : 'Seats added') : 'Usage'} · ${invoice.status.toLowerCase()} · <strong>${formatAmount(invoice.total, unitIn(units, invoice.creditTypeId))}</strong></summary>${invoiceTable(invoice, units, { showZero })}</details>`,
)}
</section>`;
}
