import { describe, expect, it } from 'vitest';
import { Decimal } from '../../lib/money.js';
import { parseSeatTableQuery, seatTablePage, type SeatRow } from './seatTable.js';

const AI = 'ai-credits';
const USD = 'usd';

const seat = (seatId: string, amounts: Record<string, [string, string]>, assigned = true): SeatRow => ({
  contractId: 'k1',
  seatId,
  assigned,
  balances: Object.entries(amounts).map(([creditTypeId, [starting, remaining]]) => ({
    creditTypeId,
    starting: new Decimal(starting),
    remaining: new Decimal(remaining),
    used: new Decimal(starting).sub(remaining),
  })),
});

const rows = [seat('cy', { [AI]: ['50', '50'] }), seat('ada', { [AI]: ['50', '0'] }), seat('bob', { [AI]: ['50', '49.99999999999999999999'], [USD]: ['100', '1'] }), seat('dan', {}, false)];
const ids = (page: ReturnType<typeof seatTablePage>) => page.rows.map((row) => row.seatId);
const query = (params: Record<string, string>) => parseSeatTableQuery(params);

describe('the seats table', () => {
  it('sorts by seat id by default, and by an amount as decimals, seats without that unit last either way', () => {
    expect(ids(seatTablePage(rows, query({})))).toEqual(['ada', 'bob', 'cy', 'dan']);
    expect(ids(seatTablePage(rows, query({ seat_sort: 'remaining' })))).toEqual(['ada', 'bob', 'cy', 'dan']);
    expect(ids(seatTablePage(rows, query({ seat_sort: 'remaining', seat_dir: 'desc' })))).toEqual(['cy', 'bob', 'ada', 'dan']);
    expect(ids(seatTablePage(rows, query({ seat_sort: 'used', seat_dir: 'desc' })))).toEqual(['ada', 'bob', 'cy', 'dan']);
    // Sorting by the second unit: only bob holds it.
    const usd = seatTablePage(rows, query({ seat_sort: 'starting', seat_unit: USD, seat_dir: 'desc' }));
    expect(ids(usd)).toEqual(['bob', 'ada', 'cy', 'dan']);
    expect(usd.units).toEqual([AI, USD]);
  });

  it('searches ids ignoring case, and pages what matches, the last page when asked for one past it', () => {
    expect(ids(seatTablePage(rows, query({ seat_q: 'A' })))).toEqual(['ada', 'dan']);
    const many = Array.from({ length: 7 }, (_, i) => seat(`s${i}`, { [AI]: ['1', '1'] }));
    const second = seatTablePage(many, query({ seat_page: '2' }), 3);
    expect([ids(second), second.page, second.pages, second.offset, second.matching]).toEqual([['s3', 's4', 's5'], 2, 3, 3, 7]);
    expect(ids(seatTablePage(many, query({ seat_page: '99' }), 3))).toEqual(['s6']);
  });

  it('refuses a bad query naming every parameter at fault', () => {
    expect(() => query({ seat_sort: 'price', seat_dir: 'up', seat_page: '0', seat_q: 'a\u0000' })).toThrow(
      'seat_q: must not hold control characters; seat_sort: must be one of seat, starting, used, remaining; seat_dir: must be asc or desc; seat_page: must be a page number from 1',
    );
    expect(() => seatTablePage(rows, query({ seat_unit: 'nope' }))).toThrow('seat_unit: no seat holds credits in nope');
  });
});
