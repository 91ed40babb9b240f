import type { Pool } from '../accountView.js';
import { chartValue, formatAmount, formatDay, unitHeading } from '../format.js';
import { html, jsonScript, type Html } from '../html.js';
import type { Decimal } from '../../lib/money.js';

const KIND_NAMES: Record<string, string> = {
  SEGMENT_START: 'Granted',
  SEAT_BASED_ADJUSTMENT: 'Seat adjustment',
  MANUAL: 'Manual entry',
  ROLLOVER: 'Rolled over',
};

export function recentDays(pool: Pick<Pool, 'points' | 'window'>): string {
  const days = Math.min(7, (pool.points.at(-1)!.at.getTime() - pool.window.startingAt.getTime()) / (24 * 60 * 60 * 1000));
  if (days >= 1.95) return `${Math.round(days)} days`;
  const hours = Math.max(1, Math.round(days * 24));
  return hours === 1 ? 'hour' : `${hours} hours`;
}

/** The pool's headline numbers: balance, what was granted, burn per day and the run-out date. */
export function poolStats(pool: Pool, { id }: { id: string }): Html {
  const used = pool.granted.sub(pool.balance);
  const share = pool.granted.gt(0) ? Math.max(0, Math.min(100, pool.balance.div(pool.granted).mul(100).round().toNumber())) : 0;
  return html`<div class="stats">
  <div class="stat"><div class="label">Pool balance</div><div class="value" data-testid="${id}-balance">${formatAmount(pool.balance, pool.unit)}</div>
    <meter min="0" max="100" value="${share}" aria-label="${share}% of the pool left" title="${share}% left"></meter></div>
  <div class="stat"><div class="label">Granted this period</div><div class="value">${formatAmount(pool.granted, pool.unit)}</div><div class="note">${formatAmount(used, pool.unit)} used</div></div>
  <div class="stat"><div class="label">Burn rate</div><div class="value">${formatAmount(pool.burnPerDay, pool.unit)}</div><div class="note">a day, averaged over the last ${recentDays(pool)}</div></div>
  <div class="stat"><div class="label">Runs out</div><div class="value" data-testid="${id}-runout">${pool.runOutAt ? formatDay(pool.runOutAt) : pool.burnPerDay.gt(0) ? 'Not this period' : 'No burn yet'}</div>
    <div class="note">period ends ${formatDay(new Date(pool.window.endingBefore.getTime() - 1))}</div></div>
</div>`;
}

/** A pool's chart as drawn by the dashboard's script: a canvas and its spec (`kind: 'line'`, time on x, series of points). */
export function lineChart({ chartId, spec, label, canvasLabel }: { chartId: string; spec: { kind: 'line'; from: number; to: number; unit: string; series: unknown[] }; label: string; canvasLabel: string }): Html {
  return html`<figure class="chart" aria-label="${label}">
  <canvas data-chart="${chartId}" data-testid="${chartId}" role="img" aria-label="${canvasLabel}"></canvas>
</figure>${jsonScript(chartId, spec)}`;
}

/** A movement as the chart and table name it: its kind, and how many it adds up (`Granted (3)`). */
const movementName = (movement: Pool['movements'][number]) => `${KIND_NAMES[movement.kind] ?? movement.kind}${movement.count > 1 ? ` (${movement.count})` : ''}`;

/** The pool over its current segments: the balance day by day, what was added, and the projection at the current burn. */
export function poolChart(pool: Pool, { id }: { id: string }): Html {
  const point = (at: Date, amount: Decimal) => ({ x: at.getTime(), y: chartValue(amount, pool.unit), label: formatAmount(amount, pool.unit) });
  const spec = {
    kind: 'line' as const,
    from: pool.window.startingAt.getTime(),
    to: pool.window.endingBefore.getTime(),
    unit: unitHeading(pool.unit),
    series: [
      { name: 'Balance', color: '--primary', points: pool.points.map((p) => point(p.at, p.available)) },
      ...(pool.projection.length ? [{ name: 'Projected at current burn', color: '--line-1', dashed: true, points: pool.projection.map((p) => point(p.at, p.available)) }] : []),
      {
        name: 'Grants and seat adjustments',
        color: '--green',
        markers: true,
        points: pool.movements.map((m) => ({ ...point(m.at, m.amount), y: chartValue(pool.points.find((p) => p.at >= m.at)?.available ?? pool.balance, pool.unit), label: `${movementName(m)} ${formatAmount(m.amount, pool.unit)}` })),
      },
    ],
  };
  return html`${lineChart({ chartId: `${id}-chart`, spec, label: `${pool.unit.name} pool from ${formatDay(pool.window.startingAt)} to ${formatDay(pool.window.endingBefore)}`, canvasLabel: 'Pool balance over the period' })}
<details><summary>Pool movements (${pool.movements.length})</summary>
<div class="table-wrap"><table><thead><tr><th>When</th><th>What</th><th class="num">Amount</th></tr></thead><tbody>
${pool.movements.map((m) => html`<tr><td>${formatDay(m.at)}</td><td>${movementName(m)}</td><td class="num">${formatAmount(m.amount, pool.unit)}</td></tr>`)}
</tbody></table></div></details>`;
}

/** One pool as a card: its numbers, then its chart; `index` numbers the page's pools (`pool-0`, …). */
export function poolSection(pool: Pool, index: number): Html {
  const id = `pool-${index}`;
  return html`<section class="card" aria-labelledby="${id}-title"><h2 id="${id}-title">${unitHeading(pool.unit)} pool</h2>${poolStats(pool, { id })}${poolChart(pool, { id })}</section>`;
}
