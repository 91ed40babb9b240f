import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium as the browser tests start it (`test/helpers/browser.ts`: Debian's Chromium
 * through playwright-core, a devDependency), or why it cannot start.
 */
export async function launchBrowser(): Promise<{ browser: Browser } | { reason: string }> {
  if (!existsSync(CHROMIUM)) return { reason: `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)` };
  let helper: typeof import('../../test/helpers/browser.js');
  try {
    helper = await import('../../test/helpers/browser.js');
  } catch (error) {
    return { reason: `playwright-core cannot be imported (npm ci installs it with the devDependencies): ${(error as Error).message}` };
  }
  return { browser: await helper.launchBrowser() };
}
