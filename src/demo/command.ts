import type { Config } from '../config.js';
import { ApiError, httpApi } from './api.js';
import { createDemoKey } from './apiKey.js';
import { formatDemo } from './print.js';
import { loadDemo } from './loadDemo.js';

export interface DemoFlags {
  url: string;
  key?: string;
  company: string;
  users: string;
  events: string;
}

function count(name: string, value: string, { min, max }: { min: number; max: number }): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return parsed;
}

/**
 * `allot demo`: loads an AI company into a running server and prints what it made. The key is
 * `--key`, else `ALLOT_KEY`, else one the demo creates in the server's database when it can open
 * it (see `createDemoKey`).
 */
export async function demoCommand(flags: DemoFlags, env: NodeJS.ProcessEnv, config: () => Config): Promise<string> {
  const users = count('users', flags.users, { min: 1, max: 10_000 });
  const events = count('events', flags.events, { min: 0, max: 1_000_000 });
  const baseUrl = flags.url.replace(/\/+$/, '');
  try {
    await fetch(`${baseUrl}/healthz`);
  } catch {
    throw new Error(`Cannot reach Allot at ${baseUrl}. Start it in another terminal with \`npm start\` (or pass --url).`);
  }

  const given = flags.key ?? (env.ALLOT_KEY || undefined);
  const key = given ?? (await createDemoKey(config(), baseUrl));
  const api = httpApi(baseUrl, key);
  try {
    await api.get('/v1/customers?limit=1');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      throw new Error(
        given
          ? `The server at ${baseUrl} does not accept the key given (401): check --key or ALLOT_KEY.`
          : `The demo created a key in its database, but the server at ${baseUrl} does not accept it (401): the server uses another database. ` +
              'Run the demo with the same DATABASE_URL / ALLOT_DATA_DIR as the server, or pass --key.',
      );
    }
    throw error;
  }

  const summary = await loadDemo(api, {
    company: flags.company,
    users,
    events,
    seats: 100,
    creditsPerSeat: 50,
    now: new Date(),
    progress: (message) => process.stderr.write(`${message}\n`),
  });
  return formatDemo(summary, { baseUrl, key, keyCreated: given === undefined });
}
