import { describe, expect, it } from 'vitest';
import { Decimal } from '../../lib/money.js';
import type { RatedLine, RatedPeriod } from '../../modules/account/service.js';
import { usageByGroup } from './usageByGroup.js';

const AI = 'ai-credits';
const USD = 'usd';

function line(productId: string, productName: string, creditTypeId: string, splitValue: string, quantity: string, total: string, contractId = 'k1'): RatedLine {
  return {
    id: JSON.stringify([contractId, productId, null, creditTypeId, splitValue]),
    productId,
    productName,
    productTags: [],
    pricingGroupValues: null,
    splitValue,
    creditTypeId,
    quantity: new Decimal(quantity),
    charges: [],
    total: new Decimal(total),
  };
}

const period = (lines: RatedLine[]): RatedPeriod => ({ contractId: 'k1', period: { startingAt: new Date(0), endingBefore: new Date(1), index: 0 } as never, rateCard: {} as never, lines });

describe('usage by group value', () => {
  it('gives each value its quantity per product and spend per unit, heaviest first', () => {
    const group = usageByGroup({
      property: 'user_id',
      periods: [
        period([
          line('p1', 'Chat tokens', AI, 'u2', '100', '1'),
          line('p1', 'Chat tokens', AI, 'u1', '300', '3'),
          line('p2', 'Images', AI, 'u1', '4', '1'),
        ]),
      ],
    });
    expect(group.products).toEqual(['Chat tokens', 'Images']);
    expect(group.rows.map((row) => [row.value, row.quantities.map(String), row.spend.map(String)])).toEqual([
      ['u1', ['300', '4'], ['4']],
      ['u2', ['100', '0'], ['1']],
    ]);
  });

  it('counts a quantity once when a product is priced in two units, and adds up contracts', () => {
    const group = usageByGroup({
      property: 'team',
      periods: [
        period([line('p1', 'Chat tokens', AI, 'red', '100', '1'), line('p1', 'Chat tokens', USD, 'red', '100', '50')]),
        { ...period([line('p1', 'Chat tokens', AI, 'red', '10', '0.1', 'k2')]), contractId: 'k2' },
      ],
    });
    expect(group.rows.map((row) => row.value)).toEqual(['red']);
    expect(group.creditTypeIds).toEqual([AI, USD]);
    expect(group.rows[0]!.quantities.map(String)).toEqual(['110']);
    expect(group.rows[0]!.spend.map(String)).toEqual(['1.1', '50']);
  });
});
