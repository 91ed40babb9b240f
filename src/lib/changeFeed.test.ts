import { describe, expect, it } from 'vitest';
import { decodeChange, encodeChange, type Change } from './changeFeed.js';

const tenantId = '0190f1e2-0000-7000-8000-000000000001';
const customer = (i: number) => `0190f1e2-0000-7000-8000-${String(i).padStart(12, '0')}`;

describe('change notifications', () => {
  it('round-trips each kind, with the hour a usage change starts from', () => {
    const usage: Change = { kind: 'usage', tenantId, customerIds: [customer(1), customer(2)], since: new Map([[customer(1), new Date('2024-04-10T15:00:00Z')]]) };
    expect(encodeChange(usage).map(decodeChange)).toEqual([
      { kind: 'usage', tenantId, customerIds: [customer(1), customer(2)], since: new Map([[customer(1), new Date('2024-04-10T15:00:00Z')]]) },
    ]);
    expect(encodeChange({ kind: 'account', tenantId, customerIds: [customer(3)] }).map(decodeChange)).toEqual([{ kind: 'account', tenantId, customerIds: [customer(3)] }]);
    expect(encodeChange({ kind: 'catalog', tenantId }).map(decodeChange)).toEqual([{ kind: 'catalog', tenantId }]);
    expect(decodeChange('x|nothing|')).toBeUndefined();
  });

  it('splits many customers over payloads that each stay under the 8,000 bytes NOTIFY takes, losing none', () => {
    const ids = Array.from({ length: 500 }, (_, i) => customer(i));
    const payloads = encodeChange({ kind: 'account', tenantId, customerIds: ids });
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    expect(payloads.flatMap((payload) => (decodeChange(payload) as { customerIds: readonly string[] }).customerIds)).toEqual(ids);
  });
});
