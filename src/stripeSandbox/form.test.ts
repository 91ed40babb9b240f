import { describe, expect, it } from 'vitest';
import { formList, parseStripeForm } from './form.js';

describe('parseStripeForm', () => {
  it('nests bracketed keys as Stripe reads them', () => {
    expect(parseStripeForm('customer=cus_1&metadata[allot_invoice_id]=abc&period[start]=5&items[1][quantity]=7&items[0][id]=si_1&expand[]=lines')).toEqual({
      customer: 'cus_1',
      metadata: { allot_invoice_id: 'abc' },
      period: { start: '5' },
      items: { '0': { id: 'si_1' }, '1': { quantity: '7' } },
      expand: 'lines',
    });
  });

  it('lists form arrays in index order', () => {
    expect(formList(parseStripeForm('items[10][quantity]=3&items[2][quantity]=2'))).toEqual([]);
    expect(formList(parseStripeForm('items[10][quantity]=3&items[2][quantity]=2').items)).toEqual([{ quantity: '2' }, { quantity: '3' }]);
    expect(formList(undefined)).toEqual([]);
  });
});
