import { describe, expect, it } from 'vitest';
import { Decimal } from '../lib/money.js';
import { USD_CREDIT_TYPE_ID } from '../modules/pricing/service.js';
import { beyondBounds, capForm, parseControlsForm } from './controlsForms.js';

const usd = { id: USD_CREDIT_TYPE_ID, name: 'USD (cents)' };
const credits = { id: 'c0ffee00-0000-4000-8000-000000000000', name: 'AI credits' };
const bounds = (unit: { id: string }) => ({ creditTypeId: unit.id, groupKeys: ['user_id', 'team'], maxCapAmount: new Decimal(500), maxAlertThreshold: new Decimal(400) });

describe('the controls view’s bounds', () => {
  it('reads USD typed in dollars as cents, exactly, and holds it to the bound in cents', () => {
    const cap = (typed: string) => beyondBounds(bounds(usd), usd, { group_key: 'user_id', amount: { field: 'amount', typed, max: new Decimal(500), what: 'cap' } });
    expect(cap('5').problems).toEqual([]);
    expect(cap('5').stored!.toFixed()).toBe('500');
    expect(cap('0.1').stored!.toFixed()).toBe('10');
    expect(cap('5.01').problems).toEqual([{ field: 'amount', message: 'must be at most $5.00, the largest cap your provider allows' }]);
  });

  it('names every field beyond the bounds: a key not offered, an amount above the largest', () => {
    const { problems } = beyondBounds(bounds(credits), credits, { group_key: 'cost_center', amount: { field: 'threshold', typed: '400.000000000001', max: new Decimal(400), what: 'alert threshold' } });
    expect(problems).toEqual([
      { field: 'group_key', message: 'must be one of user_id, team: your provider allows no other' },
      { field: 'threshold', message: 'must be at most 400.00 AI credits, the largest alert threshold your provider allows' },
    ]);
  });

  it('names every malformed field of a form in one refusal', () => {
    expect(() => parseControlsForm(capForm, { token: 't', once: 'short', group_key: 'user_id', group_value: '', amount: '-1' })).toThrow(
      'once: is missing or malformed: reload the page and try again; group_value: is required, e.g. a user id; amount: must be a number of 0 or more, e.g. 250 or 12.5',
    );
  });
});
