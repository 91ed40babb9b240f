import Metronome from '@metronome/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.each(ENGINES)('customers through the SDK on %s', (engine) => {
  let server: TestServer;
  let client: Metronome;

  beforeAll(async () => {
    server = await startTestServer({ engine, clockStart: '2024-03-01T00:00:00Z' });
    client = server.client();
  });
  afterAll(() => server.stop());

  it('creates and retrieves a customer with aliases and custom fields', async () => {
    const created = await client.v1.customers.create({
      name: 'Acme AI',
      ingest_aliases: ['acme-ai', 'acme-ai@example.com'],
      custom_fields: { plan: 'team' },
    });
    expect(created.data).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      external_id: 'acme-ai',
      name: 'Acme AI',
      ingest_aliases: ['acme-ai', 'acme-ai@example.com'],
      custom_fields: { plan: 'team' },
    });

    const fetched = await client.v1.customers.retrieve({ customer_id: created.data.id });
    expect(fetched.data).toEqual({
      ...created.data,
      created_at: '2024-03-01T00:00:00.000Z',
      updated_at: '2024-03-01T00:00:00.000Z',
      archived_at: null,
      customer_config: { salesforce_account_id: null, leave_stripe_invoices_in_draft: null },
    });
  });

  it('reports the id as external_id when there is no alias', async () => {
    const created = await client.v1.customers.create({ name: 'No alias' });
    expect(created.data.external_id).toBe(created.data.id);
  });

  it('treats external_id as the first alias, and truncates long names to 160 characters', async () => {
    const created = await client.v1.customers.create({
      name: 'x'.repeat(200),
      external_id: 'legacy-7',
      ingest_aliases: ['new-7', 'legacy-7'],
    });
    expect(created.data.external_id).toBe('legacy-7');
    expect(created.data.ingest_aliases).toEqual(['legacy-7', 'new-7']);
    expect(created.data.name).toHaveLength(160);
    // Truncation counts characters, so an emoji at the boundary is kept whole or dropped whole.
    const emoji = await client.v1.customers.create({ name: `${'y'.repeat(159)}😀😀` });
    expect(emoji.data.name).toBe(`${'y'.repeat(159)}😀`);
    const byAlias = await client.v1.customers.list({ ingest_alias: 'legacy-7' });
    expect(byAlias.data.map((c) => c.id)).toEqual([created.data.id]);
  });

  it('lists across several pages in creation order, each customer once', async () => {
    const tenantKey = await server.keyFor(`pages-${engine}`);
    const paging = server.client(tenantKey);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await paging.v1.customers.create({ name: `Customer ${i}` })).data.id);

    const first = await paging.v1.customers.list({ limit: 3 });
    expect(first.data.map((c) => c.id)).toEqual(ids.slice(0, 3));
    expect(first.next_page).toBeTruthy();
    const second = await paging.v1.customers.list({ limit: 3, next_page: first.next_page });
    expect(second.data.map((c) => c.id)).toEqual(ids.slice(3, 6));
    const third = await paging.v1.customers.list({ limit: 3, next_page: second.next_page });
    expect(third.data.map((c) => c.id)).toEqual(ids.slice(6));
    expect(third.next_page).toBeFalsy();

    // The SDK's own auto-pagination walks the same pages.
    const walked: string[] = [];
    for await (const customer of paging.v1.customers.list({ limit: 2 })) walked.push(customer.id);
    expect(walked).toEqual(ids);
  });

  it('filters by customer_ids', async () => {
    const a = await client.v1.customers.create({ name: 'Filter A' });
    const b = await client.v1.customers.create({ name: 'Filter B' });
    await client.v1.customers.create({ name: 'Filter C' });
    const listed = await client.v1.customers.list({ customer_ids: [a.data.id, b.data.id] });
    expect(listed.data.map((c) => c.name)).toEqual(['Filter A', 'Filter B']);
  });

  it('archives a customer: it leaves the list, shows archived_at, and keeps its aliases reserved', async () => {
    const created = await client.v1.customers.create({ name: 'Leaving', ingest_aliases: ['leaving-co'] });
    await expect(client.v1.customers.archive({ id: created.data.id })).resolves.toEqual({ data: { id: created.data.id } });

    const live = await client.v1.customers.list({ ingest_alias: 'leaving-co' });
    expect(live.data).toEqual([]);
    const archived = await client.v1.customers.list({ only_archived: true, ingest_alias: 'leaving-co' });
    expect(archived.data.map((c) => c.id)).toEqual([created.data.id]);
    const fetched = await client.v1.customers.retrieve({ customer_id: created.data.id });
    expect(fetched.data.archived_at).toBe('2024-03-01T00:00:00.000Z');
    expect(fetched.data.ingest_aliases).toEqual(['leaving-co']);

    // As in Metronome, an archived customer's aliases stay its own: remove them before archiving to reuse them.
    await expect(client.v1.customers.create({ name: 'Successor', ingest_aliases: ['leaving-co'] })).rejects.toMatchObject({ status: 409 });
    const handover = await client.v1.customers.create({ name: 'Handing over', ingest_aliases: ['handed-over'] });
    await client.v1.customers.setIngestAliases({ customer_id: handover.data.id, ingest_aliases: [] });
    await client.v1.customers.archive({ id: handover.data.id });
    await expect(client.v1.customers.create({ name: 'Heir', ingest_aliases: ['handed-over'] })).resolves.toBeTruthy();
    // Archiving again changes nothing.
    await expect(client.v1.customers.archive({ id: created.data.id })).resolves.toEqual({ data: { id: created.data.id } });
    await expect(client.v1.customers.setIngestAliases({ customer_id: created.data.id, ingest_aliases: ['x'] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('customer_id'),
    });
  });

  it('replaces aliases with setIngestAliases and renames with setName', async () => {
    const created = await client.v1.customers.create({ name: 'Renamed', ingest_aliases: ['old-alias'] });
    await client.v1.customers.setIngestAliases({ customer_id: created.data.id, ingest_aliases: ['alias-1', 'alias-2'] });
    const renamed = await client.v1.customers.setName({ customer_id: created.data.id, name: 'Renamed Inc' });
    expect(renamed.data).toMatchObject({ name: 'Renamed Inc', ingest_aliases: ['alias-1', 'alias-2'], external_id: 'alias-1' });
    expect((await client.v1.customers.list({ ingest_alias: 'old-alias' })).data).toEqual([]);
    // The freed alias can be taken by someone else.
    await expect(client.v1.customers.create({ name: 'Taker', ingest_aliases: ['old-alias'] })).resolves.toBeTruthy();
  });

  it('refuses an alias another live customer uses, with a 409 naming it', async () => {
    const owner = await client.v1.customers.create({ name: 'Owner', ingest_aliases: ['taken-alias'] });
    const other = await client.v1.customers.create({ name: 'Other' });
    const attempts = [
      () => client.v1.customers.create({ name: 'Copycat', ingest_aliases: ['fresh', 'taken-alias'] }),
      () => client.v1.customers.create({ name: 'Copycat', external_id: 'taken-alias' }),
      () => client.v1.customers.setIngestAliases({ customer_id: other.data.id, ingest_aliases: ['taken-alias'] }),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => expect.fail('the alias should have been refused'),
        (rejection: { status: number; message: string; headers: Headers }) => rejection,
      );
      expect(error.status).toBe(409);
      expect(error.message).toContain(`"taken-alias" (customer ${owner.data.id})`);
      // A retry cannot help, and the SDK is told so (it retries other 409s).
      expect(error.headers.get('x-should-retry')).toBe('false');
    }
    // Nothing was half-stored: "fresh" was not claimed by the failed create.
    await expect(client.v1.customers.create({ name: 'Fresh', ingest_aliases: ['fresh'] })).resolves.toBeTruthy();
    // A customer may keep its own alias when setting its aliases again.
    await client.v1.customers.setIngestAliases({ customer_id: owner.data.id, ingest_aliases: ['taken-alias', 'more'] });
    expect((await client.v1.customers.retrieve({ customer_id: owner.data.id })).data.ingest_aliases).toEqual(['taken-alias', 'more']);
  });

  it('lets exactly one of many concurrent creates claim the same alias', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => client.v1.customers.create({ name: `Racer ${i}`, ingest_aliases: ['contested'] })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(5);
    for (const loss of lost) expect(loss.reason).toMatchObject({ status: 409 });
    expect((await client.v1.customers.list({ ingest_alias: 'contested' })).data).toHaveLength(1);
  });

  it('refuses text PostgreSQL cannot store exactly (NUL, lone surrogates) with a 400 naming the field', async () => {
    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [() => client.v1.customers.create({ name: 'a\u0000b' }), /^name: must not contain the NUL/],
      [() => client.v1.customers.create({ name: 'a', ingest_aliases: ['x\u0000'] }), /^ingest_aliases\.0: must not contain the NUL/],
      [() => client.v1.customers.create({ name: 'a', custom_fields: { k: 'v\u0000' } }), /^custom_fields\.k: must not contain the NUL/],
      [() => client.v1.customers.list({ ingest_alias: 'a\u0000b' }), /^ingest_alias: must not contain the NUL/],
      [() => client.v1.customers.create({ name: 'a', ingest_aliases: [' acme '] }), /^ingest_aliases\.0: must not start or end with whitespace/],
      [() => client.v1.customers.create({ name: 'a', ingest_aliases: ['\ud800'] }), /^ingest_aliases\.0: must be valid Unicode/],
      [() => client.v1.customers.create({ name: 'a', custom_fields: { k: '\ud800' } }), /^custom_fields\.k: must be valid Unicode/],
      [() => client.v1.customers.create({ name: 'a', custom_fields: { '\udc00': 'v' } }), /must be valid Unicode/],
      [() => client.v1.customers.create({ name: 'a', custom_fields: { '': 'x' } }), /^custom_fields: keys must be 1 to 256 characters/],
      [() => client.v1.customers.create({ name: 'a', custom_fields: { k: 'v'.repeat(4097) } }), /^custom_fields\.k: must be at most 4096/],
      [
        () => client.v1.customers.create({ name: 'a', custom_fields: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v'])) }),
        /^custom_fields: at most 100 fields/,
      ],
    ];
    for (const [attempt, message] of cases) {
      await expect(attempt()).rejects.toMatchObject({ status: 400, error: { message: expect.stringMatching(message) } });
    }
  });

  it('answers 404 for an unknown or malformed customer id', async () => {
    for (const id of ['0190f1e2-0000-7000-8000-000000000000', 'not-a-uuid']) {
      await expect(client.v1.customers.retrieve({ customer_id: id })).rejects.toMatchObject({ status: 404, message: expect.stringContaining(id) });
      await expect(client.v1.customers.archive({ id })).rejects.toMatchObject({ status: 404 });
      await expect(client.v1.customers.setName({ customer_id: id, name: 'x' })).rejects.toMatchObject({ status: 404 });
    }
  });
});

describe('concurrent alias claims on PostgreSQL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ engine: 'postgres' });
  });
  afterAll(() => server.stop());

  it('never deadlock when customers claim the same aliases in opposite orders: every loser is an alias conflict', async () => {
    const client = server.client();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => [
        client.v1.customers.create({ name: `Forward ${i}`, ingest_aliases: [`p-${i}`, `q-${i}`, `r-${i}`] }),
        client.v1.customers.create({ name: `Backward ${i}`, ingest_aliases: [`r-${i}`, `q-${i}`, `p-${i}`] }),
      ]).flat(),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      // A deadlock victim would be a retryable 409 ("collided with a concurrent change"); an alias
      // conflict is final and says which alias.
      const error = result.reason as { status: number; message: string; headers: Headers };
      expect(error.status).toBe(409);
      expect(error.message).toMatch(/ingest_aliases: (already used by another customer|an alias was claimed)/);
      expect(error.headers.get('x-should-retry')).toBe('false');
    }
  });
});
