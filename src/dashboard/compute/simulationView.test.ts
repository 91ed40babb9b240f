import { describe, expect, it } from 'vitest';
import { Decimal } from '../../lib/money.js';
import { simulationView } from './simulationView.js';

const row = (customerId: string, actual: number, simulated: number) => ({ customerId, actual: new Decimal(actual), simulated: new Decimal(simulated) });

describe('simulationView', () => {
  it('puts changes of −100, 0, 0 and 300 cents in 4 buckets: 1, 2, 0, 1; the winner saves 100, the loser pays 300 more', () => {
    const view = simulationView({ results: [row('a', 1000, 900), row('b', 500, 500), row('c', 0, 0), row('d', 100, 400)], buckets: 4 });
    expect(view.distribution.map((bucket) => [bucket.from.toNumber(), bucket.to.toNumber(), bucket.customers])).toEqual([
      [-100, 0, 1],
      [0, 100, 2],
      [100, 200, 0],
      [200, 300, 1],
    ]);
    expect(view.winners.map((winner) => [winner.customerId, winner.change.toNumber()])).toEqual([['a', -100]]);
    expect(view.losers.map((loser) => [loser.customerId, loser.change.toNumber()])).toEqual([['d', 300]]);
  });

  it('keeps every customer in one bucket when all change alike, and has none without customers', () => {
    expect(simulationView({ results: [row('a', 1, 2), row('b', 3, 4)] }).distribution.map((bucket) => bucket.customers)).toEqual([2]);
    expect(simulationView({ results: [] }).distribution).toEqual([]);
  });
});
