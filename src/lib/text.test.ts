import { describe, expect, it } from 'vitest';
import { text, truncate } from './text.js';

describe('text', () => {
  it('refuses the NUL character, which PostgreSQL cannot store', () => {
    expect(text().safeParse('fine').success).toBe(true);
    expect(text().safeParse('a\u0000b').error?.issues[0]?.message).toMatch(/NUL/);
  });

  it('truncates by characters, never splitting a surrogate pair', () => {
    expect(truncate('ab😀cd', 3)).toBe('ab😀');
    expect(truncate('abc', 5)).toBe('abc');
    expect(truncate('😀😀', 1)).toBe('😀');
  });
});
