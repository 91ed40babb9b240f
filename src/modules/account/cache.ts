import { nextSequence } from '../../lib/processSequence.js';
import { floorToDay, floorToHour, HOUR_MS } from '../../lib/time.js';

/**
 * The computed-account cache of one process. An entry holds a customer's terms (contracts,
 * grants, entries, the catalog its open periods are rated with) and the account computed from
 * them, each stamped with the change counter read when its load began. A change to the
 * customer's terms, to its usage, or to its tenant's catalog is stamped with the next count, so a
 * load that raced a change is never kept. Terms also hold only until the instant the account
 * could change by time alone (`validUntil`: the next hour, or an earlier instant the terms name).
 *
 * Usage is kept apart, per customer and set of usage windows, as read per day: new usage marks it
 * stale from the UTC day of the earliest hour it changed, and the next read reads only the days
 * from there on (usually today's hours), keeping the rest. New usage this process committed comes
 * with what it added to the rollups: usage read before that commit began to commit takes it in
 * with no read (`extend`).
 */

interface Kept<T> {
  since: number;
  value: Promise<T>;
}

interface Entry<Terms, Account> {
  terms?: Kept<Terms> & { loadedAt: number; validUntil: number };
  account?: Kept<Account> & { computed?: Account };
  /** The last account computed from these terms before new usage dropped it: the next one may reuse what did not change (`account()`). */
  previous?: Account;
}

interface KeptUsage<Usage, Added> {
  value: Promise<Usage>;
  /** Usage changed from this instant on since `value` was read (or while it was being read); null when it is up to date. */
  staleFrom: number | null;
  /** `value` once read, and the process sequence (`nextSequence`) taken then: a commit whose sequence is later is not in it. */
  read?: { usage: Usage; sequence: number };
  /** What commits of this process added since `value` was read (from the earliest hour `since` on, `size` rows in all), to put in at the next read. */
  pending?: { since: number; added: Added[]; size: number } | undefined;
  /** Puts what commits added into the usage as read (undefined: only a read can say). */
  extend?: Extend<Usage, Added> | undefined;
}

/** `previous` with what commits added from `since` on, or undefined when it must be read again. */
export type Extend<Usage, Added> = (previous: Usage, added: readonly Added[], since: Date) => Usage | undefined;

/** How many sets of usage windows are kept per customer (the account's, and the dashboard's per day, per user, per team). */
const MAX_WINDOWS_PER_CUSTOMER = 8;

/**
 * How many commits, and rows in all, a kept usage holds for its next read: past either (a customer
 * ingesting and seldom read), they are put in at once, so that what is held stays the usage itself.
 */
const MAX_PENDING_COMMITS = 32;
const MAX_PENDING_ROWS = 256;

/** How many customers' accounts one process keeps; the least recently read go first. */
const MAX_ENTRIES = 10_000;
/** How many changes are remembered before the cache starts over. */
const MAX_CHANGES = 200_000;

export class AccountCache<Terms, Account, Usage, Added = never> {
  readonly #entries = new Map<string, Entry<Terms, Account>>();
  /** Per customer, per set of windows read (the same windows read the same rows). */
  readonly #usage = new Map<string, Map<string, KeptUsage<Usage, Added>>>();
  /** Per customer, the count of its last terms change and of its last usage change. */
  readonly #changes = new Map<string, { terms: number; usage: number }>();
  readonly #tenantChanges = new Map<string, number>();
  #counter = 0;

