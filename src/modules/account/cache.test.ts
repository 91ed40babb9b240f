import { describe, expect, it } from 'vitest';
import { nextSequence } from '../../lib/processSequence.js';
import { AccountCache } from './cache.js';

const T = 'Tenant';
const C = 'Customer';
const at = (iso: string) => new Date(iso);

/** A load that counts its calls and resolves when told to. */
function deferredLoads<T>() {
  const calls: { resolve: (value: T) => void; args: unknown[] }[] = [];
  const load = (...args: unknown[]) => new Promise<T>((resolve) => calls.push({ resolve, args }));
  return { calls, load };
}

/** A usage load that records where each read started from and answers with it. */
function recordedUsageReads() {
  const reads: (string | undefined)[] = [];
  const load = async (readFrom: Date | undefined) => {
    reads.push(readFrom?.toISOString());
    return [`read from ${readFrom?.toISOString() ?? 'the start'}`];
  };
  return { reads, load };
}

describe('AccountCache', () => {
  it('keeps terms until the next hour, or an earlier instant they name, whatever the spelling of the ids', async () => {
    const cache = new AccountCache<string, string, string[]>();
    let loads = 0;
    const load = async () => `terms ${++loads}`;
    const noEarlier = () => null;
    expect(await cache.terms(T, C, at('2024-04-10T10:15:00Z'), load, noEarlier)).toBe('terms 1');
    expect(await cache.terms(T.toLowerCase(), C.toUpperCase(), at('2024-04-10T10:59:59Z'), load, noEarlier)).toBe('terms 1');
    expect(await cache.terms(T, C, at('2024-04-10T11:00:00Z'), load, noEarlier)).toBe('terms 2');
    // A manual entry dated 11:30 ends the terms' validity there.
    const entryAt = () => at('2024-04-10T11:30:00Z');
    expect(await cache.terms(T, C, at('2024-04-10T11:00:00Z'), async () => 'terms 3', entryAt)).toBe('terms 2');
    cache.termsChanged(T, C);
    expect(await cache.terms(T, C, at('2024-04-10T11:00:00Z'), async () => 'terms 3', entryAt)).toBe('terms 3');
    expect(await cache.terms(T, C, at('2024-04-10T11:29:00Z'), async () => 'terms 4', entryAt)).toBe('terms 3');
    expect(await cache.terms(T, C, at('2024-04-10T11:30:00Z'), async () => 'terms 4', entryAt)).toBe('terms 4');
  });

  it('never keeps a load that raced a change: the next read loads again', async () => {
    const cache = new AccountCache<string, string, string[]>();
    const { calls, load } = deferredLoads<string>();
    const now = at('2024-04-10T10:00:00Z');
    const first = cache.terms(T, C, now, load, () => null);
    cache.termsChanged(T, C);
    calls[0]!.resolve('before the change');
    expect(await first).toBe('before the change');
    const second = cache.terms(T, C, now, load, () => null);
    expect(calls).toHaveLength(2);
    calls[1]!.resolve('after the change');
    expect(await second).toBe('after the change');

    // The same for an account computed while usage changed.
    const terms = cache.terms(T, C, now, load, () => null);
    let computed = 0;
    const racing = cache.account(T, C, terms, async () => {
      cache.usageChanged(T, C);
      return `account ${++computed}`;
    });
    expect(await racing).toBe('account 1');
    expect(await cache.account(T, C, terms, async () => `account ${++computed}`)).toBe('account 2');
    expect(await cache.account(T, C, terms, async () => `account ${++computed}`)).toBe('account 2');
  });

  it('gives the computation after new usage the account it replaces, while the terms stand', async () => {
    const cache = new AccountCache<string, string, string[]>();
    const now = at('2024-04-10T10:00:00Z');
    let loads = 0;
    const load = async () => `terms ${++loads}`;
    const given: (string | undefined)[] = [];
    let computed = 0;
    const compute = async (previous: string | undefined) => {
      given.push(previous);
      return `account ${++computed}`;
    };
    const terms = cache.terms(T, C, now, load, () => null);
    expect(await cache.account(T, C, terms, compute)).toBe('account 1');
    cache.usageChanged(T, C, now);
    expect(await cache.account(T, C, terms, compute)).toBe('account 2');
    cache.usageChanged(T, C, now);
    cache.usageChanged(T, C, now);
    expect(await cache.account(T, C, terms, compute)).toBe('account 3');
    // New terms: nothing computed from the old ones is given.
    const later = cache.terms(T, C, at('2024-04-10T11:00:00Z'), load, () => null);
    expect(await later).toBe('terms 2');
    expect(await cache.account(T, C, later, compute)).toBe('account 4');
    cache.termsChanged(T, C);
    const changed = cache.terms(T, C, at('2024-04-10T11:00:00Z'), load, () => null);
    expect(await cache.account(T, C, changed, compute)).toBe('account 5');
    expect(given).toEqual([undefined, 'account 1', 'account 2', undefined, undefined]);
  });

  it('drops every customer of a tenant on a catalog change, and everything on clear', async () => {
    const cache = new AccountCache<string, string, string[]>();
    const now = at('2024-04-10T10:00:00Z');
    let loads = 0;
    const load = async () => `terms ${++loads}`;
    await cache.terms(T, 'a', now, load, () => null);
    await cache.terms('other', 'b', now, load, () => null);
    cache.tenantChanged(T.toLowerCase());
    expect(await cache.terms(T, 'a', now, load, () => null)).toBe('terms 3');
    expect(await cache.terms('other', 'b', now, load, () => null)).toBe('terms 2');
    cache.clear();
    expect(await cache.terms('other', 'b', now, load, () => null)).toBe('terms 4');
  });

  it('reads usage again only from the UTC day it changed from, and whole when that is unknown or the windows differ', async () => {
    const cache = new AccountCache<string, string, string[]>();
    const { reads, load } = recordedUsageReads();
    const merge = (previous: string[], fresh: string[], readFrom: Date) => [...previous, `kept before ${readFrom.toISOString()}`, ...fresh];
    expect(await cache.usage(T, C, 'w1', load, merge)).toEqual(['read from the start']);
    expect(await cache.usage(T, C, 'w1', load, merge)).toEqual(['read from the start']);
    cache.usageChanged(T, C, at('2024-04-10T15:00:00Z'));
    cache.usageChanged(T, C, at('2024-04-09T23:00:00Z'));
    expect(await cache.usage(T, C, 'w1', load, merge)).toEqual([
      'read from the start',
      'kept before 2024-04-09T00:00:00.000Z',
      'read from 2024-04-09T00:00:00.000Z',
    ]);
    expect(reads).toEqual([undefined, '2024-04-09T00:00:00.000Z']);
    cache.usageChanged(T, C);
    expect(await cache.usage(T, C, 'w1', load, merge)).toEqual(['read from the start']);
    expect(await cache.usage(T, C, 'w2', load, merge)).toEqual(['read from the start']);
    expect(reads).toEqual([undefined, '2024-04-09T00:00:00.000Z', undefined, undefined]);
  });

  it('marks usage read while it changed as stale from the change', async () => {
    const cache = new AccountCache<string, string, string[]>();
    const { calls, load } = deferredLoads<string[]>();
    const merge = (previous: string[], fresh: string[]) => [...previous, ...fresh];
    const first = cache.usage(T, C, 'w', load, merge);
    cache.usageChanged(T, C, at('2024-04-10T09:00:00Z'));
    calls[0]!.resolve(['whole']);
    expect(await first).toEqual(['whole']);
    const second = cache.usage(T, C, 'w', load, merge);
    // Where to read again from is decided on the kept read, once it is at hand.
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls[1]!.args).toEqual([at('2024-04-10T00:00:00Z')]);
    calls[1]!.resolve(['today']);
    expect(await second).toEqual(['whole', 'today']);
  });

  it('reads usage again from where `readFromOf` says, given the kept read and the instant it is stale from', async () => {
    const cache = new AccountCache<string, string, string[]>();
    const { reads, load } = recordedUsageReads();
    const merge = (previous: string[], fresh: string[]) => [...previous, ...fresh];
    const seen: [string[], string][] = [];
    const hourOf = (previous: string[], staleFrom: Date) => {
      seen.push([previous, staleFrom.toISOString()]);
      return new Date(Math.floor(staleFrom.getTime() / 3_600_000) * 3_600_000);
    };
    await cache.usage(T, C, 'w', load, merge, hourOf);
    cache.usageChanged(T, C, at('2024-04-10T15:20:00Z'));
    expect(await cache.usage(T, C, 'w', load, merge, hourOf)).toEqual(['read from the start', 'read from 2024-04-10T15:00:00.000Z']);
    expect(seen).toEqual([[['read from the start'], '2024-04-10T15:20:00.000Z']]);
    expect(reads).toEqual([undefined, '2024-04-10T15:00:00.000Z']);
  });

  it('puts in what a commit added after the kept read came back, with no read, at the next read', async () => {
    const cache = new AccountCache<string, string, string[], string>();
    const { reads, load } = recordedUsageReads();
    const merge = (previous: string[], fresh: string[]) => [...previous, ...fresh];
    const extends_: [string[], string[], string][] = [];
    const extend = (previous: string[], added: readonly string[], since: Date) => {
      extends_.push([previous, [...added], since.toISOString()]);
      return [...previous, ...added];
    };
    await cache.usage(T, C, 'w', load, merge, undefined, extend);
    // Two commits whose sequences were taken after the read came back: kept, and put in together at the next read.
    cache.usageChanged(T, C, at('2024-04-10T15:20:00Z'), { sequence: nextSequence(), rows: 'a', size: 1 });
    cache.usageChanged(T, C, at('2024-04-10T14:00:00Z'), { sequence: nextSequence(), rows: 'b', size: 1 });
    expect(extends_).toEqual([]);
    expect(await cache.usage(T, C, 'w', load, merge, undefined, extend)).toEqual(['read from the start', 'a', 'b']);
    expect(extends_).toEqual([[['read from the start'], ['a', 'b'], '2024-04-10T14:00:00.000Z']]);
    expect(await cache.usage(T, C, 'w', load, merge, undefined, extend)).toEqual(['read from the start', 'a', 'b']);
    expect(reads).toEqual([undefined]);
  });

  it('reads again what a commit added when the kept read may hold it, or only a read can say', async () => {
    const cache = new AccountCache<string, string, string[], string>();
    const { calls, load } = deferredLoads<string[]>();
    const merge = (previous: string[], fresh: string[]) => [...previous, ...fresh];
    const extend = (previous: string[], added: readonly string[]) => (added.includes('unknown') ? undefined : [...previous, ...added]);
    // A commit whose sequence was taken before the read came back (it may be in the read), while the read is out: read again.
    const first = cache.usage(T, C, 'w', load, merge, undefined, extend);
    const early = nextSequence();
    calls[0]!.resolve(['whole']);
    await first;
    cache.usageChanged(T, C, at('2024-04-10T15:00:00Z'), { sequence: early, rows: 'early', size: 1 });
    const second = cache.usage(T, C, 'w', load, merge, undefined, extend);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(2);
    calls[1]!.resolve(['since 15:00']);
    expect(await second).toEqual(['whole', 'since 15:00']);

    // A commit while a read is out: read again.
    cache.usageChanged(T, C, at('2024-04-10T16:00:00Z'));
    const third = cache.usage(T, C, 'w', load, merge, undefined, extend);
    cache.usageChanged(T, C, at('2024-04-10T16:10:00Z'), { sequence: nextSequence(), rows: 'while out', size: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    calls[2]!.resolve(['since 16:00']);
    await third;
    const fourth = cache.usage(T, C, 'w', load, merge, undefined, extend);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(4);
    calls[3]!.resolve(['since 16:10']);
    expect(await fourth).toEqual(['whole', 'since 15:00', 'since 16:00', 'since 16:10']);

    // The extension cannot say: read again, from the earliest change kept.
    cache.usageChanged(T, C, at('2024-04-10T17:30:00Z'), { sequence: nextSequence(), rows: 'ok', size: 1 });
    cache.usageChanged(T, C, at('2024-04-10T17:45:00Z'), { sequence: nextSequence(), rows: 'unknown', size: 1 });
    const fifth = cache.usage(T, C, 'w', load, merge, (_previous, staleFrom) => staleFrom, extend);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls[4]!.args).toEqual([at('2024-04-10T17:30:00Z')]);
    calls[4]!.resolve(['since 17:30']);
    expect(await fifth).toEqual(['whole', 'since 15:00', 'since 16:00', 'since 16:10', 'since 17:30']);

    // A change with no rows (another process's) after kept additions: read again from the earliest of them.
    cache.usageChanged(T, C, at('2024-04-10T18:05:00Z'), { sequence: nextSequence(), rows: 'kept', size: 1 });
    cache.usageChanged(T, C, at('2024-04-10T18:30:00Z'));
    const sixth = cache.usage(T, C, 'w', load, merge, (_previous, staleFrom) => staleFrom, extend);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls[5]!.args).toEqual([at('2024-04-10T18:05:00Z')]);
    calls[5]!.resolve(['since 18:05']);
    await sixth;
  });

  it('holds a bounded number of commits or rows for the next read: past them, puts them in at once', async () => {
    const cache = new AccountCache<string, string, string[], string>();
    const { reads, load } = recordedUsageReads();
    const merge = (previous: string[], fresh: string[]) => [...previous, ...fresh];
    const calls: number[] = [];
    const extend = (previous: string[], added: readonly string[]) => {
      calls.push(added.length);
      return [...previous, ...added];
    };
    const hourly = (_previous: string[], staleFrom: Date) => staleFrom;
    await cache.usage(T, C, 'w', load, merge, hourly, extend);
    const commit = (i: number, size = 1) => cache.usageChanged(T, C, new Date(Date.parse('2024-04-10T10:00:00Z') + i * 60_000), { sequence: nextSequence(), rows: `commit ${i}`, size });
    for (let i = 0; i < 31; i++) commit(i);
    expect(calls).toEqual([]);
    // The 32nd commit puts the 32 in, with no read; the next ones wait for the read again.
    commit(31);
    expect(calls).toEqual([32]);
    commit(32);
    expect(await cache.usage(T, C, 'w', load, merge, hourly, extend)).toHaveLength(34);
    expect(calls).toEqual([32, 1]);
    // So do 256 rows, in however few commits.
    commit(33, 200);
    commit(34, 56);
    expect(calls).toEqual([32, 1, 2]);
    expect(await cache.usage(T, C, 'w', load, merge, hourly, extend)).toHaveLength(36);
    expect(reads).toEqual([undefined]);
  });

  it('reads again when putting commits in fails', async () => {
    const cache = new AccountCache<string, string, string[], string>();
    const { reads, load } = recordedUsageReads();
    const merge = (previous: string[], fresh: string[]) => [...previous, ...fresh];
    const extend = (): string[] => {
      throw new Error('not a number');
    };
    await cache.usage(T, C, 'w', load, merge, (_previous, staleFrom) => staleFrom, extend);
    cache.usageChanged(T, C, at('2024-04-10T10:20:00Z'), { sequence: nextSequence(), rows: 'bad', size: 1 });
    expect(await cache.usage(T, C, 'w', load, merge, (_previous, staleFrom) => staleFrom, extend)).toEqual(['read from the start', 'read from 2024-04-10T10:20:00.000Z']);
    expect(reads).toEqual([undefined, '2024-04-10T10:20:00.000Z']);
  });
});
