import type { Balance } from '../../modules/account/service.js';
import { formatAmount, formatDay, unitIn, type Unit } from '../format.js';
import { html, type Html } from '../html.js';

const ENTRY_NAMES: Record<string, string> = {
  SEGMENT_START: 'Granted',
  SEAT_BASED_ADJUSTMENT: 'Seat adjustment',
  MANUAL: 'Manual entry',
  AUTOMATED_INVOICE_DEDUCTION: 'Used (invoice)',
  ROLLOVER: 'Rolled over',
  EXPIRATION: 'Expired',
};

/**
 * Every credit and commit with the ledger of each segment: the current one open, the others
 * folded. Live deductions (the draft's) are marked as such. `hideNames` shows kinds, not names.
 */
export function ledgerSection(
  balances: Balance[],
  units: Map<string, Unit>,
  now: Date,
  { hideNames = false, seatCredits = 0 }: { hideNames?: boolean; seatCredits?: number } = {},
): Html {
  return html`<section class="card" aria-labelledby="ledger-title">
<h2 id="ledger-title">Credits and ledgers</h2>
${balances.length === 0 ? html`<p class="muted">No credits or commits.</p>` : ''}
${seatCredits ? html`<p class="muted" data-testid="seat-credits-note">The seats’ own credits (${seatCredits}) are in <a href="#seat-balances">Seat balances</a>; their ledgers come from <code>v1.contracts.listSeatBalances</code> with <code>include_ledgers</code>.</p>` : ''}
${balances.map((balance) => {
  const unit = unitIn(units, balance.creditTypeId);
  const title = hideNames ? (balance.kind === 'CREDIT' ? 'Credit' : 'Commit') : (balance.name ?? (balance.kind === 'CREDIT' ? 'Credit' : 'Commit'));
  return html`<h3>${title} · <span data-testid="grant-balance-${balance.id}">${formatAmount(balance.balance, unit)}</span> left</h3>
${balance.segments
  .filter((segment) => segment.startingAt <= now)
  .reverse()
  .map((segment) => {
    const current = segment.startingAt <= now && now < segment.endingBefore;
    const table = html`<div class="table-wrap"><table>
<thead><tr><th scope="col">When</th><th scope="col">Entry</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>${segment.ledger.entries.map(
      (entry) =>
        html`<tr><td>${entry.live ? 'This period so far' : formatDay(entry.timestamp)}</td><td>${ENTRY_NAMES[entry.kind] ?? entry.kind}${entry.reason ? html` <span class="muted">(${entry.reason})</span>` : ''}</td><td class="num">${formatAmount(entry.amount, unit)}</td></tr>`,
    )}
<tr class="total"><td colspan="2">Balance</td><td class="num">${formatAmount(segment.ledger.balance, unit)}</td></tr></tbody></table></div>`;
    const span = `${formatDay(segment.startingAt)} – ${formatDay(new Date(segment.endingBefore.getTime() - 1))}`;
    return current ? html`<p class="muted">Current segment, ${span}</p>${table}` : html`<details><summary>${span}</summary>${table}</details>`;
  })}`;
})}
</section>`;
}
