import { Invalid, Problems } from '../../lib/errors.js';
import { Decimal } from '../../lib/money.js';

/** A seat's own credits in one pricing unit, over the segments running now. */
export interface SeatAmounts {
  creditTypeId: string;
  /** What its segments granted. */
  starting: Decimal;
  /** `starting - remaining`: what the seat's usage drew (and, once a period is over, what expired). */
  used: Decimal;
  remaining: Decimal;
}

/** One seat of a contract's SEAT_BASED subscriptions, as the customer page's seats table lists it. */
export interface SeatRow {
  contractId: string;
  seatId: string;
  /** Assigned now (else removed earlier: it keeps its credit to its period's end). */
  assigned: boolean;
  balances: SeatAmounts[];
}

export const SEAT_SORTS = ['seat', 'starting', 'used', 'remaining'] as const;
export type SeatSort = (typeof SEAT_SORTS)[number];
export type SortDirection = 'asc' | 'desc';

/** What the page's query asks of the table: `seat_q`, `seat_sort`, `seat_dir`, `seat_unit`, `seat_page`. */
export interface SeatTableQuery {
  search: string;
  sort: SeatSort;
  direction: SortDirection;
  /** The pricing unit a numeric column sorts by (the first unit shown when absent). */
  unit: string | undefined;
  page: number;
}

export const SEATS_PER_PAGE = 50;

const single = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);

/** The table's query parameters, each refusal naming its parameter in one 400. */
export function parseSeatTableQuery(query: Record<string, unknown>): SeatTableQuery {
  const problems = new Problems();
  const text = (name: string) => {
    const value = single(query[name]);
    return typeof value === 'string' ? value.trim() : '';
  };
  const search = text('seat_q').slice(0, 200);
  problems.check(!/[\u0000-\u001f\u007f]/.test(search), 'seat_q', 'must not hold control characters');
  const sort = text('seat_sort') || 'seat';
  problems.check((SEAT_SORTS as readonly string[]).includes(sort), 'seat_sort', `must be one of ${SEAT_SORTS.join(', ')}`);
  const direction = text('seat_dir') || 'asc';
  problems.check(direction === 'asc' || direction === 'desc', 'seat_dir', 'must be asc or desc');
  const page = text('seat_page') || '1';
  problems.check(/^[1-9]\d{0,6}$/.test(page), 'seat_page', 'must be a page number from 1');
  problems.throwIfAny();
  return { search, sort: sort as SeatSort, direction: direction as SortDirection, unit: text('seat_unit') || undefined, page: Number(page) };
}

export interface SeatTablePage {
  rows: SeatRow[];
  /** Every pricing unit any seat holds, in the order the columns show them. */
  units: string[];
  /** The unit the numeric columns sort by. */
  unit: string | undefined;
  /** Seats in all, and those matching the search. */
  total: number;
  matching: number;
  /** The page shown (the last one when a later page was asked for), of `pages`. */
  page: number;
  pages: number;
  /** The position of the page's first row among the matching ones (0-based). */
  offset: number;
}

/**
 * The seats table's page: the seats whose id holds `search` (ignoring case), sorted by a column —
 * the seat id, or the starting balance, use or remaining balance in one unit — in either direction,
 * ties and seats holding nothing in that unit (always last) ordered by seat id, then cut into pages
 * of `pageSize`. Decimals are compared as decimals.
 */
export function seatTablePage(all: readonly SeatRow[], query: SeatTableQuery, pageSize = SEATS_PER_PAGE): SeatTablePage {
  const units = [...new Set(all.flatMap((row) => row.balances.map((balance) => balance.creditTypeId)))].sort();
  if (query.unit !== undefined && !units.includes(query.unit)) throw new Invalid('seat_unit', `no seat holds credits in ${query.unit}`);
  const unit = query.unit ?? units[0];
  const needle = query.search.toLowerCase();
  const matching = needle ? all.filter((row) => row.seatId.toLowerCase().includes(needle)) : [...all];
  const sign = query.direction === 'asc' ? 1 : -1;
  const byId = (a: SeatRow, b: SeatRow) => (a.seatId < b.seatId ? -1 : a.seatId > b.seatId ? 1 : a.contractId < b.contractId ? -1 : a.contractId > b.contractId ? 1 : 0);
  const valueOf = (row: SeatRow): Decimal | undefined => {
    const amounts = row.balances.find((balance) => balance.creditTypeId === unit);
    return amounts && (query.sort === 'starting' ? amounts.starting : query.sort === 'used' ? amounts.used : amounts.remaining);
  };
  const sorted =
    query.sort === 'seat'
      ? matching.sort((a, b) => sign * byId(a, b))
      : matching
          .map((row) => ({ row, value: valueOf(row) }))
          .sort((a, b) => {
            if (!a.value || !b.value) return a.value ? -1 : b.value ? 1 : byId(a.row, b.row);
            return sign * a.value.comparedTo(b.value) || byId(a.row, b.row);
          })
          .map(({ row }) => row);
  const pages = Math.max(1, Math.ceil(sorted.length / pageSize));
  const page = Math.min(query.page, pages);
  const offset = (page - 1) * pageSize;
  return { rows: sorted.slice(offset, offset + pageSize), units, unit, total: all.length, matching: sorted.length, page, pages, offset };
}