  /**
   * The customer's terms as of `now`: the kept ones while valid, else `load()`'s, kept until the
   * next hour or `validUntil(terms)`, whichever is first.
   */
  terms(tenantId: string, customerId: string, now: Date, load: () => Promise<Terms>, validUntil: (terms: Terms) => Date | null): Promise<Terms> {
    const key = keyOf(tenantId, customerId);
    const entry = this.#touch(key);
    const at = now.getTime();
    const kept = entry.terms;
    if (kept && this.#termsFresh(key, kept.since) && kept.loadedAt <= at && at < kept.validUntil) return kept.value;
    const value = load();
    const stored = { since: ++this.#counter, loadedAt: at, validUntil: nextHour(at), value };
    entry.terms = stored;
    entry.account = undefined;
    entry.previous = undefined;
    value.then(
      (terms) => {
        const until = validUntil(terms);
        if (until) stored.validUntil = Math.min(stored.validUntil, until.getTime());
      },
      () => {
        if (entry.terms === stored) entry.terms = undefined;
      },
    );
    return value;
  }

  /**
   * The account computed from `terms` (as `terms()` returned them): the kept one while its usage
   * did not change, else `compute()`'s, given the account last computed from the same terms
   * before new usage dropped it (its caller checks that it was derived from the same plan).
   */
  account(tenantId: string, customerId: string, terms: Promise<Terms>, compute: (previous: Account | undefined) => Promise<Account>): Promise<Account> {
    const key = keyOf(tenantId, customerId);
    const entry = this.#touch(key);
    const kept = entry.account;
    const current = entry.terms?.value === terms;
    if (kept && current && (this.#changes.get(key)?.usage ?? 0) < kept.since) return kept.value;
    const stored: Kept<Account> & { computed?: Account } = { since: ++this.#counter, value: compute(current ? entry.previous : undefined) };
    if (current) entry.account = stored;
    stored.value.then(
      (account) => {
        stored.computed = account;
        // Kept in its stead, the previous one is needed no longer.
        if (entry.account === stored) entry.previous = undefined;
      },
      () => {
        if (entry.account === stored) entry.account = undefined;
      },
    );
    return stored.value;
  }

  /**
   * The customer's usage over `windows`: the kept read when up to date; brought up to date by
   * `load(readFrom)` from where `readFromOf` says the kept read must be read again (given the
   * instant it is stale from) and `merge` when the windows are the same; else `load(undefined)` whole.
   */
  usage(
    tenantId: string,
    customerId: string,
    windows: string,
    load: (readFrom: Date | undefined) => Promise<Usage>,
    merge: (previous: Usage, fresh: Usage, readFrom: Date) => Usage,
    readFromOf: (previous: Usage, staleFrom: Date) => Date = (_previous, staleFrom) => floorToDay(staleFrom),
    extend?: Extend<Usage, Added>,
  ): Promise<Usage> {
    const key = keyOf(tenantId, customerId);
    let customer = this.#usage.get(key);
    if (customer) this.#usage.delete(key);
    else customer = new Map();
    this.#usage.set(key, customer);
    if (this.#usage.size > MAX_ENTRIES) this.#usage.delete(this.#usage.keys().next().value!);
    const kept = customer.get(windows);
    if (kept) customer.delete(windows);
    if (kept && kept.staleFrom === null) {
      // The caller's own way to put commits in (the same windows); kept for commits that come before the next read.
      if (extend) kept.extend = extend;
      if (kept.pending) putInPending(kept);
      if (kept.staleFrom === null) {
        customer.set(windows, kept);
        return kept.value;
      }
    }
    let value: Promise<Usage>;
    if (kept) {
      const staleFrom = new Date(kept.staleFrom!);
      value = kept.value.then(async (before) => {
        const readFrom = readFromOf(before, staleFrom);
        return merge(before, await load(readFrom), readFrom);
      });
    } else {
      value = load(undefined);
    }
    const stored: KeptUsage<Usage, Added> = { value, staleFrom: null, extend };
    customer.set(windows, stored);
    if (customer.size > MAX_WINDOWS_PER_CUSTOMER) customer.delete(customer.keys().next().value!);
    const kin = customer;
    value.then(
      // Taken once the rows are here: a commit that took its sequence before this may be in them; one after cannot.
      (usage) => (stored.read = { usage, sequence: nextSequence() }),
      () => {
        if (kin.get(windows) === stored) kin.delete(windows);
      },
    );
    return value;
  }

  /** The customer's contracts, grants or entries changed: terms and account load again. */
  termsChanged(tenantId: string, customerId: string): void {
    const key = keyOf(tenantId, customerId);
    this.#changed(key).terms = ++this.#counter;
    this.#entries.delete(key);
  }

  /**
   * The customer has new usage, in the hours from `since` on (when known): its account is computed
   * again from its kept terms, and its usage read again from `since`'s day (whole when unknown) —
   * unless `added` says what a commit of this process added (its rows, and the sequence taken just
   * before it committed) and the kept usage was read before that sequence: then the usage is
   * extended with it, and nothing is read.
   */
  usageChanged(tenantId: string, customerId: string, since?: Date, added?: { sequence: number; rows: Added; size: number }): void {
    const key = keyOf(tenantId, customerId);
    this.#changed(key).usage = ++this.#counter;
    const entry = this.#entries.get(key);
    if (entry) {
      entry.previous = entry.account?.computed ?? entry.previous;
      entry.account = undefined;
    }
    const customer = this.#usage.get(key);
    if (!customer) return;
    if (since === undefined) {
      this.#usage.delete(key);
      return;
    }
    for (const usage of customer.values()) {
      const { read, pending } = usage;
      if (added && usage.extend && usage.staleFrom === null && read && read.sequence < added.sequence) {
        // Read before this commit: what it added is put in at the next read, with no read.
        const held = { since: Math.min(pending?.since ?? Infinity, since.getTime()), added: [...(pending?.added ?? []), added.rows], size: (pending?.size ?? 0) + added.size };
        usage.pending = held;
        if (held.added.length >= MAX_PENDING_COMMITS || held.size >= MAX_PENDING_ROWS) putInPending(usage);
      } else {
        usage.staleFrom = Math.min(usage.staleFrom ?? Infinity, pending?.since ?? Infinity, since.getTime());
        usage.pending = undefined;
      }
    }
  }

  /** The tenant's catalog (rates, products, metrics, pricing units) changed: each of its customers loads again. */
  tenantChanged(tenantId: string): void {
    const tenant = tenantId.toLowerCase();
    this.#tenantChanges.set(tenant, ++this.#counter);
    for (const key of [...this.#entries.keys()]) if (key.startsWith(`${tenant} `)) this.#entries.delete(key);
    for (const key of [...this.#usage.keys()]) if (key.startsWith(`${tenant} `)) this.#usage.delete(key);
  }

  /** A number that moves whenever something the customer's account derives from changes (its terms, its usage, its tenant's catalog, or anything). */
  version(tenantId: string, customerId: string): number {
    const key = keyOf(tenantId, customerId);
    const changes = this.#changes.get(key);
    return Math.max(changes?.terms ?? 0, changes?.usage ?? 0, this.#tenantChanges.get(key.slice(0, key.indexOf(' '))) ?? 0, this.#everythingChangedAt);
  }

  /** Anything may have changed (notifications may have been missed): everything loads again. */
  clear(): void {
    this.#entries.clear();
    this.#usage.clear();
    this.#changes.clear();
    this.#tenantChanges.clear();
    // Loads under way began before now: none of them is kept.
    this.#everythingChangedAt = ++this.#counter;
  }

  #everythingChangedAt = 0;

  #termsFresh(key: string, since: number): boolean {
    const tenant = key.slice(0, key.indexOf(' '));
    return (this.#changes.get(key)?.terms ?? 0) < since && (this.#tenantChanges.get(tenant) ?? 0) < since && this.#everythingChangedAt < since;
  }

  #changed(key: string): { terms: number; usage: number } {
    if (this.#changes.size >= MAX_CHANGES) this.clear();
    let changes = this.#changes.get(key);
    if (!changes) this.#changes.set(key, (changes = { terms: 0, usage: 0 }));
    return changes;
  }

  #touch(key: string): Entry<Terms, Account> {
    let entry = this.#entries.get(key);
    if (entry) this.#entries.delete(key);
    else entry = {};
    this.#entries.set(key, entry);
    if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    return entry;
  }
}

/**
 * Puts what commits added into a kept usage that was read (`pending`, `read` and `extend` set):
 * the usage as read becomes the usage with them; when the extension cannot say (or fails), the
 * usage is stale from where they changed it, to be read again.
 */
function putInPending<Usage, Added>(usage: KeptUsage<Usage, Added>): void {
  const { pending, read, extend } = usage;
  usage.pending = undefined;
  if (!pending) return;
  let extended: Usage | undefined;
  try {
    extended = read && extend ? extend(read.usage, pending.added, new Date(pending.since)) : undefined;
  } catch {
    extended = undefined;
  }
  if (extended === undefined) {
    usage.staleFrom = Math.min(usage.staleFrom ?? Infinity, pending.since);
    return;
  }
  // Still as of the same read: a later commit is not in it.
  usage.value = Promise.resolve(extended);
  usage.read = { usage: extended, sequence: read!.sequence };
}

/** Ids arrive as requests spelled them: one spelling per customer. */
function keyOf(tenantId: string, customerId: string): string {
  return `${tenantId.toLowerCase()} ${customerId.toLowerCase()}`;
}


function nextHour(at: number): number {
  return floorToHour(new Date(at)).getTime() + HOUR_MS;
}
