import { describe, expect, it } from 'vitest';
import { Invalid } from '../../lib/errors.js';
import { ensureTenant, TENANT_NAME } from './service.js';
import type { ServiceContext } from '../../lib/context.js';

describe('tenant names', () => {
  it('are 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit', () => {
    for (const good of ['acme', 'Acme.eu_2', '0-start', 'a'.repeat(100)]) expect(TENANT_NAME.test(good), good).toBe(true);
    for (const bad of ['', '  spaced  ', '-dash-first', '.dot', 'a'.repeat(101), 'ünïcode', 'two words']) {
      expect(TENANT_NAME.test(bad), bad).toBe(false);
    }
  });

  it('are checked before the database is touched, with the name and the rule in the message', async () => {
    // No database in the context: a refused name must not reach it.
    const context = {} as ServiceContext;
    for (const bad of ['', '  spaced  ', '-dash-first']) {
      const refusal = ensureTenant(context, bad);
      await expect(refusal, bad).rejects.toBeInstanceOf(Invalid);
      await expect(refusal, bad).rejects.toThrow(`"${bad}" is not a tenant name: use 1-100 letters`);
    }
  });
});
