import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCodePoints, compareRollupKeys, foldRollups, mergeRollup, rollupKey, type DistinctValue, type MatchedEvent, type Rollup } from './foldRollups.js';
import { GROUP_BYTES_LIMIT, oversizedProperty, STORED_BYTES_LIMIT } from './indexLimits.js';
import { compileMetric, groupValuesOf, matchMetric, type MetricDefinition } from './matchMetric.js';
import { propertyNumber, propertyText } from './propertyValues.js';

const metric = (definition: Partial<MetricDefinition> & Pick<MetricDefinition, 'aggregation_type'>): MetricDefinition => ({
  id: `m-${definition.aggregation_type}`,
  aggregation_key: null,
  event_type_filter: null,
  property_filters: [],
  group_keys: [],
  ...definition,
});

describe('property values', () => {
  it('compares values as text: strings as sent, numbers in plain notation, booleans; null, objects and arrays have none', () => {
    expect([propertyText('a b'), propertyText(12), propertyText(0.1), propertyText(1e21), propertyText(-0), propertyText(true)]).toEqual([
      'a b',
      '12',
      '0.1',
      '1000000000000000000000',
      '0',
      'true',
    ]);
    expect([propertyText(null), propertyText({}), propertyText([1]), propertyText(undefined)]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('reads numbers from JSON numbers and decimal strings, exactly, within the number bound', () => {
    expect(propertyNumber(12)?.toFixed()).toBe('12');
    expect(propertyNumber('648')?.toFixed()).toBe('648');
    expect(propertyNumber('123456789012345.123456789012345')?.toFixed()).toBe('123456789012345.123456789012345');
    expect(propertyNumber('1e3')?.toFixed()).toBe('1000');
    expect(propertyNumber('1e15')?.toFixed()).toBe('1000000000000000');
    for (const value of ['n/a', '', ' 5', '+5', '0x10', 'Infinity', 'NaN', '1e16', '1e400', '1e-31', '12345678901234567890.000000000000000001', '1e99999999999999999999', true, null, {}, Number.NaN]) {
      expect(propertyNumber(value), String(value)).toBeUndefined();
    }
  });
});

describe('matchMetric', () => {
  const tokens = compileMetric(
    metric({
      aggregation_type: 'SUM',
      aggregation_key: 'tokens',
      event_type_filter: { in_values: ['chat'], not_in_values: ['test'] },
      property_filters: [
        { name: 'tokens', exists: true },
        { name: 'user_id', exists: true },
        { name: 'model', in_values: ['gpt', '4'] },
        { name: 'region', not_in_values: ['blocked'] },
        { name: 'internal', exists: false },
      ],
      group_keys: [['user_id'], ['model', 'user_id']],
    }),
  );
  const match = (eventType: string, properties: Record<string, unknown>) => matchMetric(tokens, { eventType, properties });
  const base = { tokens: 5, user_id: 'u1', model: 'gpt' };

  it('matches by event type and property filters, comparing values as text', () => {
    const matched = match('chat', base)!;
    expect([matched.value?.toFixed(), matched.distinct, groupValuesOf(matched, 0), groupValuesOf(matched, 1)]).toEqual(['5', null, ['u1'], ['gpt', 'u1']]);
    expect(groupValuesOf(match('chat', { ...base, model: 4 })!, 1)).toEqual(['4', 'u1']);
    expect(match('chat', { ...base, region: 'eu' })).toBeDefined();
    expect(match('chat', { ...base, internal: null })).toBeDefined();
    expect(match('other', base)).toBeUndefined();
    expect(match('chat', { ...base, model: 'claude' })).toBeUndefined();
    expect(match('chat', { tokens: 5, user_id: 'u1' })).toBeUndefined();
    expect(match('chat', { ...base, region: 'blocked' })).toBeUndefined();
    expect(match('chat', { ...base, internal: false })).toBeUndefined();
    expect(match('chat', { ...base, user_id: { id: 1 } })).toBeUndefined();
  });

  it('needs a number in the aggregation key for SUM, MAX and LATEST', () => {
    expect(match('chat', { ...base, tokens: '7.5' })?.value?.toFixed()).toBe('7.5');
    expect(match('chat', { ...base, tokens: 'many' })).toBeUndefined();
    expect(match('chat', { ...base, tokens: true })).toBeUndefined();
  });

  it('takes any scalar as a UNIQUE value, and never a prototype property', () => {
    const unique = compileMetric(metric({ aggregation_type: 'UNIQUE', aggregation_key: 'user_id', property_filters: [{ name: 'user_id', exists: true }] }));
    expect(matchMetric(unique, { eventType: 'x', properties: { user_id: 7 } })?.distinct).toBe('7');
    expect(matchMetric(unique, { eventType: 'x', properties: { user_id: false } })?.distinct).toBe('false');
    expect(matchMetric(unique, { eventType: 'x', properties: { user_id: [1] } })).toBeUndefined();
    const onConstructor = compileMetric(metric({ aggregation_type: 'COUNT', property_filters: [{ name: 'constructor', exists: true }] }));
    expect(matchMetric(onConstructor, { eventType: 'x', properties: {} })).toBeUndefined();
  });

  it('finds a group value too long to index', () => {
    const grouped = compileMetric(metric({ aggregation_type: 'COUNT', property_filters: [{ name: 'user_id', exists: true }], group_keys: [['user_id']] }));
    const fits = matchMetric(grouped, { eventType: 'x', properties: { user_id: 'u'.repeat(GROUP_BYTES_LIMIT - 7) } })!;
    expect(oversizedProperty(fits)).toBeUndefined();
    const tooLong = matchMetric(grouped, { eventType: 'x', properties: { user_id: 'é'.repeat(GROUP_BYTES_LIMIT / 2) } })!;
    expect(oversizedProperty(tooLong)).toBe('user_id');
    // 500 bytes of text, but 3,000 as stored: each control character is escaped in six.
    const escaped = matchMetric(grouped, { eventType: 'x', properties: { user_id: '\u0001'.repeat(500) } })!;
    expect(oversizedProperty(escaped)).toBe('user_id');
    const quotes = matchMetric(grouped, { eventType: 'x', properties: { user_id: '"'.repeat(STORED_BYTES_LIMIT / 2 - 20) } })!;
    expect(oversizedProperty(quotes)).toBeUndefined();
    const moreQuotes = matchMetric(grouped, { eventType: 'x', properties: { user_id: '"'.repeat(STORED_BYTES_LIMIT / 2) } })!;
    expect(oversizedProperty(moreQuotes)).toBe('user_id');
    // Refused by the stored length: the value that grows when escaped is named, not the longer one.
    const pair = compileMetric(metric({ aggregation_type: 'COUNT', group_keys: [['a', 'b']] }));
    const escapedPair = matchMetric(pair, { eventType: 'x', properties: { a: 'x'.repeat(900), b: '\u0001'.repeat(300) } })!;
    expect(oversizedProperty(escapedPair)).toBe('b');
  });
});

describe('compareCodePoints', () => {
  it('orders strings as PostgreSQL orders UTF-8 text under COLLATE "C"', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
    expect(compareCodePoints('\uffff', '😀')).toBeLessThan(0);
    expect('\uffff' < '😀').toBe(false);
  });
});

const metrics = [
  metric({ aggregation_type: 'COUNT', property_filters: [{ name: 'user_id', exists: true }], group_keys: [['user_id']] }),
  metric({ aggregation_type: 'SUM', aggregation_key: 'tokens', property_filters: [{ name: 'tokens', exists: true }, { name: 'user_id', exists: true }, { name: 'team', exists: true }], group_keys: [['user_id'], ['team', 'user_id']] }),
  metric({ aggregation_type: 'MAX', aggregation_key: 'tokens', property_filters: [{ name: 'tokens', exists: true }] }),
  metric({ aggregation_type: 'LATEST', aggregation_key: 'tokens', property_filters: [{ name: 'tokens', exists: true }] }),
  metric({ aggregation_type: 'UNIQUE', aggregation_key: 'user_id', property_filters: [{ name: 'user_id', exists: true }, { name: 'team', exists: true }], group_keys: [['team']] }),
].map(compileMetric);

function matched(events: Array<{ customer: string; transactionId: string; timestampMs: number; properties: Record<string, unknown> }>): MatchedEvent[] {
  return events.map((event) => ({
    tenantId: 't',
    customerId: event.customer,
    transactionId: event.transactionId,
    timestampMs: event.timestampMs,
    matches: metrics.flatMap((each) => matchMetric(each, { eventType: 'chat', properties: event.properties }) ?? []),
  }));
}

const comparable = (rollups: Iterable<Rollup>) =>
  [...rollups].map((row) => ({
    key: rollupKey(row),
    count: row.eventCount,
    sum: row.valueSum.toFixed(),
    max: row.valueMax?.toFixed() ?? null,
    latest: row.latest && `${row.latest.value.toFixed()}@${row.latest.atMs}/${row.latest.transactionId}`,
  }));

describe('foldRollups', () => {
  it('orders rows for the locks: every group row before any total, then by tenant, customer, metric, key, hour, values', () => {
    const row = (customerId: string, groupKey: string[], groupValues: string[], hourMs = 0) => ({ tenantId: 't', customerId, metricId: 'm', groupKey, hourMs, groupValues });
    const rows = [row('a', [], []), row('b', ['user_id'], ['u1']), row('a', ['user_id'], ['u2']), row('a', [], [], 3_600_000), row('a', ['team'], ['red'])];
    expect([...rows].sort(compareRollupKeys).map((r) => `${r.customerId} ${r.groupKey.join()} ${r.groupValues.join()} ${r.hourMs}`)).toEqual([
      'a team red 0',
      'a user_id u2 0',
      'b user_id u1 0',
      'a   0',
      'a   3600000',
    ]);
  });

  it('adds a row for the total and one per group key, in the hour of the event', () => {
    const hour = Date.UTC(2024, 4, 10, 10);
    const folded = foldRollups(
      matched([
        { customer: 'c', transactionId: 'a', timestampMs: hour + 60_000, properties: { tokens: 5, user_id: 'u1', team: 'red' } },
        { customer: 'c', transactionId: 'b', timestampMs: hour + 3_599_999, properties: { tokens: '7', user_id: 'u2', team: 'red' } },
        { customer: 'c', transactionId: 'c', timestampMs: hour + 3_600_000, properties: { tokens: 1, user_id: 'u1', team: 'red' } },
      ]),
    );
    const sum = folded.rollups.filter((row) => row.metricId === 'm-SUM').map((row) => `${row.groupKey.join('+')}|${row.groupValues.join('+')}|${row.hourMs - hour}|${row.eventCount}|${row.valueSum.toFixed()}`);
    expect(sum.sort()).toEqual(['|' + '|0|2|12', '||3600000|1|1', 'team+user_id|red+u1|0|1|5', 'team+user_id|red+u1|3600000|1|1', 'team+user_id|red+u2|0|1|7', 'user_id|u1|0|1|5', 'user_id|u1|3600000|1|1', 'user_id|u2|0|1|7'].sort());
    const latest = folded.rollups.find((row) => row.metricId === 'm-LATEST' && row.hourMs === hour)!;
    expect([latest.latest?.value.toFixed(), latest.latest?.transactionId, latest.valueMax?.toFixed()]).toEqual(['7', 'b', '7']);
    expect(folded.distinctValues.filter((row) => row.hourMs === hour).map((row) => `${row.groupValues.join()}:${row.value}`).sort()).toEqual([':u1', ':u2', 'red:u1', 'red:u2']);
    // Rows come in key order: the order every writer upserts in.
    expect(folded.rollups.map(rollupKey)).toEqual([...folded.rollups].sort(compareRollupKeys).map(rollupKey));
    expect(new Set(folded.rollups.map(rollupKey)).size).toBe(folded.rollups.length);
  });

  it('gives the same rollups for a set of events in any order and any split into batches', () => {
    const hour = Date.UTC(2024, 4, 10, 10);
    const property = fc.record(
      {
        tokens: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom('0.1', '0.2', '123456789012345.123456789012345', '-1e15', '1e-30', 'n/a')),
        user_id: fc.constantFrom('u1', 'u2', 'u3', 7),
        team: fc.constantFrom('red', 'blue'),
      },
      { requiredKeys: [] },
    );
    const events = fc
      .uniqueArray(
        fc.record({
          customer: fc.constantFrom('c1', 'c2'),
          transactionId: fc.string({ minLength: 1, maxLength: 3, unit: 'grapheme' }),
          // Few distinct instants, so that LATEST often breaks ties by transaction id.
          timestampMs: fc.integer({ min: 0, max: 7 }).map((step) => hour + step * 1_200_000),
          properties: property,
        }),
        { selector: (event) => event.transactionId, maxLength: 40 },
      )
      .map(matched);
    fc.assert(
      fc.property(events, fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.nat()), (all, cuts, order) => {
        const whole = foldRollups(all);
        // Shuffle deterministically by `order`, then cut into batches at `cuts`.
        const shuffled = [...all];
        order.forEach((n, i) => {
          const j = n % shuffled.length;
          if (shuffled.length > 0) [shuffled[i % shuffled.length], shuffled[j]] = [shuffled[j]!, shuffled[i % shuffled.length]!];
        });
        const bounds = [...new Set(cuts.map((cut) => cut % (shuffled.length + 1)))].sort((a, b) => a - b);
        const batches = [0, ...bounds, shuffled.length].slice(1).map((end, i, ends) => shuffled.slice(i === 0 ? 0 : ends[i - 1], end));
        const stored = new Map<string, Rollup>();
        const distinct = new Map<string, DistinctValue>();
        for (const batch of batches) {
          const folded = foldRollups(batch);
          for (const row of folded.rollups) {
            const key = rollupKey(row);
            const before = stored.get(key);
            stored.set(key, before ? mergeRollup(before, row) : row);
          }
          for (const row of folded.distinctValues) distinct.set(`${rollupKey(row)}\u0000${row.value}`, row);
        }
        expect(comparable([...stored.values()].sort(compareRollupKeys))).toEqual(comparable(whole.rollups));
        expect([...distinct.keys()].sort()).toEqual(whole.distinctValues.map((row) => `${rollupKey(row)}\u0000${row.value}`).sort());
      }),
      { numRuns: 300 },
    );
  });
});
