import { existsSync } from 'node:fs';
import { describeStorage, type Config } from '../config.js';

/** Why the demo could not make a key by itself, with what to do instead. */
export class NoKeyError extends Error {}

function whatToDo(): string {
  return [
    'Pass a key in one of these ways:',
    `  - the key \`npm start\` printed on its first start:  npx allot demo --key allot_…   (or ALLOT_KEY=allot_… npx allot demo)`,
    '  - or stop the server, run `npx allot keys create --tenant default`, start the server again and pass the key it printed.',
  ].join('\n');
}

/**
 * Makes an API key for the `default` tenant straight in the database, as `allot keys create`
 * does, for when the demo is given none. That works on PostgreSQL whether or not the server runs;
 * on PGlite only while no server holds the data directory, and that case gets a message that says
 * what to do instead.
 */
export async function createDemoKey(config: Config, baseUrl: string): Promise<string> {
  if (!config.databaseUrl) {
    if (!existsSync(config.dataDir)) {
      throw new NoKeyError(
        `No API key given (--key or ALLOT_KEY), and there is no PGlite database in ${config.dataDir} to create one in ` +
          `(the server at ${baseUrl} keeps its data elsewhere: run the demo from the server's directory, or set DATABASE_URL or ALLOT_DATA_DIR as the server has them).\n` +
          whatToDo(),
      );
    }
  }
  // Loaded only here: with a key given, the demo needs none of the server's code.
  const [{ openDatabase }, { migrate }, { systemClock }, { createApiKey, DEFAULT_TENANT, ensureTenant }] = await Promise.all([
    import('../lib/db/open.js'),
    import('../lib/db/migrate.js'),
    import('../lib/clock.js'),
    import('../modules/tenants/service.js'),
  ]);
  let db;
  try {
    db = await openDatabase(config);
  } catch (error) {
    const message = (error as Error).message;
    if (/in use by process/.test(message)) {
      throw new NoKeyError(
        `No API key given (--key or ALLOT_KEY). The demo could create one, but the server holds the PGlite database in ${config.dataDir}, ` +
          'and PGlite lets one process open it at a time.\n' +
          whatToDo() +
          '\nOn PostgreSQL (DATABASE_URL set for the server and the demo), the demo creates its key by itself while the server runs.',
      );
    }
    throw new NoKeyError(`No API key given (--key or ALLOT_KEY), and the demo could not open ${describeStorage(config)} to create one: ${message}\n${whatToDo()}`);
  }
  try {
    await migrate(db);
    const context = { db, clock: systemClock };
    const { tenant } = await ensureTenant(context, DEFAULT_TENANT);
    return (await createApiKey(context, { tenantId: tenant.id, name: 'created by allot demo' })).key;
  } finally {
    await db.close();
  }
}
