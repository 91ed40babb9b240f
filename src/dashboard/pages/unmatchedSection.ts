import type { UnmatchedReference } from '../../modules/usage/service.js';
import { formatInstant } from '../format.js';
import { html, type Html } from '../html.js';

const count = new Intl.NumberFormat('en-US');

function referenceTable(references: readonly UnmatchedReference[]): Html {
  return html`<div class="table-wrap">
<table data-sortable data-testid="unmatched-table">
<thead><tr><th scope="col">customer_id sent</th><th scope="col" class="num" data-numeric>Events</th><th scope="col">Last seen</th><th scope="col" class="optional">First seen</th><th scope="col" class="optional">Latest event type</th></tr></thead>
<tbody>
${references.map(
  (reference) => html`<tr>
<td><code>${reference.customerRef}</code></td>
<td class="num" data-sort="${reference.eventCount}">${count.format(reference.eventCount)}</td>
<td data-sort="${reference.lastReceivedAt.toISOString()}">${formatInstant(reference.lastReceivedAt)}</td>
<td class="optional" data-sort="${reference.firstReceivedAt.toISOString()}">${formatInstant(reference.firstReceivedAt)}</td>
<td class="optional"><code>${reference.latestEventType}</code></td>
</tr>`,
)}
</tbody></table>
</div>`;
}

const WHY = 'Their customer_id is neither a customer id nor an ingest alias of this tenant: they are stored and billed to no one. Add the alias to the right customer for the events to come; those already stored stay unbilled.';

/**
 * The customers page's panel: the customer ids and aliases most recently sent that named no
 * customer, with counts and last seen, so a typo shows within minutes. Nothing when there are none.
 */
export function unmatchedPanel({ references, more }: { references: readonly UnmatchedReference[]; more: boolean }): Html {
  if (references.length === 0) return html``;
  return html`<section class="card" aria-labelledby="unmatched-title" data-testid="unmatched-panel">
<h2 id="unmatched-title">Usage for unknown customers</h2>
<p class="muted">${WHY}</p>
${referenceTable(references)}
${more ? html`<p><a href="/ui/usage/unmatched">See every unknown customer id</a></p>` : ''}
</section>`;
}

/** Every unknown customer id and alias, a page at a time, newest last seen first. */
export function unmatchedPage({ references, nextPage }: { references: readonly UnmatchedReference[]; nextPage: string | null }): Html {
  return html`<h1>Usage for unknown customers</h1>
<div class="card">
<p class="muted">${WHY} The same list: <code>GET /v1/allot/events/unmatched</code>.</p>
${references.length === 0 ? html`<p class="muted" data-testid="unmatched-none">Every event named a customer.</p>` : referenceTable(references)}
${nextPage ? html`<p><a class="button" href="/ui/usage/unmatched?${new URLSearchParams({ after: nextPage }).toString()}">Next page</a></p>` : ''}
</div>`;
}
