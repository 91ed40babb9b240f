import { describe, expect, it } from 'vitest';
import { partitionOf } from './partition.js';

describe('partitionOf', () => {
  it('sends one reference of a tenant to one partition, and spreads references over every partition', () => {
    const tenant = '0b6c3f9e-8a52-4c1e-9f0a-2d7e5b1c4a10';
    expect(partitionOf(tenant, 'acme', 16)).toBe(partitionOf(tenant, 'acme', 16));
    const counts = new Array<number>(16).fill(0);
    for (let index = 0; index < 1600; index++) counts[partitionOf(tenant, `customer-${index}`, 16)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(150);
  });

  it('keeps the same reference of two tenants apart (the tenant is part of the key)', () => {
    const spread = new Set(Array.from({ length: 32 }, (_, index) => partitionOf(`tenant-${index}`, 'acme', 64)));
    expect(spread.size).toBeGreaterThan(10);
  });

  it('stays within 0 … partitions − 1', () => {
    for (const partitions of [1, 3, 16, 1024]) {
      for (let index = 0; index < 200; index++) {
        const partition = partitionOf('t', `r${index}\u{1F600}`, partitions);
        expect(partition).toBeGreaterThanOrEqual(0);
        expect(partition).toBeLessThan(partitions);
      }
    }
  });
});
