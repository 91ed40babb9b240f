import { describe, expect, it } from 'vitest';
import { reportAmount, unitName } from './amounts.js';

const USD = '2714e483-4ff1-48e4-9e25-ac732e8f24f2';
const AI = '01a24f21-5989-7737-a4ad-8e33391d1df8';

describe('report amounts', () => {
  it('prints USD cents as dollars to the cent, grouped, halves away from 0', () => {
    expect(['120000', '105000', '0', '-5250', '0.5', '-0.5', '123456789012345678901234', '66.6666666666666666667'].map((text) => reportAmount(text, USD))).toEqual([
      '$1,200.00',
      '$1,050.00',
      '$0.00',
      '-$52.50',
      '$0.01',
      '-$0.01',
      '$1,234,567,890,123,456,789,012.34',
      '$0.67',
    ]);
  });
  it('prints other units to 2–4 decimals, exactly rounded, never through a float', () => {
    expect(
      ['5000', '279.34036159647550776583', '4875.71856159647550776583', '-403.6218', '837.5', '0.00005', '-0.00004', '12345678901234567890.123456789'].map((text) => reportAmount(text, AI)),
    ).toEqual(['5,000.00', '279.3404', '4,875.7186', '-403.6218', '837.50', '0.0001', '-0.00', '12,345,678,901,234,567,890.1235']);
  });
  it('prints nothing for a missing amount, and names units', () => {
    expect([reportAmount(null, AI), reportAmount(undefined, USD), reportAmount('', AI)]).toEqual(['', '', '']);
    expect([unitName(USD, new Map()), unitName(AI, new Map([[AI, 'AI credits']])), unitName(AI, new Map())]).toEqual(['USD', 'AI credits', '01a24f21']);
  });
});
