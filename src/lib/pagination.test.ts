import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Invalid } from './errors.js';
import { decodeCursor, encodeCursor, toPage } from './pagination.js';

describe('cursor pagination', () => {
  it('decodes every cursor it encodes', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        expect(decodeCursor(encodeCursor(id))).toBe(id);
      }),
    );
  });

  it('rejects a cursor it did not make, naming next_page', () => {
    for (const bad of ['garbage', encodeCursor('not-a-uuid'), Buffer.from('{"after":1}').toString('base64url'), '']) {
      expect(() => decodeCursor(bad)).toThrow(Invalid);
      expect(() => decodeCursor(bad)).toThrow(/^next_page: /);
    }
  });

  it('pages a list into pieces that cover it once, in order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.uuid(), { maxLength: 30 }), fc.integer({ min: 1, max: 10 }), (ids, limit) => {
        const sorted = [...ids].sort().map((id) => ({ id }));
        const seen: string[] = [];
        let after: string | null = null;
        for (;;) {
          const remaining = sorted.filter((row) => after === null || row.id > after).slice(0, limit + 1);
          const page = toPage(remaining, limit);
          seen.push(...page.rows.map((row) => row.id));
          if (!page.nextPage) break;
          after = decodeCursor(page.nextPage);
        }
        expect(seen).toEqual(sorted.map((row) => row.id));
      }),
    );
  });
});
