import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../lib/money.js';
import { chargeCents, rechargeAmount, thresholdBillingAmount } from './recharge.js';

const d = (value: string | number) => new Decimal(value);

describe('rechargeAmount', () => {
  it('tops a USD balance of 900 up to 5,000 with a 4,100-cent commit (threshold 1,000)', () => {
    expect(rechargeAmount({ balance: d(900), threshold: d(1000), rechargeTo: d(5000) })?.toString()).toBe('4100');
  });

  it('recharges at the threshold itself, and not a cent above it', () => {
    expect(rechargeAmount({ balance: d(1000), threshold: d(1000), rechargeTo: d(5000) })?.toString()).toBe('4000');
    expect(rechargeAmount({ balance: d('1000.01'), threshold: d(1000), rechargeTo: d(5000) })).toBeNull();
  });

  it('property: after the commit the balance is exactly the recharge-to amount, above the threshold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 1_000_000 }), (balanceCents, threshold, headroom) => {
        const balance = d(balanceCents).div(100);
        const rechargeTo = d(threshold + headroom);
        const amount = rechargeAmount({ balance, threshold: d(threshold), rechargeTo });
        if (balance.gt(threshold)) return amount === null;
        return amount !== null && balance.add(amount).eq(rechargeTo) && rechargeTo.gt(threshold);
      }),
    );
  });
});

describe('chargeCents', () => {
  it('charges fiat as is, custom units at the conversion, rounded half up once', () => {
    expect(chargeCents({ amount: d(4100), fiatPerUnit: null }).toString()).toBe('4100');
    expect(chargeCents({ amount: d(250), fiatPerUnit: d('2.5') }).toString()).toBe('625');
    expect(chargeCents({ amount: d('100.5'), fiatPerUnit: null }).toString()).toBe('101');
  });
});

describe('thresholdBillingAmount', () => {
  it('charges the whole spend once it reaches the threshold of 1,000 cents, and nothing below it', () => {
    expect(thresholdBillingAmount({ spend: d(1200), threshold: d(1000) })?.toString()).toBe('1200');
    expect(thresholdBillingAmount({ spend: d(1000), threshold: d(1000) })?.toString()).toBe('1000');
    expect(thresholdBillingAmount({ spend: d('999.99'), threshold: d(1000) })).toBeNull();
  });
});
