import { Decimal } from '../../lib/money.js';
import type { CustomerResult } from '../../modules/simulations/service.js';
import { chartValue, formatAmount, formatDay, unitHeading, type Unit } from '../format.js';
import { html, type Html } from '../html.js';
import { lineChart } from './poolSection.js';

const zero = new Decimal(0);
const instant = (at: Date) => at.toISOString().slice(0, 16).replace('T', ' ');

/**
 * One customer's pool over the simulated window, now and simulated: what remains at the window's
 * start, each midnight and its end (from the simulation's replay, `burnDown`), two lines on the
 * pool chart, with each run-out date marked at 0, and the same numbers in a table.
 */
export function burnDownSection({ result, name, unit }: { result: CustomerResult; name: string; unit: Unit }): Html {
  const points = result.burnDown;
  if (points.length === 0) return html`<section class="card" id="burn-down"><h2>Pool burn-down: ${name}</h2><p class="muted">This simulation kept no burn-down for this customer.</p></section>`;
  const point = (at: Date, amount: Decimal) => ({ x: at.getTime(), y: chartValue(amount, unit), label: formatAmount(amount, unit) });
  const line = (pick: (p: CustomerResult['burnDown'][number]) => Decimal | null) => points.flatMap((p) => (pick(p) === null ? [] : [point(p.at, pick(p)!)]));
  const runOuts = [
    ...(result.runsOutAtActual ? [{ ...point(result.runsOutAtActual, zero), label: `Runs out now ${instant(result.runsOutAtActual)}` }] : []),
    ...(result.runsOutAtSimulated ? [{ ...point(result.runsOutAtSimulated, zero), label: `Runs out simulated ${instant(result.runsOutAtSimulated)}` }] : []),
  ];
  const from = points[0]!.at;
  const to = points.at(-1)!.at;
  const spec = {
    kind: 'line' as const,
    from: from.getTime(),
    to: to.getTime(),
    unit: unitHeading(unit),
    series: [
      { name: 'Remaining now', color: '--primary', points: line((p) => p.actualRemaining) },
      { name: 'Remaining simulated', color: '--red', dashed: true, points: line((p) => p.simulatedRemaining) },
      ...(runOuts.length ? [{ name: 'Runs out', color: '--gray-dark', markers: true, points: runOuts }] : []),
    ],
  };
  const cell = (amount: Decimal | null) => (amount === null ? '—' : formatAmount(amount, unit));
  return html`<section class="card" id="burn-down" aria-labelledby="burn-down-title"><h2 id="burn-down-title">Pool burn-down: <span data-testid="burn-down-customer">${name}</span></h2>
<p class="muted">${unitHeading(unit)} left in the pool at each midnight, as the usage is charged now and under the new prices. Runs out now: <span data-testid="burn-down-runout-actual">${result.runsOutAtActual ? instant(result.runsOutAtActual) : 'not in the window'}</span>; simulated: <span data-testid="burn-down-runout-simulated">${result.runsOutAtSimulated ? instant(result.runsOutAtSimulated) : 'not in the window'}</span>.</p>
${lineChart({ chartId: 'burn-down-chart', spec, label: `${unit.name} pool of ${name} from ${formatDay(from)} to ${formatDay(to)}, now and simulated`, canvasLabel: 'Pool remaining now and simulated' })}
<details><summary>Day by day (${points.length})</summary>
<div class="table-wrap"><table data-testid="burn-down-table"><thead><tr><th scope="col">At</th><th scope="col" class="num">Now</th><th scope="col" class="num">Simulated</th></tr></thead><tbody>
${points.map((p) => html`<tr><td>${instant(p.at)}</td><td class="num">${cell(p.actualRemaining)}</td><td class="num">${cell(p.simulatedRemaining)}</td></tr>`)}
</tbody></table></div></details></section>`;
}

