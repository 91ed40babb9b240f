import type { SeatHistory } from '../accountView.js';
import { formatDay } from '../format.js';
import { html, jsonScript, type Html } from '../html.js';

/**
 * Seats over time: each live subscription's quantity schedule as a stepped line, up to now (or its
 * last scheduled change), on an axis that ends where the pool's period does, when given.
 */
export function seatChart(seats: SeatHistory[], now: Date, periodEnd?: Date): Html {
  if (seats.length === 0) return html`<p class="muted">No seat subscriptions.</p>`;
  const DAY = 24 * 60 * 60 * 1000;
  const from = Math.floor(Math.min(...seats.map((seat) => seat.startingAt.getTime())) / DAY) * DAY;
  const lastChange = Math.max(...seats.flatMap((seat) => seat.steps.map((step) => step.startingAt.getTime())));
  const drawnUntil = Math.max(now.getTime(), lastChange);
  // The period's end, or a day past what is drawn, to the next midnight.
  const to = Math.max(periodEnd?.getTime() ?? 0, Math.ceil((drawnUntil + DAY) / DAY) * DAY);
  const spec = {
    kind: 'steps',
    from,
    to,
    unit: 'Seats',
    series: seats.map((seat) => {
      const points = seat.steps.map((step) => ({ x: step.startingAt.getTime(), y: String(step.quantity), label: `${step.quantity} seats from ${formatDay(step.startingAt)}` }));
      const last = seat.steps[seat.steps.length - 1];
      if (last) points.push({ x: drawnUntil, y: String(last.quantity), label: `${last.quantity} seats now` });
      return { name: seat.name, points };
    }),
  };
  return html`<figure class="chart small"><canvas data-chart="seats-chart" data-testid="seats-chart" role="img" aria-label="Seats over time"></canvas></figure>${jsonScript('seats-chart', spec)}`;
}
